import type { Command } from 'commander';
import { z } from 'zod';
import type { RetriedRunView, RunView } from '../../app/operations.js';
import { ConflictError, NotFoundError, toError } from '../../core/errors.js';
import { CHILD_STILL_FAILED } from '../../core/run-retry.js';
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
  stuck: z.boolean().optional(),
  workflow: z.string().optional(),
  since: z.string().optional(),
  dryRun: z.boolean().optional(),
});

/**
 * Every run in `status` (of `workflow`, when given; that failed or got stuck at or after `since`, when given), read page
 * by page before any is retried: the server lists them by when they ended (got stuck) and filters on that time.
 */
async function runsIn(
  status: 'failed' | 'stuck',
  client: ApiClient,
  workflow: string | undefined,
  since: number | undefined,
): Promise<RunView[]> {
  const runs: RunView[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listRuns({
      status,
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

/**
 * The child a retry was refused for: the run failed with the failure of that child, which is still failed, and goes on
 * once the child is retried (core/run-retry.ts says so in the refusal's details). Undefined for any other refusal.
 */
function childToRetryFirst(caught: unknown): string | undefined {
  if (!(caught instanceof ConflictError)) return undefined;
  const details = caught.details;
  if (typeof details !== 'object' || details === null || Array.isArray(details)) return undefined;
  return details.code === CHILD_STILL_FAILED && typeof details.childId === 'string' ? details.childId : undefined;
}

/**
 * The warnings of a retried run but the one telling to retry its failed parent too, when `batch` retries that parent
 * after it (childrenFirst). The server's warnings are text; that one begins by naming the parent so.
 */
function warningsOutsideBatch(run: RetriedRunView, batch: readonly string[]): string[] {
  const warnings = run.warnings ?? [];
  if (run.parentId === undefined || !(batch.indexOf(run.parentId) > batch.indexOf(run.id))) return warnings;
  const retryParentToo = `its parent run ${run.parentId} (failed) `;
  return warnings.filter((warning) => !warning.startsWith(retryParentToo));
}

export function registerRetry(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('retry')
      .description(
        'run failed runs again from the workflow task that failed them, and stuck runs from where they stopped once their code replays their history; what they did before is kept',
      )
      .argument('[ids...]', 'run ids')
      .option('--failed', 'every failed run (of --workflow, if given) instead of ids: after an outage')
      .option('--stuck', 'every stuck run (of --workflow, if given) instead of ids: after the fix of what made them diverge')
      .option('--workflow <name>', 'with --failed or --stuck: only runs of this workflow')
      .option(
        '--since <time>',
        'with --failed or --stuck: only runs that failed (got stuck) since then: a time (2026-12-06T10:00:00Z) or how long ago (2h)',
      )
      .option(
        '--dry-run',
        'list the runs that would be retried, with their errors, check that each can be (with --latest: that the code replays its history), and retry none',
      )
      .option('--latest', "on the workflow's active version (its code must replay each run's history), not the run's own"),
  ).action(async (given: string[], raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    if (options.failed === true && options.stuck === true)
      throw new UsageError('--failed and --stuck exclude each other: retry one kind at a time');
    const every = options.failed === true ? 'failed' : options.stuck === true ? 'stuck' : undefined;
    if (options.workflow !== undefined && every === undefined)
      throw new UsageError(`--workflow goes with --failed or --stuck: autoflow retry --failed --workflow ${options.workflow}`);
    if (options.since !== undefined && every === undefined)
      throw new UsageError(`--since goes with --failed or --stuck: autoflow retry --failed --since ${options.since}`);
    if ((every !== undefined) === given.length > 0)
      throw new UsageError('give the ids of the runs to retry, or --failed or --stuck (not both)');
    const since = options.since === undefined ? undefined : sinceTime(options.since, Date.now());
    const client = connect(options, context);
    const runs = every === undefined ? undefined : childrenFirst(await runsIn(every, client, options.workflow, since));
    const ids = runs?.map((run) => run.id) ?? given;
    if (ids.length === 0 && options.workflow !== undefined) {
      // No run may just mean a typo in the name: say so when no such workflow is deployed.
      const names = (await client.listWorkflows()).map((workflow) => workflow.name).sort();
      if (!names.includes(options.workflow))
        throw new NotFoundError('workflow', options.workflow, `deployed: ${names.join(', ') || 'none'}`);
    }
    if (ids.length === 0) {
      const which = `${options.workflow === undefined ? '' : ` of ${options.workflow}`}${since === undefined ? '' : ` since ${new Date(since).toISOString()}`}`;
      context.err(`no ${every ?? 'failed'} runs${which}`);
    }
    const warn = (run: RetriedRunView): void => {
      for (const warning of warningsOutsideBatch(run, ids)) context.err(`warning: run ${run.id}: ${printable(warning)}`);
    };
    if (options.dryRun === true) {
      // The server makes every check of the retry (a --latest version must replay each run's history) and retries none.
      // It checks each run as things are now: a parent refused for a failed child that this batch retries before it
      // is counted here, where the batch is known.
      const wouldRetry = new Set<string>();
      for (const id of ids) {
        const run = runs?.find((listed) => listed.id === id) ?? (await client.getRun(id));
        const error = run.error ? `  ${formatError(run.error)}` : '';
        context.out(`run ${run.id} (${run.workflow}) is ${run.status} since ${run.updatedAt}${error}`);
        try {
          const retried = await client.retryRun(id, { latest: options.latest === true, dryRun: true });
          wouldRetry.add(id);
          context.out(`  would go on, on version ${retried.version.slice(0, 12)}`);
          warn(retried);
        } catch (caught) {
          const child = childToRetryFirst(caught);
          if (child !== undefined && wouldRetry.has(child)) {
            wouldRetry.add(id);
            context.out(`  would go on after its child ${child}, which this retry takes first`);
          } else context.out(`  ✗ would be refused: ${printable(toError(caught).message)}`);
        }
      }
      const would = ids.filter((id) => wouldRetry.has(id)).length;
      const refused = ids.length - would;
      context.err(`dry run: ${would} of ${ids.length} run${ids.length === 1 ? '' : 's'} would be retried; nothing was retried`);
      if (refused > 0) throw new Error(`${refused} of ${ids.length} runs could not be retried`);
      return;
    }
    await actOnEachRun(ids, 'retried', context, async (id) => {
      const run = await client.retryRun(id, { latest: options.latest === true });
      context.out(`run ${run.id} retried: ${run.status} on version ${run.version.slice(0, 12)}`);
      warn(run);
    });
  });
}
