import type { Command } from 'commander';
import { z } from 'zod';
import { NotFoundError, toError } from '../../core/errors.js';
import type { RunView } from '../../app/operations.js';
import type { ApiClient } from '../client.js';
import type { CliContext } from '../context.js';
import { actOnEachRun } from '../each-run.js';
import { UsageError } from '../errors.js';
import { formatError, printable } from '../format.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions } from '../options.js';
import { sinceTime } from '../since.js';

const optionsSchema = z.strictObject({
  ...clientOptionsShape,
  latest: z.boolean().optional(),
  failed: z.boolean().optional(),
  workflow: z.string().optional(),
  since: z.string().optional(),
  dryRun: z.boolean().optional(),
});

/**
 * Every failed run (of `workflow`, when given; that failed at or after `since`, when given), read page by page before
 * any is retried: the server lists them by when they failed and filters on that time.
 */
async function failedRuns(client: ApiClient, workflow: string | undefined, since: number | undefined): Promise<RunView[]> {
  const runs: RunView[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listRuns({
      status: 'failed',
      order: 'updated',
      limit: 500,
      ...(workflow === undefined ? {} : { workflow }),
      ...(since === undefined ? {} : { updatedFrom: since }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    runs.push(...page.runs);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return runs;
}

/**
 * `runs` with each child before its parent, deepest first, else in the order given: a parent that failed because its
 * child failed is refused while the child is still failed, and is retried once the child is (run-retry.ts). So one
 * `retry --failed` recovers a whole failed tree, not one level per pass.
 */
export function childrenFirst(runs: readonly RunView[]): RunView[] {
  const byId = new Map(runs.map((run) => [run.id, run]));
  const depth = (run: RunView): number => {
    let levels = 0;
    for (let parent = run.parentId; parent !== undefined && byId.has(parent) && levels < runs.length; parent = byId.get(parent)?.parentId)
      levels++;
    return levels;
  };
  const depths = new Map(runs.map((run) => [run.id, depth(run)]));
  return [...runs].sort((a, b) => depths.get(b.id)! - depths.get(a.id)!);
}

export function registerRetry(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('retry')
      .description('run failed runs again from the workflow task that failed them; what they did before is kept')
      .argument('[ids...]', 'run ids')
      .option('--failed', 'every failed run (of --workflow, if given) instead of ids: after an outage')
      .option('--workflow <name>', 'with --failed: only runs of this workflow')
      .option('--since <time>', 'with --failed: only runs that failed since then: a time (2026-12-06T10:00:00Z) or how long ago (2h)')
      .option(
        '--dry-run',
        'list the runs that would be retried, with their errors, check that each can be (with --latest: that the code replays its history), and retry none',
      )
      .option('--latest', "on the workflow's active version (its code must replay each run's history), not the run's own"),
  ).action(async (given: string[], raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const allFailed = options.failed === true;
    if (options.workflow !== undefined && !allFailed)
      throw new UsageError(`--workflow goes with --failed: autoflow retry --failed --workflow ${options.workflow}`);
    if (options.since !== undefined && !allFailed)
      throw new UsageError(`--since goes with --failed: autoflow retry --failed --since ${options.since}`);
    if (allFailed === given.length > 0) throw new UsageError('give the ids of the runs to retry, or --failed (not both)');
    const since = options.since === undefined ? undefined : sinceTime(options.since, Date.now());
    const client = connect(options, context);
    const runs = allFailed ? childrenFirst(await failedRuns(client, options.workflow, since)) : undefined;
    const ids = runs?.map((run) => run.id) ?? given;
    if (ids.length === 0 && options.workflow !== undefined) {
      // No failed run may just mean a typo in the name: say so when no such workflow is deployed.
      const names = (await client.listWorkflows()).map((workflow) => workflow.name).sort();
      if (!names.includes(options.workflow))
        throw new NotFoundError('workflow', options.workflow, `deployed: ${names.join(', ') || 'none'}`);
    }
    if (ids.length === 0) {
      const which = `${options.workflow === undefined ? '' : ` of ${options.workflow}`}${since === undefined ? '' : ` since ${new Date(since).toISOString()}`}`;
      context.err(`no failed runs${which}`);
    }
    if (options.dryRun === true) {
      // The server makes every check of the retry (a --latest version must replay each run's history) and retries none.
      let refused = 0;
      for (const id of ids) {
        const run = runs?.find((listed) => listed.id === id) ?? (await client.getRun(id));
        const error = run.error ? `  ${formatError(run.error)}` : '';
        context.out(`run ${run.id} (${run.workflow}) is ${run.status} since ${run.updatedAt}${error}`);
        try {
          const retried = await client.retryRun(id, { latest: options.latest === true, dryRun: true });
          context.out(`  would go on, on version ${retried.version.slice(0, 12)}`);
          for (const warning of retried.warnings ?? []) context.err(`warning: run ${run.id}: ${printable(warning)}`);
        } catch (caught) {
          refused++;
          context.out(`  ✗ would be refused: ${printable(toError(caught).message)}`);
        }
      }
      const would = ids.length - refused;
      context.err(`dry run: ${would} of ${ids.length} run${ids.length === 1 ? '' : 's'} would be retried; nothing was retried`);
      if (refused > 0) throw new Error(`${refused} of ${ids.length} runs could not be retried`);
      return;
    }
    await actOnEachRun(ids, 'retried', context, async (id) => {
      const run = await client.retryRun(id, { latest: options.latest === true });
      context.out(`run ${run.id} retried: ${run.status} on version ${run.version.slice(0, 12)}`);
      for (const warning of run.warnings ?? []) context.err(`warning: run ${run.id}: ${printable(warning)}`);
    });
  });
}
