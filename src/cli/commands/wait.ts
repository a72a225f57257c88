import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions, secondsFlag } from '../options.js';
import { waitAndPrintResult } from '../wait-for-run.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape, timeout: secondsFlag.optional() });

export function registerWait(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('wait')
      .description(
        'wait until a run ends, following it when it continues as new, and print its result as JSON, as `run --wait` does: ' +
          'exit 1 when it failed, was cancelled or is stuck, 124 when --timeout passed first; a server restart meanwhile is waited out',
      )
      .argument('<id>', 'run id')
      .option('--timeout <seconds>', 'give up after this long (default: wait as long as it takes)'),
  ).action(async (id: string, raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const client = connect(options, context);
    // The first request is not retried: a server that cannot be reached now is more likely a wrong --url than a restart.
    const run = await client.getRun(id);
    await waitAndPrintResult(client, run, options.timeout, context);
  });
}
