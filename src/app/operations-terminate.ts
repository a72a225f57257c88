/**
 * Terminate, as Temporal's TerminateWorkflowExecution: a run is ended at once, as `cancelled`, without its code or
 * its cleanup running — for a run whose `finally` blocks wait for something that will not come, which a cancel
 * (whose cleanup runs to its end) cannot end. No status of its own: what follows a cancelled run follows it too
 * (its parent gets a CancelledError, its children are asked to cancel), and nothing a run does after its end exists.
 */
import type { Engine } from '../core/engine.js';
import { ConflictError, NotFoundError } from '../core/errors.js';
import { TERMINAL_STATUSES, type HistoryEvent, type RunRecord } from '../core/model.js';
import type { Clock, SecretSource, Store, TaskCommit } from '../core/ports.js';
import { buildTerminalCommit } from '../core/task.js';

/**
 * How often a terminate reads the run again when a step of it committed between the read and the terminate's own
 * commit; a run advancing that fast stops being able to commit once it is seized, so a second try nearly always ends it.
 */
const MAX_ATTEMPTS = 5;

const terminal = new Set(TERMINAL_STATUSES);

/**
 * The children a run started and has not heard the end of: asked to cancel with it, as a cancelled run's children
 * are. A cancel's list comes from the sandbox; a terminate runs no code, so it comes from the history. The store
 * cancels only those whose parent is this run and which still run (a failed start's id may name another run).
 */
export function unfinishedChildren(history: readonly HistoryEvent[]): string[] {
  const started = new Map<number, string>();
  for (const event of history) {
    if (event.type === 'child_started') started.set(event.step, event.childId);
    else if (event.type === 'child_completed' || event.type === 'child_failed') started.delete(event.step);
  }
  return [...started.values()];
}

/**
 * Who ended the run and why: `terminated by alice: <reason>` in its error; in its history, whose `cancel_requested`
 * records `by` (the web UI's user) on its own, without the name. Through the API (and the CLI) there is no user.
 */
function terminationText(reason: string | undefined, by: string | undefined, withName: boolean): string {
  const who = by === undefined ? ' through the API' : withName ? ` by ${by}` : '';
  return `terminated${who}${reason === undefined || reason === '' ? '' : `: ${reason}`}`;
}

/**
 * The commit that terminates `run`: the request as a `cancel_requested` (with `by`, and the reason saying it was a
 * terminate), then a workflow task that ends the run `cancelled`. A terminal status drops its calls, timers, waits
 * and mail and cancels its open forms and approvals in the same transaction; its parent is told and its children
 * are asked to cancel there too.
 */
export function terminateCommit(
  run: RunRecord,
  history: readonly HistoryEvent[],
  request: { owner: string; secrets: SecretSource; time: number; reason?: string; by?: string },
): TaskCommit {
  const { time, reason, by } = request;
  return buildTerminalCommit(
    run,
    request.owner,
    time,
    {
      status: 'cancelled',
      request: { reason: terminationText(reason, by, false), ...(by === undefined ? {} : { by }) },
      reason: terminationText(reason, by, true),
      children: unfinishedChildren(history),
    },
    request.secrets,
  );
}

/**
 * Terminates `run` (running or stuck; ConflictError once it ended). Fenced on its history length: a run that
 * committed a step meanwhile is read again and terminated at its new length, so nothing it did is lost from its
 * history and nothing it does afterwards is written. Resolves with the run as it ended.
 */
export async function terminateRun(
  deps: { engine: Engine; store: Store; clock: Clock },
  run: RunRecord,
  reason?: string,
  by?: string,
): Promise<RunRecord> {
  const { engine, store, clock } = deps;
  let current = run;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (terminal.has(current.status))
      throw new ConflictError(`run ${current.id} already ended as ${current.status}; there is nothing to terminate`);
    const history = await store.loadHistory(current.id);
    if (history.length === current.historyLength) {
      const read = current;
      const ended = await engine.endWithoutCode(read, (owner, secrets) =>
        terminateCommit(read, history, {
          owner,
          secrets,
          time: clock.now(),
          ...(reason === undefined ? {} : { reason }),
          ...(by === undefined ? {} : { by }),
        }),
      );
      if (ended) return (await store.getRun(read.id)) ?? read;
    }
    const again = await store.getRun(current.id);
    if (!again) throw new NotFoundError('run', current.id);
    current = again;
  }
  throw new ConflictError(`run ${current.id} kept committing steps while it was being terminated; terminate it again`);
}
