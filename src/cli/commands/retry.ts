import type { Command } from 'commander';
import { z } from 'zod';
import { toError } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape, latest: z.boolean().optional() });

export function registerRetry(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('retry')
      .description('run failed runs again from the workflow task that failed them; what they did before is kept')
      .argument(
        '<ids...>',
        'run ids (all failed runs of a workflow: autoflow runs --status failed --workflow <name> -q | xargs autoflow retry)',
      )
      .option('--latest', "on the workflow's active version (its code must replay each run's history), not the run's own"),
  ).action(async (ids: string[], raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const client = connect(options, context);
    let failures = 0;
    for (const id of ids) {
      try {
        const run = await client.retryRun(id, { latest: options.latest === true });
        context.out(`run ${run.id} retried: ${run.status} on version ${run.version.slice(0, 12)}`);
      } catch (caught) {
        failures++;
        context.err(`error: run ${id}: ${toError(caught).message}`);
      }
    }
    if (failures > 0) throw new Error(`${failures} of ${ids.length} runs could not be retried`);
  });
}
