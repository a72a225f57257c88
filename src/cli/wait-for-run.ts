import type { RunView } from '../app/operations.js';
import { AutoflowError } from '../core/errors.js';
import { isUnderway } from '../core/model.js';
import type { ApiClientWithSimulator } from './client.js';
import type { CliContext } from './context.js';
import { StillRunningError } from './errors.js';
import { errorLocation, formatError, formatJson } from './format.js';
import { rideOutOutages, waitAgain } from './server-outage.js';

/** A run ended in another way than `completed`: the command fails. */
export class RunOutcomeError extends AutoflowError {
  constructor(message: string) {
    super('run_outcome', message);
  }
}

export type WaitingClient = Pick<ApiClientWithSimulator, 'url' | 'getRun' | 'waitForRun' | 'getHistory'>;

/**
 * What `run --wait` and `wait` do: waits until the run ends, following continue-as-new, and prints its result on
 * stdout. A run that failed, was cancelled or is stuck is a RunOutcomeError; one still running when `seconds`
 * (--timeout) passed, a StillRunningError (exit 124). A server that goes away meanwhile (restarted, say) is waited
 * for: see rideOutOutages.
 */
export async function waitAndPrintResult(
  client: WaitingClient,
  first: RunView,
  seconds: number | undefined,
  context: CliContext,
): Promise<void> {
  const timeout = seconds === undefined ? undefined : { deadline: Date.now() + seconds * 1000, seconds };
  // Every request of the wait rides out an outage; the quick probe asks whether the server is back.
  const patiently = <T>(runId: string, call: () => Promise<T>): Promise<T> =>
    rideOutOutages(call, () => client.getRun(runId), {
      url: client.url,
      runId,
      timeout,
      note: (line) => context.err(line),
    });
  let run = first;
  for (;;) {
    if (isUnderway(run.status)) {
      const id = run.id;
      run = await patiently(id, () => client.waitForRun(id, (timeout?.deadline ?? Infinity) - Date.now()));
    }
    switch (run.status) {
      case 'completed':
        context.out(formatJson(run.result ?? null));
        return;
      case 'running':
      case 'queued':
        throw new StillRunningError(
          `run ${run.id} is still ${run.status} after ${seconds} s; wait again with ${waitAgain(run.id)}, or see where it is with \`autoflow show ${run.id}\``,
        );
      case 'failed': {
        const location = run.error && errorLocation(run.error);
        throw new RunOutcomeError(
          `run ${run.id} failed: ${run.error ? formatError(run.error, '  ') : 'no error recorded'}${location === undefined ? '' : `\n    ${location}`}`,
        );
      }
      case 'cancelled': {
        // The reason given to `cancel` is in the history, not on the run.
        const id = run.id;
        const requested = (await patiently(id, () => client.getHistory(id))).findLast((event) => event.type === 'cancel_requested');
        const reason = requested?.type === 'cancel_requested' ? requested.reason : undefined;
        throw new RunOutcomeError(`run ${run.id} was cancelled${reason === undefined ? '' : `: ${reason}`}`);
      }
      case 'stuck':
        throw new RunOutcomeError(`run ${run.id} is stuck: ${run.error?.message ?? 'see `autoflow show`'}`);
      case 'continued': {
        const id = run.id;
        const continued = (await patiently(id, () => client.getHistory(id))).findLast((event) => event.type === 'run_continued');
        if (continued?.type !== 'run_continued')
          throw new RunOutcomeError(`run ${id} continued as a new run, but its history does not say which`);
        context.err(`run ${id} continued as ${continued.newRunId}`);
        run = await patiently(continued.newRunId, () => client.getRun(continued.newRunId));
      }
    }
  }
}
