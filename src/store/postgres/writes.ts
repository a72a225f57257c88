/**
 * The bodies of the PostgreSQL store's writes. The multi-statement ones run inside the one
 * transaction that `inTransaction` opened for them; none commits by itself. Rows of one kind go in
 * one statement. `commitTasks` is a single statement, its own transaction.
 */
import { groupFullError } from '../../core/concurrency.js';
import { NotFoundError } from '../../core/errors.js';
import type { CloudEvent, NewRun, Resolution, RunStatus } from '../../core/model.js';
import type {
  BusyWorkflows,
  ClaimedCall,
  EventRouting,
  RouteResult,
  RunLease,
  RunRetry,
  TaskCommit,
  TaskCommitRefusal,
  TaskCommitResult,
} from '../../core/ports.js';
import { childExistsResolution, MAX_LOGS_PER_TASK, taskTime } from '../../core/task.js';
import { rowLimit } from '../pagination.js';
import { isTerminal, retriedStatus, retryNeedsTask, retryPointError } from '../rules.js';
import type { EventRow, LeasedCallRow, PendingRow, RunRow } from '../rows.js';
import { concurrencyQueueColumn, json, newRunParams, toClaimedCall, toCloudEvent, toPending } from '../rows.js';
import type { Queryable } from './prepared.js';
import { SQL } from './statements.js';

type Client = Queryable;

/**
 * Insert-or-ignore by id; returns the rows of the runs it created, in the order given. A run whose concurrency group
 * is full is created queued, unleased (migration 024).
 */
export async function insertRuns(client: Client, runs: NewRun[], lease?: RunLease): Promise<RunRow[]> {
  if (runs.length === 0) return [];
  const { rows } = await client.query<RunRow>(SQL.insertRuns, [
    runs.map((r) => r.id),
    runs.map((r) => r.workflow),
    runs.map((r) => r.version),
    runs.map((r) => JSON.stringify(r.input)),
    runs.map((r) => r.parentId ?? null),
    runs.map((r) => r.parentStep ?? null),
    runs.map((r) => r.triggerEventSeq ?? null),
    runs.map((r) => r.createdAt),
    lease?.owner ?? null,
    lease?.until ?? null,
    runs.map((r) => r.concurrency?.group ?? null),
    runs.map((r) => r.concurrency?.limit ?? null),
    runs.map((r) => concurrencyQueueColumn(r.concurrency)),
  ]);
  const created = new Map(rows.map((row) => [row.id, row]));
  // Taken out as it is answered: an id given twice yields its row once, at its first place.
  return runs.flatMap((r) => {
    const row = created.get(r.id);
    created.delete(r.id);
    return row ?? [];
  });
}

export async function appendPendingUnlessTerminal(client: Client, runId: string, resolution: Resolution, at: number): Promise<boolean> {
  const sql = resolution.kind === 'cancel' ? SQL.requestCancel : SQL.appendPendingUnlessTerminal;
  const { rowCount } = await client.query(sql, [runId, at, null, JSON.stringify(resolution)]);
  return (rowCount ?? 0) > 0;
}

/**
 * Applies the task commits of several runs (one commit per run) in one statement: the function of
 * migration 004 locks the runs, fences each commit on its own (a refused one writes nothing) and
 * applies the accepted ones with one statement per kind of row, so that fifty runs advancing at
 * once cost one round trip, as one does. Each accepted commit comes back with its run's mailbox.
 */
export async function commitTasks(client: Client, commits: readonly TaskCommit[]): Promise<TaskCommitResult[]> {
  const document = commitBatchDocument(commits);
  const { rows } = await client.query<{ run_id: string; outcome: 'ok' | TaskCommitRefusal; mailbox: PendingRow[] | null }>(
    document.creates ? SQL.createAndCommitTasks : SQL.commitTasks,
    [JSON.stringify(document)],
  );
  return rows.map((row) =>
    row.outcome === 'ok' ? { ok: true, pending: (row.mailbox ?? []).map(toPending) } : { ok: false, reason: row.outcome },
  );
}

/**
 * The jsonb document `autoflow_commit_tasks` takes (its layout is described in 004_commit_function.sql,
 * the `child` flag of `notify` in 012_cancel_own_children.sql, the `existsResolution` of a child in
 * 013_child_starts_and_cancels.sql, `carry` in 015_carry_signals.sql, `successors` apart from the children's `runs`
 * in 024_concurrency_groups.sql), with the runs the batch creates under `creates` for
 * `autoflow_create_and_commit_tasks` (007).
 */
