import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape, reason: z.string().optional() });

export function registerTerminate(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('terminate')
      .description(
        'end a running or stuck run at once, as cancelled, without running its finally blocks: for a run whose cleanup ' +
          'waits for something that will not come (cancel lets the cleanup run)',
      )
      .argument('<id>', 'run id (of a continued run: the run its chain goes on in is terminated)')
      .option('--reason <text>', 'why, recorded in the history'),
  ).action(async (id: string, raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const run = await connect(options, context).terminateRun(id, options.reason);
    const subject = run.id === id ? `run ${id}` : `run ${run.id} (run ${id} continued as it)`;
    context.out(`${subject} terminated: it is ${run.status}; its finally blocks did not run`);
  });
}
