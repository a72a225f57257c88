/**
 * The bodies of the PostgreSQL store's multi-statement writes. Each runs inside the one transaction
 * that `inTransaction` opened for it; none commits by itself. Rows of one kind go in one statement.
 */
import type { PoolClient } from 'pg';
import { NotFoundError } from '../../core/errors.js';
import type { CallRecord, CloudEvent, NewRun, Resolution } from '../../core/model.js';
import type { EventRouting, RouteResult, TaskCommit, TaskCommitResult } from '../../core/ports.js';
import { rowLimit } from '../pagination.js';
import { checkTaskCommit, isTerminal, taskTime } from '../rules.js';
import type { CallRow, EventRow } from '../rows.js';
import { json, toCallRecord, toCloudEvent } from '../rows.js';
import { HUMAN_TASK_SQL } from './human-tasks.js';
import { SQL } from './statements.js';

type Client = Pick<PoolClient, 'query'>;

/** Insert-or-ignore by id; returns the ids of the runs it created, in the order given. */
export async function insertRuns(client: Client, runs: NewRun[]): Promise<string[]> {
  if (runs.length === 0) return [];
  const { rows } = await client.query<{ id: string }>(SQL.insertRuns, [
    runs.map((r) => r.id),
    runs.map((r) => r.workflow),
    runs.map((r) => r.version),
    runs.map((r) => JSON.stringify(r.input)),
    runs.map((r) => r.parentId ?? null),
    runs.map((r) => r.parentStep ?? null),
    runs.map((r) => r.triggerEventSeq ?? null),
    runs.map((r) => r.createdAt),
  ]);
  const created = new Set(rows.map((row) => row.id));
  return runs.map((r) => r.id).filter((id, i, ids) => created.has(id) && ids.indexOf(id) === i);
}

export async function appendPendingUnlessTerminal(client: Client, runId: string, resolution: Resolution, at: number): Promise<boolean> {
  const { rowCount } = await client.query(SQL.appendPendingUnlessTerminal, [runId, at, null, JSON.stringify(resolution)]);
  return (rowCount ?? 0) > 0;
}

export async function commitTask(client: Client, commit: TaskCommit): Promise<TaskCommitResult> {
  checkTaskCommit(commit);
  const { runId, owner } = commit;
  // The row lock serialises commits of one run: the fence below cannot change until COMMIT.
  const { rows } = await client.query<{ status: string; history_length: number; lease_owner: string | null; updated_at: number }>(
    SQL.lockRunState,
    [runId],
  );
  const run = rows[0];
  if (!run) return { ok: false, reason: 'not_found' };
  const leasedToOther = run.lease_owner !== null && run.lease_owner !== owner;
  if (run.history_length !== commit.expectedHistoryLength || leasedToOther) return { ok: false, reason: 'fenced' };

  const at = taskTime(commit, run.updated_at);
  if (commit.consumedPending.length) await client.query(SQL.deletePending, [runId, commit.consumedPending]);
  if (commit.history.length) {
    await client.query(SQL.insertHistory, [runId, commit.history.map((e) => e.seq), commit.history.map((e) => JSON.stringify(e))]);
  }
  if (commit.resolvedCalls.length) await client.query(SQL.deleteCalls, [runId, commit.resolvedCalls]);
  const { calls, timers, waits, logs } = commit;
  if (calls.length) {
    await client.query(SQL.insertCalls, [
      runId,
      owner,
      calls.map((c) => c.step),
      calls.map((c) => c.capability),
      calls.map((c) => c.method),
      calls.map((c) => JSON.stringify(c.args)),
      calls.map((c) => json(c.options)),
      calls.map((c) => c.attempts),
      calls.map((c) => c.nextAt),
      calls.map((c) => json(c.lastError)),
      calls.map((c) => c.leaseUntil ?? null),
    ]);
  }
  if (timers.length) {
    await client.query(SQL.insertTimers, [runId, timers.map((t) => t.step), timers.map((t) => t.kind), timers.map((t) => t.fireAt)]);
  }
  if (waits.length) {
    await client.query(SQL.insertWaits, [
      runId,
      waits.map((w) => w.step),
      waits.map((w) => w.eventType),
      waits.map((w) => JSON.stringify(w.paths)),
      waits.map((w) => w.key),
      waits.map((w) => w.timeoutAt ?? null),
      waits.map((w) => w.registeredAt),
    ]);
  }
  await insertRuns(client, commit.successor ? [...commit.children, commit.successor] : commit.children);
  if (logs.length) {
    await client.query(SQL.insertLogs, [
      runId,
      logs.map((l) => l.index),
      logs.map((l) => l.at),
      logs.map((l) => l.level),
      logs.map((l) => l.message),
    ]);
  }
  if (commit.status && isTerminal(commit.status.status)) {
    await client.query(SQL.clearEndedRun, [runId]);
    await client.query(HUMAN_TASK_SQL.cancelOpenOfRun, [runId, at]);
  }
  if (commit.notifyParent) await appendPendingUnlessTerminal(client, commit.notifyParent.runId, commit.notifyParent.resolution, at);
  for (const child of commit.cancelChildren ?? []) {
    await appendPendingUnlessTerminal(client, child.runId, { kind: 'cancel', reason: child.reason }, at);
  }
  const inbox = commit.events ?? [];
  if (inbox.length) {
    await client.query(SQL.insertEvents, [
      inbox.map((e) => e.dedupeKey),
      inbox.map((e) => e.event.type),
      inbox.map((e) => JSON.stringify(e.event)),
      at,
    ]);
  }
  const status = commit.status;
  await client.query(SQL.finishTask, [
    runId,
    commit.history.length,
    at,
    status?.status ?? null,
    status ? json(status.result) : null,
    status ? json(status.error) : null,
  ]);
  return { ok: true };
}

