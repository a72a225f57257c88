/**
 * The PostgreSQL store's human tasks (migration 002): the same queries as SQLite's, with
 * positional parameters. Listing walks one index in (created_at, id) order for each filter.
 */
import type { HumanTaskRecord } from '../../core/human-task.js';
import type { HumanTaskFilter, HumanTaskUpdate } from '../../core/ports.js';
import type { RunCursor } from '../pagination.js';
import type { Queryable } from './prepared.js';
import { humanTaskParams, json, toHumanTask, type HumanTaskRow } from '../rows.js';

type Client = Queryable;

const COLUMNS =
  't.id, t.run_id, t.workflow, t.kind, t.title, t.spec, t.eligible, t.status, t.decisions, t.outcome, t.created_at, t.due_at, t.closed_at, t.revision';

export const HUMAN_TASK_SQL = {
  get: `SELECT ${COLUMNS} FROM human_tasks t WHERE t.id = $1`,
};

/** Inside a transaction. Insert-or-ignore by id, with the inbox rows of a new task. */
export async function createHumanTask(client: Client, task: HumanTaskRecord): Promise<{ created: boolean; task: HumanTaskRecord }> {
  const p = humanTaskParams(task);
  const { rowCount } = await client.query(
    `INSERT INTO human_tasks (id, run_id, workflow, kind, title, spec, eligible, status, decisions, outcome, created_at, due_at, closed_at, revision)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING`,
    [
      p['id'],
      p['runId'],
      p['workflow'],
      p['kind'],
      p['title'],
      p['spec'],
      p['eligible'],
      p['status'],
      p['decisions'],
      p['outcome'],
      p['createdAt'],
      p['dueAt'],
      p['closedAt'],
      p['revision'],
    ],
  );
  const created = (rowCount ?? 0) > 0;
  if (created && task.eligible.length > 0) {
    await client.query(
      `INSERT INTO human_task_eligible (username, created_at, task_id)
       SELECT username, $2, $3 FROM unnest($1::text[]) AS username ON CONFLICT DO NOTHING`,
      [[...new Set(task.eligible)], task.createdAt, task.id],
    );
  }
  const { rows } = await client.query<HumanTaskRow>(HUMAN_TASK_SQL.get, [task.id]);
  return { created, task: toHumanTask(rows[0]!) };
}

/** `listHumanTasks`'s query for one filter combination; `limit` rows at most. */
export function listHumanTasksQuery(
  filter: HumanTaskFilter,
  after: RunCursor | undefined,
  limit: number,
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const param = (value: unknown) => `$${values.push(value)}`;
  const conditions: string[] = [];
  const inbox = filter.eligible !== undefined;
  const from = inbox ? 'human_task_eligible e JOIN human_tasks t ON t.id = e.task_id' : 'human_tasks t';
  const [createdAt, id] = inbox ? ['e.created_at', 'e.task_id'] : ['t.created_at', 't.id'];
  if (inbox) conditions.push(`e.username = ${param(filter.eligible!.toLowerCase())}`);
  if (filter.runId !== undefined) conditions.push(`t.run_id = ${param(filter.runId)}`);
  if (filter.status === 'closed') conditions.push("t.status <> 'open'");
  else if (filter.status !== undefined) conditions.push(`t.status = ${param(filter.status)}`);
  if (after) conditions.push(`(${createdAt}, ${id}) < (${param(after.createdAt)}, ${param(after.id)})`);
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  return { text: `SELECT ${COLUMNS} FROM ${from} ${where} ORDER BY ${createdAt} DESC, ${id} DESC LIMIT ${param(limit)}`, values };
}

/** Inside a transaction: compare-and-set on the revision. */
export async function updateHumanTask(client: Client, update: Omit<HumanTaskUpdate, 'event'>): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE human_tasks SET status = $3, decisions = $4, outcome = COALESCE($5, outcome), closed_at = COALESCE($6, closed_at),
       revision = revision + 1
     WHERE id = $1 AND revision = $2`,
    [update.id, update.expectedRevision, update.status, JSON.stringify(update.decisions), json(update.outcome), update.closedAt ?? null],
  );
  return (rowCount ?? 0) > 0;
}
