import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { addClientOptions, addJsonFlags, clientOptionsShape, connect, jsonFromFlags, parseOptions, secondsFlag } from '../options.js';
import { waitAndPrintResult } from '../wait-for-run.js';

const optionsSchema = z.strictObject({
  ...clientOptionsShape,
  input: z.string().optional(),
  inputFile: z.string().optional(),
  id: z.string().optional(),
  wait: z.boolean().optional(),
  timeout: secondsFlag.optional(),
});

export function registerRun(program: Command, context: CliContext): void {
  addClientOptions(
    addJsonFlags(
      program
        .command('run')
        .description('start a run of a workflow and print its id; with --wait, print its result')
        .argument('<workflow>', 'name of a deployed workflow'),
      'input',
      'the input of the run',
    )
      .option('--id <id>', 'run id (idempotency key): the same id again returns the existing run')
      .option('--wait', 'wait until the run ends and print its result as JSON, riding out a server restart meanwhile')
      .option('--timeout <seconds>', 'with --wait: give up after this long (default: wait as long as it takes)'),
  ).action(async (workflow: string, raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    if (options.timeout !== undefined && !options.wait) throw new UsageError('--timeout only applies with --wait');
    const input = jsonFromFlags('input', { inline: options.input, file: options.inputFile }, context);
    const client = connect(options, context);
    // Not retried when the server cannot be reached, unlike the wait: the command is safe to run again with its --id.
    const { run, created } = await client.startRun({
      workflow,
      ...(input === undefined ? {} : { input }),
      ...(options.id === undefined ? {} : { id: options.id }),
    });
    // A CI job run again ("Retry job") lands here with the failed run's id: starting it again is `retry`'s to do.
    const again = run.status === 'failed' ? `: \`autoflow retry ${run.id}\` runs it again from the task that failed it` : '';
    const { concurrency } = run;
    const queued =
      created && run.status === 'queued' && concurrency
        ? concurrency.cancelInProgress
          ? `run ${run.id} is queued: older runs of its concurrency group '${concurrency.group}' are asked to cancel (cancelInProgress); ` +
            `it starts once they have ended (\`autoflow show ${run.id}\` names them)`
          : `run ${run.id} is queued: the runs of its concurrency group '${concurrency.group}' hold its ${concurrency.limit} slot(s); it starts when one of them ends`
        : undefined;
    const note = queued ?? (created ? `started run ${run.id}` : `run ${run.id} already existed (${run.status}); not started again${again}`);
    if (!options.wait) {
      if (!created || queued) context.err(note);
      context.out(run.id);
      return;
    }
    context.err(note);
    await waitAndPrintResult(client, run, options.timeout, context);
  });
}
