import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { actOnEachRun } from '../each-run.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape, reason: z.string().optional() });

export function registerCancel(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('cancel')
      .description('cancel running runs; their finally blocks still run. One line per run; exit 1 when one could not be cancelled')
      .argument('<ids...>', 'run ids (of a continued run: the run its chain goes on in is cancelled)')
      .option('--reason <text>', 'why, recorded in the history of each'),
  ).action(async (ids: string[], raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const client = connect(options, context);
    await actOnEachRun(ids, 'cancelled', context, async (id) => {
      const run = await client.cancelRun(id, options.reason);
      // A run that continued as new is cancelled in the run its chain goes on in: the answer names that run.
      const subject = run.id === id ? `run ${id}` : `run ${run.id} (run ${id} continued as it)`;
      if (run.status !== 'running') context.out(`${subject} is ${run.status}`);
      else if (run.alreadyRequested) context.out(`cancellation of ${subject} was requested already; it ends once its finally blocks ran`);
      else context.out(`cancellation of ${subject} requested; it ends once its finally blocks ran`);
    });
  });
}
