import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { actOnEachRun } from '../each-run.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape, reason: z.string().optional() });

export function registerTerminate(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('terminate')
      .description(
        'end running or stuck runs at once, as cancelled, without running their finally blocks: for a run whose cleanup ' +
          'waits for something that will not come (cancel lets the cleanup run). One line per run; exit 1 when one could not be terminated',
      )
      .argument('<ids...>', 'run ids (of a continued run: the run its chain goes on in is terminated)')
      .option('--reason <text>', 'why, recorded in the history of each'),
  ).action(async (ids: string[], raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const client = connect(options, context);
    await actOnEachRun(ids, 'terminated', context, async (id) => {
      const run = await client.terminateRun(id, options.reason);
      const subject = run.id === id ? `run ${id}` : `run ${run.id} (run ${id} continued as it)`;
      context.out(`${subject} terminated: it is ${run.status}; its finally blocks did not run`);
    });
  });
}
