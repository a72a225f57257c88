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
      .argument('<id>', 'run id')
      .option('--reason <text>', 'why, recorded in the history'),
  ).action(async (id: string, raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const run = await connect(options, context).cancelRun(id, options.reason);
    if (run.status !== 'running') context.out(`run ${run.id} is ${run.status}`);
    else if (run.alreadyRequested) context.out(`cancellation of run ${run.id} was requested already; it ends once its finally blocks ran`);
    else context.out(`cancellation of run ${run.id} requested; it ends once its finally blocks ran`);
  });
}
