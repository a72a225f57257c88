import type { Command } from 'commander';
import { z } from 'zod';
import type { RunView } from '../../app/operations.js';
import { AutoflowError } from '../../core/errors.js';
import type { Json } from '../../core/model.js';
import type { ApiClient } from '../client.js';
import type { CliContext } from '../context.js';
import { errorLocation, formatError, formatJson } from '../format.js';
import { addClientOptions, clientOptionsShape, connect, parseJsonFlag, parseOptions, readJsonFile, secondsFlag } from '../options.js';
import { StillRunningError, UsageError } from '../errors.js';

const optionsSchema = z.strictObject({
  ...clientOptionsShape,
  input: z.string().optional(),
  inputFile: z.string().optional(),
  id: z.string().optional(),
  wait: z.boolean().optional(),
  timeout: secondsFlag.optional(),
});

/** A run ended in another way than `completed`, or did not end in time: the command fails. */
export class RunOutcomeError extends AutoflowError {
  constructor(message: string) {
    super('run_outcome', message);
  }
}

export function registerRun(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('run')
      .description('start a run of a workflow and print its id; with --wait, print its result')
      .argument('<workflow>', 'name of a deployed workflow')
      .option('--input <json>', 'input of the run, as JSON (without it the input is null)')
      .option('--input-file <file>', 'read the input from a JSON file (- for standard input)')
      .option('--id <id>', 'run id (idempotency key): the same id again returns the existing run')
      .option('--wait', 'wait until the run ends and print its result as JSON')
      .option('--timeout <seconds>', 'with --wait: give up after this long (default: wait as long as it takes)'),
  ).action(async (workflow: string, raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    if (options.input !== undefined && options.inputFile !== undefined) throw new UsageError('use --input or --input-file, not both');
    if (options.timeout !== undefined && !options.wait) throw new UsageError('--timeout only applies with --wait');
    const input: Json | undefined =
      options.input !== undefined
        ? parseJsonFlag('--input', options.input)
        : options.inputFile !== undefined
          ? readJsonFile('--input-file', options.inputFile, context)
          : undefined;
    const client = connect(options, context);
    const { run, created } = await client.startRun({
      workflow,
      ...(input === undefined ? {} : { input }),
      ...(options.id === undefined ? {} : { id: options.id }),
    });
    const note = created ? `started run ${run.id}` : `run ${run.id} already existed (${run.status}); not started again`;
    if (!options.wait) {
      if (!created) context.err(note);
      context.out(run.id);
      return;
    }
    context.err(note);
    const ended = await waitForEnd(client, run, options.timeout === undefined ? Infinity : options.timeout * 1000, context);
    context.out(formatJson(ended.result ?? null));
  });
}

/** Long-polls until the run ends, following continue-as-new; throws unless it completed. */
async function waitForEnd(client: ApiClient, started: RunView, timeoutMs: number, context: CliContext): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  let run = started;
  for (;;) {
    if (run.status === 'running') run = await client.waitForRun(run.id, deadline - Date.now());
    switch (run.status) {
      case 'completed':
        return run;
      case 'running':
        throw new StillRunningError(
          `run ${run.id} is still running after ${timeoutMs / 1000} s; wait again with \`autoflow run ${started.workflow} --id ${started.id} --wait\`, or see where it is with \`autoflow show ${run.id}\``,
        );
      case 'failed': {
        const location = run.error && errorLocation(run.error);
        throw new RunOutcomeError(
          `run ${run.id} failed: ${run.error ? formatError(run.error, '  ') : 'no error recorded'}${location === undefined ? '' : `\n    ${location}`}`,
        );
      }
      case 'cancelled': {
        // The reason given to `cancel` is in the history, not on the run.
        const requested = (await client.getHistory(run.id)).findLast((event) => event.type === 'cancel_requested');
        const reason = requested?.type === 'cancel_requested' ? requested.reason : undefined;
        throw new RunOutcomeError(`run ${run.id} was cancelled${reason === undefined ? '' : `: ${reason}`}`);
      }
      case 'stuck':
        throw new RunOutcomeError(`run ${run.id} is stuck: ${run.error?.message ?? 'see `autoflow show`'}`);
      case 'continued': {
        const history = await client.getHistory(run.id);
        const continued = history.findLast((event) => event.type === 'run_continued');
        if (continued?.type !== 'run_continued')
          throw new RunOutcomeError(`run ${run.id} continued as a new run, but its history does not say which`);
        context.err(`run ${run.id} continued as ${continued.newRunId}`);
        run = await client.getRun(continued.newRunId);
      }
    }
  }
}
