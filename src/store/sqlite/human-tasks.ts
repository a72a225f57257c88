/**
 * The SQLite store's human tasks (migration 002). Listing walks one index in (created_at, id)
 * order whichever filter is given: the inbox by eligible user, a run's tasks, or a status.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { HumanTaskRecord } from '../../core/human-task.js';
import type { HumanTaskFilter, HumanTaskPage, HumanTaskUpdate } from '../../core/ports.js';
import { decodeRunCursor, pageOf, runPageLimit } from '../pagination.js';
import { humanTaskParams, json, toHumanTask, type HumanTaskRow } from '../rows.js';

const COLUMNS = 't.id, t.run_id, t.workflow, t.kind, t.title, t.spec, t.eligible, t.status, t.decisions, t.outcome, t.created_at, t.due_at, t.closed_at, t.revision';

export const HUMAN_TASK_SQL = {
  insert: `INSERT INTO human_tasks (id, run_id, workflow, kind, title, spec, eligible, status, decisions, outcome, created_at, due_at, closed_at, revision)
    VALUES (@id, @runId, @workflow, @kind, @title, @spec, @eligible, @status, @decisions, @outcome, @createdAt, @dueAt, @closedAt, @revision)
    ON CONFLICT (id) DO NOTHING`,
  insertEligible: 'INSERT OR IGNORE INTO human_task_eligible (username, created_at, task_id) VALUES (?, ?, ?)',
  get: `SELECT ${COLUMNS} FROM human_tasks t WHERE t.id = ?`,
  update: `UPDATE human_tasks SET status = @status, decisions = @decisions, outcome = COALESCE(@outcome, outcome),
    closed_at = COALESCE(@closedAt, closed_at), revision = revision + 1
    WHERE id = @id AND revision = @expectedRevision`,
  // Retention deleted the run; its inbox rows go by ON DELETE CASCADE.
  deleteOfRun: 'DELETE FROM human_tasks WHERE run_id = ?',
  // A run that ends closes what it was waiting for: the outcome keeps an approval's decisions.
  cancelOpenOfRun: `UPDATE human_tasks SET status = 'cancelled', closed_at = @at, revision = revision + 1,
    outcome = CASE kind WHEN 'form' THEN '{"status":"cancelled"}'
      ELSE json_object('status', 'cancelled', 'decisions', json(decisions)) END
    WHERE run_id = @runId AND status = 'open'`,
  // A retried run takes back what its failure at @at cancelled, with the decisions made so far.
  reopenCancelledOfRun: `UPDATE human_tasks SET status = 'open', closed_at = NULL, outcome = NULL, revision = revision + 1
    WHERE run_id = @runId AND status = 'cancelled' AND closed_at = @at`,
};

/** `listHumanTasks`'s SQL for one filter combination. */
export function listHumanTasksSql(filter: HumanTaskFilter, paged: boolean): string {
  const conditions: string[] = [];
  let from = 'human_tasks t';
  if (filter.eligible !== undefined) {
    from = 'human_task_eligible e JOIN human_tasks t ON t.id = e.task_id';
    conditions.push('e.username = @eligible');
  }
  const order = filter.eligible !== undefined ? 'e.created_at DESC, e.task_id DESC' : 't.created_at DESC, t.id DESC';
  const key = filter.eligible !== undefined ? ['e.created_at', 'e.task_id'] : ['t.created_at', 't.id'];
  if (filter.runId !== undefined) conditions.push('t.run_id = @runId');
  if (filter.status === 'closed') conditions.push("t.status <> 'open'");
  else if (filter.status !== undefined) conditions.push('t.status = @status');
  if (paged) conditions.push(`(${key[0]} < @createdAt OR (${key[0]} = @createdAt AND ${key[1]} < @id))`);
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  return `SELECT ${COLUMNS} FROM ${from} ${where} ORDER BY ${order} LIMIT @limit`;
}

export class SqliteHumanTasks {
  private readonly listStatements = new Map<string, Statement<[Record<string, unknown>], HumanTaskRow>>();
  private prepared?: {
    insert: Statement<[Record<string, unknown>]>;
    insertEligible: Statement<[string, number, string]>;
    get: Statement<[string], HumanTaskRow>;
    update: Statement<[Record<string, unknown>]>;
  };

  constructor(private readonly db: Database) {}

  private statements() {
    this.prepared ??= {
      insert: this.db.prepare(HUMAN_TASK_SQL.insert),
      insertEligible: this.db.prepare(HUMAN_TASK_SQL.insertEligible),
      get: this.db.prepare(HUMAN_TASK_SQL.get),
      update: this.db.prepare(HUMAN_TASK_SQL.update),
    };
    return this.prepared;
  }

  /** Inside a write transaction. */
  create(task: HumanTaskRecord): { created: boolean; task: HumanTaskRecord } {
    const s = this.statements();
    const created = s.insert.run(humanTaskParams(task)).changes > 0;
    if (created) for (const username of new Set(task.eligible)) s.insertEligible.run(username, task.createdAt, task.id);
    return { created, task: toHumanTask(s.get.get(task.id)!) };
  }

  get(id: string): HumanTaskRecord | undefined {
    const row = this.statements().get.get(id);
    return row && toHumanTask(row);
  }

  list(filter: HumanTaskFilter): HumanTaskPage {
    const limit = runPageLimit(filter.limit);
    const after = filter.cursor === undefined ? undefined : decodeRunCursor(filter.cursor);
    const sql = listHumanTasksSql(filter, after !== undefined);
    let statement = this.listStatements.get(sql);
    if (!statement) this.listStatements.set(sql, (statement = this.db.prepare(sql)));
    const rows = statement.all({
      eligible: filter.eligible?.toLowerCase(),
      runId: filter.runId,
      status: filter.status,
      ...after,
      limit: limit + 1,
    });
    const { items, nextCursor } = pageOf(rows, limit, toHumanTask);
    return nextCursor === undefined ? { tasks: items } : { tasks: items, nextCursor };
  }

  /** Inside a write transaction; the caller stores the event when this returns true. */
  update(update: Omit<HumanTaskUpdate, 'event'>): boolean {
    const changes = this.statements().update.run({
      id: update.id,
      expectedRevision: update.expectedRevision,
      status: update.status,
      decisions: JSON.stringify(update.decisions),
      outcome: json(update.outcome),
      closedAt: update.closedAt ?? null,
    }).changes;
    return changes > 0;
  }
}
