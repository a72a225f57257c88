import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape, reason: z.string().optional() });

export function registerCancel(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('cancel')
      .description('cancel a running run; its finally blocks still run')
      .argument('<id>', 'run id (of a continued run: the run its chain goes on in is cancelled)')
      .option('--reason <text>', 'why, recorded in the history'),
  ).action(async (id: string, raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const run = await connect(options, context).cancelRun(id, options.reason);
    // A run that continued as new is cancelled in the run its chain goes on in: the answer names that run.
    const subject = run.id === id ? `run ${id}` : `run ${run.id} (run ${id} continued as it)`;
    if (run.status !== 'running') context.out(`${subject} is ${run.status}`);
    else if (run.alreadyRequested) context.out(`cancellation of ${subject} was requested already; it ends once its finally blocks ran`);
    else context.out(`cancellation of ${subject} requested; it ends once its finally blocks ran`);
  });
}
