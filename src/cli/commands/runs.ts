import type { Command } from 'commander';
import { z } from 'zod';
import { NotFoundError } from '../../core/errors.js';
import type { RunStatus } from '../../core/model.js';
import type { ApiClient } from '../client.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { formatJson, formatColumns, formatTime } from '../format.js';
import { addClientOptions, clientOptionsShape, connect, integerFlag, parseOptions } from '../options.js';
import { sinceTime } from '../since.js';

const optionsSchema = z.strictObject({
  ...clientOptionsShape,
  workflow: z.string().optional(),
  parent: z.string().optional(),
  // Checked by the server, as the status is.
  workflowVersion: z.string().optional(),
  // Checked by the server, which knows every status; its message lists them.
  status: z.string().optional(),
  limit: integerFlag(1).optional(),
  cursor: z.string().optional(),
  since: z.string().optional(),
  json: z.boolean().optional(),
  quiet: z.boolean().optional(),
});

/**
 * The statuses whose runs are listed by when they ended (got stuck): the latest failure first, however long ago its run
 * started. The server orders runs that no longer advance so (RunFilter.order); the others by when they started.
 */
const ENDED_COLUMN: Readonly<Record<string, string>> = {
  completed: 'ENDED',
  failed: 'ENDED',
  cancelled: 'ENDED',
  continued: 'ENDED',
  stuck: 'STUCK SINCE',
};

async function runExists(client: ApiClient, id: string): Promise<boolean> {
  try {
    await client.getRun(id);
    return true;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}

/**
 * "no runs", and whether the parent run and the workflow asked for exist: a mistyped name must not pass for one with no
 * runs yet.
 */
async function noRuns(client: ApiClient, workflow: string | undefined, parent: string | undefined): Promise<string> {
  const none = parent === undefined ? 'no runs' : `no child runs of run '${parent}'`;
  if (parent !== undefined && !(await runExists(client, parent))) return `${none}, which does not exist`;
  if (workflow === undefined) return none;
  const deployed = (await client.listWorkflows()).map((view) => view.name).sort();
  if (deployed.includes(workflow)) return `${none} of workflow '${workflow}'`;
  return `${none} of workflow '${workflow}', which is not deployed (deployed: ${deployed.join(', ') || 'none'})`;
}

export function registerRuns(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('runs')
      .description(
        'list runs, newest first: by when they ended for --status completed, failed, cancelled, continued or stuck, else by when they started',
      )
      .option('--workflow <name>', 'only runs of this workflow')
      .option(
        '--parent <id>',
        'only the child runs of this run (those it started with startChild or executeChild, and the runs they continued as)',
      )
      .option('--status <status>', 'only runs in this status: queued, running, completed, failed, cancelled, continued, stuck')
      .option(
        '--workflow-version <version>',
        'only runs on this workflow version, or the versions that start so (f409e359c462, as VERSION shows it): what an old version still has in flight, with --status running',
      )
      .option('--limit <n>', 'at most this many runs (server default 50, at most 500)')
      .option('--cursor <cursor>', 'continue after the previous page')
      .option(
        '--since <time>',
        'only runs that ended (with --status of ended or stuck runs) or started since then: a time (2026-12-06T10:00:00Z) or how long ago (2h)',
      )
      .option('--json', 'print the page as JSON')
      .option(
        '-q, --quiet',
        'print only the run ids of this page, one a line (for example: autoflow runs --workflow release --limit 500 -q | xargs -r autoflow cancel; to retry every failed run, autoflow retry --failed)',
      ),
  ).action(async (raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    if (options.json && options.quiet) throw new UsageError('use --json or -q, not both: -q prints only the ids, --json the whole page');
    const since = options.since === undefined ? undefined : sinceTime(options.since, Date.now());
    const ended = options.status === undefined ? undefined : ENDED_COLUMN[options.status];
    const client = connect(options, context);
    const page = await client.listRuns({
      ...(options.workflow === undefined ? {} : { workflow: options.workflow }),
      ...(options.parent === undefined ? {} : { parentId: options.parent }),
      ...(options.status === undefined ? {} : { status: options.status as RunStatus }),
      ...(options.workflowVersion === undefined ? {} : { version: options.workflowVersion }),
      ...(ended === undefined ? {} : { order: 'updated' as const }),
      ...(since === undefined ? {} : ended === undefined ? { createdFrom: since } : { updatedFrom: since }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
    });
    if (options.json) {
      context.out(formatJson({ runs: page.runs, nextCursor: page.nextCursor ?? null }));
      return;
    }
    if (options.quiet) {
      if (page.runs.length > 0) context.out(page.runs.map((run) => run.id).join('\n'));
      if (page.nextCursor !== undefined) context.err(`more runs: add --cursor ${page.nextCursor}`);
      return;
    }
    if (page.runs.length === 0) {
      const when = since === undefined ? '' : ` ${ended === undefined ? 'started' : 'ended'} since ${formatTime(since)}`;
      context.err(`${await noRuns(client, options.workflow, options.parent)}${when}`);
      return;
    }
    // Whose child each run is: last, so that the empty cell of a run without a parent shifts no column before it; not
    // with --parent, which names it.
    const parentColumn = options.parent === undefined && page.runs.some((run) => run.parentId !== undefined);
    // The column the list is ordered by comes first.
    const rows = page.runs.map((run) => {
      const [created, updated] = [formatTime(run.createdAt), formatTime(run.updatedAt)];
      // The version a run runs on (short): whether the runs of an old version have drained after a deploy.
      return [
        run.id,
        run.workflow,
        run.version.slice(0, 12),
        run.status,
        ...(ended === undefined ? [created, updated] : [updated, created]),
        ...(parentColumn ? [run.parentId ?? ''] : []),
      ];
    });
    const times = ended === undefined ? ['CREATED', 'UPDATED'] : [ended, 'CREATED'];
    context.out(formatColumns([['ID', 'WORKFLOW', 'VERSION', 'STATUS', ...times, ...(parentColumn ? ['PARENT'] : [])], ...rows]));
    if (page.nextCursor !== undefined) context.err(`more runs: add --cursor ${page.nextCursor}`);
  });
}