function commitBatchDocument(commits: readonly TaskCommit[]) {
  const each = <T, R>(pick: (commit: TaskCommit) => readonly T[] | undefined, row: (item: T, commit: TaskCommit) => R) =>
    commits.flatMap((commit) => (pick(commit) ?? []).map((item) => row(item, commit)));
  const newRun = (run: NewRun, commit: TaskCommit) => ({ source: commit.runId, ...newRunParams(run) });
  const document: Record<string, unknown[]> = {
    creates: each(
      (c) => (c.create ? [c.create] : []),
      ({ run, lease }) => ({ ...newRunParams(run), leaseOwner: lease.owner, leaseUntil: lease.until }),
    ),
    commits: commits.map((commit) => ({
      run_id: commit.runId,
      expected: commit.expectedHistoryLength,
      owner: commit.owner,
      // Without history, autoflow_commit_tasks falls back to the run's updated_at.
      at: taskTime(commit, null),
      added: commit.history.length,
      status: commit.status?.status ?? null,
      result: commit.status ? json(commit.status.result) : null,
      error: commit.status ? json(commit.status.error) : null,
      terminal: commit.status !== undefined && isTerminal(commit.status.status),
    })),
    pending: each(
      (c) => c.consumedPending,
      (id, c) => ({ run_id: c.runId, id }),
    ),
    // One row per task, keyed by its first event's seq (see historyEventsOf).
    history: each(
      (c) => c.history.slice(0, 1),
      (first, c) => ({ run_id: c.runId, seq: first.seq, body: JSON.stringify(c.history) }),
    ),
    resolved: each(
      (c) => c.resolvedCalls,
      (step, c) => ({ run_id: c.runId, step }),
    ),
    calls: each(
      (c) => c.calls,
      (call) => ({
        run_id: call.runId,
        step: call.step,
        capability: call.capability,
        method: call.method,
        args: JSON.stringify(call.args),
        options: json(call.options),
        attempts: call.attempts,
        next_at: call.nextAt,
        last_error: json(call.lastError),
        lease_until: call.leaseUntil ?? null,
      }),
    ),
    timers: each(
      (c) => c.timers,
      (timer) => ({ run_id: timer.runId, step: timer.step, kind: timer.kind, fire_at: timer.fireAt }),
    ),
    waits: each(
      (c) => c.waits,
      (wait) => ({
        run_id: wait.runId,
        step: wait.step,
        event_type: wait.eventType,
        paths: JSON.stringify(wait.paths),
        key: wait.key,
        timeout_at: wait.timeoutAt ?? null,
        registered_at: wait.registeredAt,
      }),
    ),
    runs: each(
      (c) => c.children,
      (child, c) => ({ ...newRun(child, c), existsResolution: json(childExistsResolution(child)) }),
    ),
    // Inserted after the run they follow has ended, which then no longer holds the slot of its group they keep.
    successors: each((c) => (c.successor ? [c.successor] : []), newRun),
    logs: each(
      (c) => c.logs,
      (log) => ({ run_id: log.runId, idx: log.index, at: log.at, level: log.level, message: log.message }),
    ),
    notify: [
      ...each(
        (c) => (c.notifyParent ? [c.notifyParent] : []),
        (note, c) => ({ source: c.runId, run_id: note.runId, resolution: JSON.stringify(note.resolution) }),
      ),
      // The list comes from the workflow's sandbox: `child` makes the function check that the run is a child of source (012).
      ...each(
        (c) => c.cancelChildren,
        (child, c) => ({
          source: c.runId,
          run_id: child.runId,
          resolution: JSON.stringify({ kind: 'cancel', reason: child.reason } satisfies Resolution),
          child: true,
        }),
      ),
    ],
    carry: each(
      (c) => (c.carrySignals ? [c.carrySignals] : []),
      ({ to, kept }, c) => ({ run_id: c.runId, to_run: to, kept }),
    ),
    events: each(
      (c) => c.events,
      (item, c) => ({ source: c.runId, dedupe_key: item.dedupeKey, type: item.event.type, body: JSON.stringify(item.event) }),
    ),
  };
  // The function skips the statement of a kind that is absent.
  for (const [kind, rows] of Object.entries(document)) if (rows.length === 0) delete document[kind];
  return document;
}

export async function routeEvent(client: Client, routing: EventRouting): Promise<RouteResult> {
  // Locking the event serialises routings of one event (its routing proper and lookbacks).
  const { rows } = await client.query<EventRow>(SQL.lockEvent, [routing.eventSeq]);
  const row = rows[0];
  if (!row) throw new NotFoundError('event', String(routing.eventSeq));
  const event: CloudEvent = toCloudEvent(row);
  const createdRunIds = (await insertRuns(client, routing.newRuns, routing.lease)).map((run) => run.id);
  const deliveredRunIds: string[] = [];
  // One statement per delivery, in order. A lookback refuses an event the run received in an earlier routing (`deliver`
  // checks unless told not to); once this routing delivered to a run, its other waits listed here get the event too.
  for (const { runId, step } of routing.deliveries) {
    const resolution = JSON.stringify({ kind: 'wait', step, event } satisfies Resolution);
    const unchecked = routing.markRouted || deliveredRunIds.includes(runId);
    const { rowCount } = await client.query(SQL.deliver, [runId, step, row.seq, row.received_at, unchecked, resolution]);
    if ((rowCount ?? 0) > 0 && !deliveredRunIds.includes(runId)) deliveredRunIds.push(runId);
  }
  const markedRouted = routing.markRouted && ((await client.query(SQL.markRouted, [row.seq])).rowCount ?? 0) > 0;
  return { createdRunIds, deliveredRunIds, markedRouted };
}

