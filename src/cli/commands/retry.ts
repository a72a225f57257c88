import type { Command } from 'commander';
import { z } from 'zod';
import { NotFoundError, toError } from '../../core/errors.js';
import type { ApiClient } from '../client.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({
  ...clientOptionsShape,
  latest: z.boolean().optional(),
  failed: z.boolean().optional(),
  workflow: z.string().optional(),
});

/** Every failed run (of `workflow`, when given), read page by page before any is retried. */
async function failedRunIds(client: ApiClient, workflow: string | undefined): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listRuns({
      status: 'failed',
      limit: 500,
      ...(workflow === undefined ? {} : { workflow }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    ids.push(...page.runs.map((run) => run.id));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

export function registerRetry(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('retry')
      .description('run failed runs again from the workflow task that failed them; what they did before is kept')
      .argument('[ids...]', 'run ids')
      .option('--failed', 'every failed run (of --workflow, if given) instead of ids: after an outage')
      .option('--workflow <name>', 'with --failed: only runs of this workflow')
      .option('--latest', "on the workflow's active version (its code must replay each run's history), not the run's own"),
  ).action(async (given: string[], raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const allFailed = options.failed === true;
    if (options.workflow !== undefined && !allFailed)
      throw new UsageError(`--workflow goes with --failed: autoflow retry --failed --workflow ${options.workflow}`);
    if (allFailed === given.length > 0) throw new UsageError('give the ids of the runs to retry, or --failed (not both)');
    const client = connect(options, context);
    const ids = allFailed ? await failedRunIds(client, options.workflow) : given;
    if (ids.length === 0 && options.workflow !== undefined) {
      // No failed run may just mean a typo in the name: say so when no such workflow is deployed.
      const names = (await client.listWorkflows()).map((workflow) => workflow.name).sort();
      if (!names.includes(options.workflow))
        throw new NotFoundError('workflow', options.workflow, `deployed: ${names.join(', ') || 'none'}`);
    }
    if (ids.length === 0) context.err(options.workflow === undefined ? 'no failed runs' : `no failed runs of ${options.workflow}`);
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