export async function routeEvent(client: Client, routing: EventRouting): Promise<RouteResult> {
  // Locking the event serialises routings of one event (its routing proper and lookbacks).
  const { rows } = await client.query<EventRow>(SQL.lockEvent, [routing.eventSeq]);
  const row = rows[0];
  if (!row) throw new NotFoundError('event', String(routing.eventSeq));
  const event: CloudEvent = toCloudEvent(row);
  const createdRunIds = await insertRuns(client, routing.newRuns);
  const deliveredRunIds: string[] = [];
  // One statement per delivery, in order: a lookback's "already consumed" must see the delivery before it.
  for (const { runId, step } of routing.deliveries) {
    const resolution = JSON.stringify({ kind: 'wait', step, event } satisfies Resolution);
    const { rowCount } = await client.query(SQL.deliver, [runId, step, row.seq, row.received_at, routing.markRouted, resolution]);
    if ((rowCount ?? 0) > 0 && !deliveredRunIds.includes(runId)) deliveredRunIds.push(runId);
  }
  if (routing.markRouted) await client.query(SQL.markRouted, [row.seq]);
  return { createdRunIds, deliveredRunIds };
}

/** Due calls first (oldest due first), then the owner's own leased ones. */
export async function claimDueCalls(client: Client, owner: string, now: number, leaseUntil: number, limit: number): Promise<CallRecord[]> {
  const { rows } = await client.query<CallRow & { grp: number; k: number }>(SQL.claimDueCalls, [owner, now, leaseUntil, rowLimit(limit)]);
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  rows.sort((a, b) => a.grp - b.grp || a.k - b.k || byText(a.run_id, b.run_id) || a.step - b.step);
  return rows.map(toCallRecord);
}

export async function fireDueTimers(client: Client, now: number, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ run_id: string; step: number; fire_at: number }>(SQL.fireDueTimers, [now, rowLimit(limit)]);
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  rows.sort((a, b) => a.fire_at - b.fire_at || byText(a.run_id, b.run_id) || a.step - b.step);
  return [...new Set(rows.map((r) => r.run_id))];
}

export async function claimReadyRuns(client: Client, owner: string, now: number, leaseUntil: number, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ id: string; ready_at: number }>(SQL.claimReadyRuns, [owner, now, leaseUntil, rowLimit(limit)]);
  rows.sort((a, b) => a.ready_at - b.ready_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return rows.map((r) => r.id);
}