interface LockedRunRow {
  status: RunStatus;
  history_length: number;
  updated_at: number;
  concurrency_group: string | null;
  concurrency_limit: number | null;
}

/**
 * See Store.retryRun; the caller checked the retry (checkRunRetry). The run's row is locked first:
 * a concurrent retry of the same run waits, then finds it no longer failed (or stuck) and writes nothing.
 * A failed run's retry point must be 0 or the seq of one of its history rows (a row holds one workflow task
 * since migration 008), so that no task is cut in two; else this throws and the transaction rolls back.
 * So does a run of a concurrency group whose slots are taken (groupFullError).
 */
export async function retryRun(client: Client, retry: RunRetry): Promise<boolean> {
  const { runId, keepHistoryLength: keep, at } = retry;
  const { rows } = await client.query<LockedRunRow>(SQL.lockRun, [runId]);
  const run = rows[0];
  const from = run && retriedStatus(run.status, retry);
  if (!run || !from || run.history_length !== retry.expectedHistoryLength || run.updated_at !== retry.expectedUpdatedAt) {
    return false;
  }
  if (from === 'failed' && keep !== 0 && (await client.query(SQL.isHistoryRow, [runId, keep])).rowCount === 0) throw retryPointError(retry);
  // A stuck run kept its slot.
  if (run.concurrency_group !== null && from === 'failed') {
    // The group stays locked until the commit: a run of it created or started meanwhile counts this one as running.
    const concurrency = { group: run.concurrency_group, limit: run.concurrency_limit ?? 1 };
    const { rows: slots } = await client.query<{ n: number }>(SQL.groupSlotsTaken, [concurrency.group, runId]);
    const taken = slots[0]?.n ?? 0;
    if (taken >= concurrency.limit) throw groupFullError(runId, concurrency, taken);
  }
  await client.query(SQL.recordRetry, [runId, at, retry.by ?? null, retry.version, keep]);
  await client.query(SQL.reopenRun, [runId, keep, keep * MAX_LOGS_PER_TASK, retry.version, at, retryNeedsTask(retry, from)]);
  const { pending, calls, timers, waits } = retry;
  if (pending.length) {
    await client.query(SQL.insertPending, [
      runId,
      pending.map((p) => p.at),
      pending.map((p) => p.attempts ?? null),
      pending.map((p) => JSON.stringify(p.resolution)),
    ]);
  }
  if (calls.length) {
    await client.query(SQL.insertUnleasedCalls, [
      runId,
      calls.map((c) => c.step),
      calls.map((c) => c.capability),
      calls.map((c) => c.method),
      calls.map((c) => JSON.stringify(c.args)),
      calls.map((c) => json(c.options)),
      calls.map((c) => c.attempts),
      calls.map((c) => c.nextAt),
      calls.map((c) => json(c.lastError)),
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
  // Children whose start was refused, started again. One not created has an id another run took since the retry was
  // planned (the run is locked and was failed, so not one of its own): the start is refused again.
  const children = retry.children ?? [];
  const created = new Set((await insertRuns(client, children)).map((row) => row.id));
  for (const child of children) {
    const refusal = created.has(child.id) ? undefined : childExistsResolution(child);
    if (refusal) await appendPendingUnlessTerminal(client, runId, refusal, at);
  }
  // A stuck run's forms stayed open: only a failure cancels them.
  if (from === 'failed') await client.query(SQL.reopenCancelledHumanTasks, [runId, retry.expectedUpdatedAt]);
  return true;
}

/** `sql` (SQL.claimDueCalls or SQL.reclaimOwnCalls) run for `owner`: the calls it leased, oldest due first. */
export async function leaseCalls(
  client: Client,
  sql: string,
  owner: string,
  now: number,
  leaseUntil: number,
  limit: number,
): Promise<ClaimedCall[]> {
  const { rows } = await client.query<LeasedCallRow & { k: number }>(sql, [owner, now, leaseUntil, rowLimit(limit)]);
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  rows.sort((a, b) => a.k - b.k || byText(a.run_id, b.run_id) || a.step - b.step);
  return rows.map((row) => toClaimedCall(row, row.attempts));
}

export async function fireDueTimers(client: Client, now: number, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ run_id: string; step: number; fire_at: number }>(SQL.fireDueTimers, [now, rowLimit(limit)]);
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  rows.sort((a, b) => a.fire_at - b.fire_at || byText(a.run_id, b.run_id) || a.step - b.step);
  return [...new Set(rows.map((r) => r.run_id))];
}

export async function claimReadyRuns(
  client: Client,
  owner: string,
  now: number,
  leaseUntil: number,
  limit: number,
  busy: BusyWorkflows = new Map(),
): Promise<string[]> {
  const { rows } = await client.query<{ id: string; ready_at: number; turn: number }>(SQL.claimReadyRuns, [
    owner,
    now,
    leaseUntil,
    rowLimit(limit),
    [...busy.keys()],
    [...busy.values()],
  ]);
  // RETURNING keeps no order: the claim's (rules.ts, takeInTurn) is restored here.
  rows.sort((a, b) => a.turn - b.turn || a.ready_at - b.ready_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return rows.map((r) => r.id);
}
