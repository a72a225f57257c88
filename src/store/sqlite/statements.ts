/**
 * Every SQL statement the SQLite store runs, prepared once per connection. Each is a lookup or a
 * range read on an index of 001_initial.sql; sqlite-store.test.ts checks the query plans.
 */
import type { Database } from 'better-sqlite3';
import type { RunStatus } from '../../core/model.js';
import type { RunFilter } from '../../core/ports.js';
import { HUMAN_TASK_SQL } from './human-tasks.js';
import type {
  ActiveDefinitionRow,
  DefinitionRow,
  EventRow,
  LeasedCallRow,
  LogRow,
  PendingRow,
  RunRetryRow,
  RunRow,
  WaitRow,
} from '../rows.js';
import { UPDATE_ORDER_SQL } from '../pagination.js';
import type { ReadyCount, ReadyRun } from '../rules.js';

const RUN_COLUMNS = `id, workflow, version, input, parent_id, parent_step, trigger_event_seq,
  created_at, updated_at, status, result, error, history_length, concurrency_group, concurrency_limit, concurrency_queue`;
const CALL_COLUMNS = 'run_id, step, capability, method, args, options, attempts, next_at, last_error';

export const SQL = {
  // definitions
  insertDefinition: `INSERT INTO definitions (version, name, manifest, bundle, source_map, origin, deployed_at)
    VALUES (@version, @name, @manifest, @bundle, @sourceMap, @origin, @deployedAt)
    ON CONFLICT (version) DO NOTHING`,
  // The activation time is kept when the version was active already: it says when it became active.
  activateDefinition: `INSERT INTO active_definitions (name, version, activated_at) VALUES (@name, @version, @activatedAt)
    ON CONFLICT (name) DO UPDATE SET version = excluded.version, activated_at = excluded.activated_at
    WHERE active_definitions.version <> excluded.version`,
  retireDefinition: 'DELETE FROM active_definitions WHERE name = ?',
  getDefinition: 'SELECT * FROM definitions WHERE version = ?',
  listActiveDefinitions: `SELECT d.*, a.activated_at, a.activated_by
    FROM active_definitions a JOIN definitions d ON d.version = a.version ORDER BY a.name`,
  listDefinitionVersions: `SELECT d.version, d.name, d.deployed_at, a.version IS NOT NULL AS active
    FROM definitions d LEFT JOIN active_definitions a ON a.name = d.name AND a.version = d.version
    WHERE d.name = ? ORDER BY d.deployed_at DESC, d.version DESC`,
  // Retention: the definitions table holds a row per deployed version, few enough to read whole.
  unusedDefinitions: `SELECT d.version FROM definitions d
    WHERE d.deployed_at < @before
      AND NOT EXISTS (SELECT 1 FROM active_definitions a WHERE a.name = d.name AND a.version = d.version)
      AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.version = d.version)
    LIMIT @limit`,
  deleteDefinition: 'DELETE FROM definitions WHERE version = ?',

  // inbox
  insertEvent: `INSERT INTO events (dedupe_key, type, body, received_at) VALUES (@dedupeKey, @type, @body, @receivedAt)
    ON CONFLICT (dedupe_key) DO NOTHING RETURNING seq`,
  eventSeqByDedupeKey: 'SELECT seq FROM events WHERE dedupe_key = ?',
  /**
   * TaskCommit.carrySignals, in its three parts: copies addressed to @to (routed already) of the run's
   * own signal events, keyed by carriedSignalKey. First one the code kept (@source, @id)…
   */
  carryKeptSignal: `INSERT OR IGNORE INTO events (dedupe_key, type, body, received_at, routed)
    SELECT @key, type, json_set(body, '$.subject', @to), @at, 1 FROM events
    WHERE subject = @runId AND type GLOB 'autoflow.signal.*' AND json_extract(body, '$.source') = @source AND json_extract(body, '$.id') = @id
    ORDER BY seq LIMIT 1`,
  /** …then those in the run's pending, delivered to a wait but not to the code… */
  carryMailedSignals: `INSERT OR IGNORE INTO events (dedupe_key, type, body, received_at, routed)
    SELECT 'carried:' || @to || ':' || json_extract(resolution, '$.event.source') || ':' || json_extract(resolution, '$.event.id'),
      json_extract(resolution, '$.event.type'), json_set(json_extract(resolution, '$.event'), '$.subject', @to), @at, 1
    FROM pending WHERE run_id = @runId AND json_extract(resolution, '$.kind') = 'wait'
      AND json_extract(resolution, '$.event.type') GLOB 'autoflow.signal.*' AND json_extract(resolution, '$.event.subject') = @runId
    ORDER BY id`,
  /** …then those never delivered to the run. */
  carryUndeliveredSignals: `INSERT OR IGNORE INTO events (dedupe_key, type, body, received_at, routed)
    SELECT 'carried:' || @to || ':' || json_extract(body, '$.source') || ':' || json_extract(body, '$.id'),
      type, json_set(body, '$.subject', @to), @at, 1
    FROM events e WHERE subject = @runId AND type GLOB 'autoflow.signal.*'
      AND NOT EXISTS (SELECT 1 FROM consumed_events c WHERE c.run_id = @runId AND c.event_seq = e.seq)
    ORDER BY seq`,
  getEvent: 'SELECT seq, body, received_at FROM events WHERE seq = ?',
  findEvent: 'SELECT seq, body, received_at FROM events WHERE dedupe_key = ?',
  listUnroutedEvents: 'SELECT seq, body, received_at FROM events WHERE routed = 0 ORDER BY seq LIMIT ?',
  listRecentEvents: `SELECT seq, body, received_at FROM events
    WHERE type = @type AND received_at >= @since AND (received_at, seq) > (@afterReceivedAt, @afterSeq)
    ORDER BY received_at, seq LIMIT @limit`,
  listEvents: 'SELECT seq, body, received_at FROM events WHERE seq < @beforeSeq ORDER BY seq DESC LIMIT @limit',
  listEventsAfter: 'SELECT seq, body, received_at FROM events WHERE seq > @afterSeq ORDER BY seq LIMIT @limit',
  listEventsOfType: `SELECT seq, body, received_at FROM events
    WHERE type = @type AND seq < @beforeSeq ORDER BY seq DESC LIMIT @limit`,
  markRouted: 'UPDATE events SET routed = 1 WHERE seq = ? AND routed = 0',
  oldestEvents: 'SELECT seq, received_at, routed FROM events ORDER BY seq LIMIT ?',
  deleteEvent: 'DELETE FROM events WHERE seq = ?',

  // runs
  insertRun: `INSERT INTO runs (id, workflow, version, input, parent_id, parent_step, trigger_event_seq,
      created_at, updated_at, status, ready_at, lease_owner, lease_until, concurrency_group, concurrency_limit, concurrency_queue)
    VALUES (@id, @workflow, @version, @input, @parentId, @parentStep, @triggerEventSeq,
      @createdAt, @createdAt, 'running', @createdAt, @leaseOwner, @leaseUntil, @concurrencyGroup, @concurrencyLimit, @concurrencyQueue)
    ON CONFLICT (id) DO NOTHING`,
  /** Runs of a concurrency group that hold one of its slots, oldest first, up to @limit; whether each was asked to cancel. */
  slotHolders: `SELECT id, workflow, status, cancel_requested_at IS NOT NULL AS cancelling FROM runs
    WHERE concurrency_group = @group AND status IN ('running', 'stuck') ORDER BY created_at, rowid LIMIT @limit`,
  /** Runs of a concurrency group that hold one of its slots or wait for one (other than @id), oldest first (supersededByNewest). */
  groupMembers: `SELECT id, status, cancel_requested_at IS NOT NULL AS cancelling FROM runs
    WHERE concurrency_group = @group AND status IN ('running', 'stuck', 'queued') AND id <> @id ORDER BY created_at, rowid`,
  /** Runs of a concurrency group that hold one of its slots (other than @id). */
  groupSlotsTaken: `SELECT count(*) FROM runs
    WHERE concurrency_group = @group AND status IN ('running', 'stuck') AND id <> @id`,
  /** A new run whose group's slots are all taken waits: queued, neither ready nor leased. */
  queueRun: `UPDATE runs SET status = 'queued', ready_at = NULL, lease_owner = NULL, lease_until = NULL WHERE id = ?`,
  /** The queued runs of a group other than @id. */
  otherQueued: `SELECT id FROM runs WHERE concurrency_group = @group AND status = 'queued' AND id <> @id`,
  /** The oldest queued run of a group; of runs created in the same millisecond, the first inserted (rowid). */
  oldestQueued: `SELECT id, concurrency_limit AS "limit" FROM runs
    WHERE concurrency_group = ? AND status = 'queued' ORDER BY created_at, rowid LIMIT 1`,
  /**
   * A queued run given a slot (or a cancel): running, and ready from @at, when it got it (from its creation, the ready
   * queue's lag would count the time it waited for the slot).
   */
  startQueued: `UPDATE runs SET status = 'running', ready_at = @at WHERE id = @id AND status = 'queued'`,
  /** A run retention began to delete (migration 012) is gone already, to every reader. */
  getRun: `SELECT ${RUN_COLUMNS} FROM runs WHERE id = ? AND deleting IS NULL`,
  getRunState: `SELECT status, history_length, lease_owner, updated_at, cancel_requested_at, concurrency_group, concurrency_limit
    FROM runs WHERE id = ?`,
  markCancelRequested: 'UPDATE runs SET cancel_requested_at = @at WHERE id = @id',
  cancelRequestedAt: 'SELECT cancel_requested_at FROM runs WHERE id = ?',
  /**
   * Run @id, when @parentId is its parent, or the run its continue-as-new chain goes on in: a cancelled run
   * cancels its own children only, and a child that continued goes on under another id. Each hop reads the
   * primary key of the id in `continuedAs`; every link must keep the parent (successors inherit it).
   */
  currentOfChildChain: `WITH RECURSIVE chain (id, status, result) AS (
      SELECT id, status, result FROM runs WHERE id = @id AND parent_id = @parentId
      UNION ALL
      SELECT r.id, r.status, r.result FROM chain JOIN runs r ON r.id = json_extract(chain.result, '$.continuedAs')
      WHERE chain.status = 'continued' AND r.parent_id = @parentId
    )
    SELECT id FROM chain WHERE status <> 'continued'`,
  /** A row when run @id is the child of @parentId at step @parentStep: a task started again finds its own child. */
  isSameChild: 'SELECT 1 FROM runs WHERE id = @id AND parent_id IS @parentId AND parent_step IS @parentStep',
  countRunsByStatus: 'SELECT status, count(*) AS n FROM runs GROUP BY status',
  // A run ends after it was created: the range on runs_by_status stops at the cutoff.
  // Not while a run refers to it: a child, or the successor it continued as (migration 011).
  endedRuns: `SELECT id FROM runs r WHERE status = @status AND created_at < @before AND updated_at < @before
      AND NOT EXISTS (SELECT 1 FROM runs c WHERE c.parent_id = r.id)
      AND NOT (status = 'continued' AND EXISTS (SELECT 1 FROM runs s WHERE s.id = json_extract(r.result, '$.continuedAs')))
    LIMIT @limit`,
  /**
   * The first step of a run's deletion, from when on it reads as gone: unless it was retried since
   * endedRuns found it (a retry makes it running, and its updated_at now).
   */
  markDeleting: `UPDATE runs SET deleting = 1
    WHERE id = @id AND updated_at < @before AND status IN ('completed', 'failed', 'cancelled', 'continued')`,
  /** A bounded part of a deleted run's history and logs: each transaction of the deletion stays short. */
  deleteHistoryChunk: 'DELETE FROM history WHERE rowid IN (SELECT rowid FROM history WHERE run_id = @id LIMIT @rows)',
  deleteLogsChunk: 'DELETE FROM logs WHERE rowid IN (SELECT rowid FROM logs WHERE run_id = @id LIMIT @rows)',
  // Last, once its history and logs are gone: its pending, calls, timers, waits, consumed events and retries
  // (few rows for an ended run) go by ON DELETE CASCADE.
  deleteRun: 'DELETE FROM runs WHERE id = ?',
  // Started: candidate ids by primary key. Delivered: consumed events are kept only for runs not
  // ended, so walk those (runs_by_status) and probe each one's (run_id, event_seq) key.
  summarizeRouting: `
    SELECT trigger_event_seq AS seq, id AS run_id, 1 AS started FROM runs
      WHERE id IN (SELECT value FROM json_each(@runIds)) AND trigger_event_seq IN (SELECT value FROM json_each(@seqs))
    UNION ALL
    SELECT c.event_seq, c.run_id, 0 FROM runs r JOIN consumed_events c ON c.run_id = r.id
      WHERE r.status IN ('running', 'stuck') AND c.event_seq IN (SELECT value FROM json_each(@seqs))`,
  /** Keeps the earliest moment the run became ready: of its workflow's ready runs, the oldest is claimed first. */
  makeReady: 'UPDATE runs SET ready_at = min(coalesce(ready_at, @at), @at) WHERE id = @id',
  /** The workflows with ready runs: one lookup each on runs_ready_by_workflow, however many runs are queued. */
  readyWorkflows: `WITH RECURSIVE ready(workflow) AS (
      SELECT min(workflow) FROM runs WHERE ready_at IS NOT NULL
      UNION ALL
      SELECT (SELECT min(workflow) FROM runs WHERE ready_at IS NOT NULL AND workflow > ready.workflow) FROM ready WHERE workflow IS NOT NULL
    )
    SELECT workflow FROM ready WHERE workflow IS NOT NULL`,
  /**
   * A workflow's oldest claimable runs; takeInTurn picks among those of every workflow. `+status` keeps the planner on
   * the ready index (few stuck runs are filtered there) instead of the status one.
   */
  claimableRunsOf: `SELECT id, workflow, ready_at AS readyAt FROM runs
    WHERE workflow = @workflow AND ready_at IS NOT NULL AND +status = 'running' AND cancel_requested_at IS NULL
      AND (lease_owner IS NULL OR lease_until <= @now OR lease_owner = @owner)
    ORDER BY ready_at, id LIMIT @limit OFFSET @offset`,
  /** The oldest claimable runs whose cancel was requested, of any workflow: they go first (takeInTurn). */
  cancellingRuns: `SELECT id, workflow, ready_at AS readyAt FROM runs
    WHERE ready_at IS NOT NULL AND cancel_requested_at IS NOT NULL AND +status = 'running'
      AND (lease_owner IS NULL OR lease_until <= @now OR lease_owner = @owner)
    ORDER BY ready_at, id LIMIT @limit`,
  leaseRun: 'UPDATE runs SET lease_owner = @owner, lease_until = @leaseUntil WHERE id = @id',
  releaseRun: 'UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE id = @id AND lease_owner = @owner',
  /** Store.seizeRun: whoever holds the lease, fenced on the run's status and history length. */
  seizeRun: `UPDATE runs SET lease_owner = @owner, lease_until = @leaseUntil
    WHERE id = @id AND status IN ('queued', 'running', 'stuck') AND history_length = @expected`,
  renewRunLease: 'UPDATE runs SET lease_until = @leaseUntil WHERE id = @id AND lease_owner = @owner',
  /**
   * Ready runs and the oldest ready time of each workflow (queueStatsOf adds them up): the partial index
   * runs_ready_by_workflow read in order, its groups one after the other, no temp b-tree.
   */
  queueStats: `SELECT workflow, count(*) AS n, min(ready_at) AS oldest FROM runs
    WHERE ready_at IS NOT NULL AND +status = 'running' GROUP BY workflow`,
  /** After a task: ready again exactly when pending remain, since the oldest of them arrived. */
  finishTask: `UPDATE runs SET history_length = history_length + @added, updated_at = @at,
      ready_at = (SELECT at FROM pending WHERE run_id = @id ORDER BY id LIMIT 1)
    WHERE id = @id`,
  setStatus: 'UPDATE runs SET status = @status, result = @result, error = @error WHERE id = @id',
  /** A failed run made to run again (Store.retryRun): `running` on @version, unleased, and ready at @at if @ready. */
  /** A retry of run @id, recorded before reopenRun clears the error it answered. */
  recordRetry: `INSERT INTO run_retries (run_id, n, at, by, version, kept_history, previous_error)
    SELECT id, (SELECT count(*) + 1 FROM run_retries WHERE run_id = @id), @at, @by, @version, @keptHistory, error FROM runs WHERE id = @id`,
  listRunRetries: 'SELECT at, by, version, kept_history, previous_error FROM run_retries WHERE run_id = ? ORDER BY n',
  reopenRun: `UPDATE runs SET status = 'running', result = NULL, error = NULL, version = @version, history_length = @historyLength,
      updated_at = @at, ready_at = CASE WHEN @ready THEN @at END, lease_owner = NULL, lease_until = NULL
    WHERE id = @id`,

  // history and pending
  /** One row per workflow task: its events as a JSON array, keyed by the first one's seq (migration 005). */
  insertHistory: 'INSERT INTO history (run_id, seq, body) VALUES (?, ?, ?)',
  /**
   * From the row that holds event @fromSeq on; historyEventsOf drops the events before it. @rows: a row holds one
   * or more events, so a page of n events needs at most n rows (-1: every row).
   */
  loadHistory: `SELECT body FROM history WHERE run_id = @runId
    AND seq >= coalesce((SELECT max(seq) FROM history WHERE run_id = @runId AND seq <= @fromSeq), 0) ORDER BY seq LIMIT @rows`,
  /** Whether a history row, so a workflow task (or, written before migration 005, an event), begins at this seq. */
  isHistoryRow: 'SELECT 1 FROM history WHERE run_id = ? AND seq = ?',
  /** A retry drops the tasks from its retry point on: whole rows, since it begins where one does. */
  deleteHistoryFrom: 'DELETE FROM history WHERE run_id = ? AND seq >= ?',
  insertPending: 'INSERT INTO pending (run_id, at, attempts, resolution) VALUES (@runId, @at, @attempts, @resolution)',
  deletePending: 'DELETE FROM pending WHERE run_id = ? AND id = ?',
  loadPending: 'SELECT id, at, attempts, resolution FROM pending WHERE run_id = ? ORDER BY id',

  // calls
  insertCall: `INSERT INTO calls (run_id, step, capability, method, args, options, attempts, next_at, last_error,
      lease_owner, lease_until, due_at)
    VALUES (@runId, @step, @capability, @method, @args, @options, @attempts, @nextAt, @lastError,
      @leaseOwner, @leaseUntil, max(@nextAt, coalesce(@leaseUntil, @nextAt)))`,
  deleteCall: 'DELETE FROM calls WHERE run_id = ? AND step = ?',
  /** Calls whose lease is free or expired: due_at = max(next_at, lease_until). */
  dueCalls: `SELECT ${CALL_COLUMNS}, lease_owner, lease_until FROM calls WHERE due_at <= @now ORDER BY due_at, run_id, step LIMIT @limit`,
  /**
   * The owner's own calls whose lease has not passed (after a restart under the same id): a range
   * of calls_by_due from now to the new lease end, which holds every node's leased calls; only a
   * start-up runs it.
   */
  ownLeasedCalls: `SELECT ${CALL_COLUMNS}, lease_owner, lease_until FROM calls
    WHERE due_at > @now AND due_at < @leaseUntil AND lease_owner = @owner AND next_at <= @now ORDER BY due_at, run_id, step LIMIT @limit`,
  /** A lease that lapsed may have covered an attempt its node never recorded: it counts (Store.claimDueCalls). */
  leaseCall: `UPDATE calls SET attempts = attempts + (lease_owner IS NOT NULL),
      lease_owner = @owner, lease_until = @leaseUntil, due_at = max(next_at, @leaseUntil)
    WHERE run_id = @runId AND step = @step RETURNING attempts`,
  /** Fenced when @owner is given: only while the call is still leased to it. */
  rescheduleCall: `UPDATE calls SET attempts = @attempts, next_at = @nextAt, due_at = @nextAt, last_error = @lastError,
      lease_owner = NULL, lease_until = NULL
    WHERE run_id = @runId AND step = @step AND (@owner IS NULL OR lease_owner = @owner)`,
  deleteCallFenced: 'DELETE FROM calls WHERE run_id = @runId AND step = @step AND (@owner IS NULL OR lease_owner = @owner)',
  renewCallLease: `UPDATE calls SET lease_until = @leaseUntil, due_at = max(next_at, @leaseUntil)
    WHERE run_id = @runId AND step = @step AND lease_owner = @owner`,
  releaseCallLeases: 'UPDATE calls SET lease_owner = NULL, lease_until = NULL, due_at = next_at WHERE lease_owner = @owner',
  listCalls: `SELECT ${CALL_COLUMNS}, lease_owner, lease_until FROM calls WHERE run_id = ? ORDER BY step`,
  nextDue: 'SELECT (SELECT min(due_at) FROM calls) AS call, (SELECT min(fire_at) FROM timers) AS timer',

  // timers
  insertTimer: 'INSERT INTO timers (run_id, step, kind, fire_at) VALUES (@runId, @step, @kind, @fireAt)',
  deleteTimer: 'DELETE FROM timers WHERE run_id = ? AND step = ?',
  deleteWaitTimeout: `DELETE FROM timers WHERE run_id = ? AND step = ? AND kind = 'wait_timeout'`,
  dueTimers: 'SELECT run_id, step, kind FROM timers WHERE fire_at <= @now ORDER BY fire_at, run_id, step LIMIT @limit',

  // waits and routing
  insertWait: `INSERT INTO waits (run_id, step, event_type, paths, key, timeout_at, registered_at)
    VALUES (@runId, @step, @eventType, @paths, @key, @timeoutAt, @registeredAt)`,
  deleteWait: 'DELETE FROM waits WHERE run_id = ? AND step = ?',
  findWaits: 'SELECT * FROM waits WHERE event_type = ? AND key = ?',
  /** On waits_to_look_back, which holds only the waits not looked back. */
  listWaitsToLookBack: `SELECT * FROM waits
    WHERE looked_back = 0 AND registered_at <= @until AND (registered_at, run_id, step) > (@registeredAt, @runId, @step)
    ORDER BY registered_at, run_id, step LIMIT @limit`,
  markWaitLookedBack: 'UPDATE waits SET looked_back = 1 WHERE run_id = ? AND step = ?',
  /** Hops from one distinct shape to the next on waits_by_shape instead of reading every wait of the type. */
  listWaitShapes: `WITH RECURSIVE shapes (paths) AS (
      SELECT min(paths) FROM waits WHERE event_type = @type
      UNION ALL
      SELECT (SELECT min(paths) FROM waits WHERE event_type = @type AND paths > shapes.paths)
      FROM shapes WHERE shapes.paths IS NOT NULL
    )
    SELECT paths FROM shapes WHERE paths IS NOT NULL`,
  isConsumed: 'SELECT 1 FROM consumed_events WHERE run_id = ? AND event_seq = ?',
  insertConsumed: 'INSERT INTO consumed_events (run_id, event_seq) VALUES (?, ?) ON CONFLICT DO NOTHING',

  // a run that ended keeps its history and logs, nothing else
  deleteCallsOfRun: 'DELETE FROM calls WHERE run_id = ?',
  deleteTimersOfRun: 'DELETE FROM timers WHERE run_id = ?',
  deleteWaitsOfRun: 'DELETE FROM waits WHERE run_id = ?',
  deletePendingOfRun: 'DELETE FROM pending WHERE run_id = ?',
  deleteConsumedOfRun: 'DELETE FROM consumed_events WHERE run_id = ?',

  // logs, schedules, tokens
  insertLog: 'INSERT INTO logs (run_id, idx, at, level, message) VALUES (@runId, @index, @at, @level, @message)',
  /** The log lines of the tasks a retry drops: indexes from the retry point's seq × 1000 on. */
  deleteLogsFrom: 'DELETE FROM logs WHERE run_id = ? AND idx >= ?',
  listLogs: 'SELECT * FROM logs WHERE run_id = @runId AND idx > @afterIndex ORDER BY idx LIMIT @limit',
  getScheduleTick: 'SELECT tick FROM schedule_ticks WHERE schedule_id = ?',
  advanceScheduleTick: `INSERT INTO schedule_ticks (schedule_id, tick) VALUES (@id, @tick)
    ON CONFLICT (schedule_id) DO UPDATE SET tick = excluded.tick WHERE excluded.tick > schedule_ticks.tick`,
  // One statement in SQLite's single writer: two servers cannot both find the table empty.
  addFirstApiToken: `INSERT INTO api_tokens (hash, name, created_at) SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM api_tokens)`,
  hasApiToken: 'SELECT 1 FROM api_tokens WHERE hash = ?',
  countApiTokens: 'SELECT count(*) FROM api_tokens',
  deleteApiTokens: 'DELETE FROM api_tokens',
  insertApiToken: 'INSERT INTO api_tokens (hash, name, created_at) VALUES (?, ?, ?)',
  revokeSession:
    'INSERT INTO session_revocations (id, until) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET until = max(until, excluded.until)',
  deleteExpiredRevocations: 'DELETE FROM session_revocations WHERE until <= ?',
  isSessionRevoked: 'SELECT 1 FROM session_revocations WHERE id = ? AND until > ?',
} as const;

/**
 * listRuns, newest first by (created_at, id), or by (updated_at, id) in the order `updated`; one statement per
 * combination of filters so that each reads the index made for it (runs_by_created, _by_workflow, _by_status,
 * _by_workflow_status; runs_by_end in the order `updated`, workflow checked on the rows it reads). runs_by_end is
 * partial: the query repeats its WHERE (UPDATE_ORDER_SQL), without which SQLite cannot use it. The children of a run
 * are read on runs_by_parent and sorted.
 */
export function listRunsSql(filter: Omit<RunFilter, 'cursor' | 'limit'>, after: boolean): string {
  const time = filter.order === 'updated' ? 'updated_at' : 'created_at';
  const where = [
    'deleting IS NULL',
    filter.workflow === undefined ? undefined : 'workflow = @workflow',
    filter.order === 'updated' ? UPDATE_ORDER_SQL : undefined,
    filter.status === undefined ? undefined : 'status = @status',
    filter.parentId === undefined ? undefined : 'parent_id = @parentId',
    // The versions that start with it: versions are hex, and 'g' sorts after every hex digit.
    filter.version === undefined ? undefined : "version >= @version AND version < @version || 'g'",
    filter.createdFrom === undefined ? undefined : 'created_at >= @createdFrom',
    filter.createdBefore === undefined ? undefined : 'created_at < @createdBefore',
    filter.updatedFrom === undefined ? undefined : 'updated_at >= @updatedFrom',
    filter.subject === undefined
      ? undefined
      : // '$' follows '#': the subjects under `S#` (its comments) are the range [`S#`, `S$`) of events_by_subject.
        `trigger_event_seq IN (SELECT seq FROM events WHERE subject = @subject
           OR (subject >= @subject || '#' AND subject < @subject || '$'))`,
    after ? `(${time}, id) < (@at, @id)` : undefined,
  ].filter((term) => term !== undefined);
  // With a workflow or a status too, SQLite would rather read the index of that filter, already in the order, than
  // sort: every run of the workflow (status) to find a few children.
  const table = filter.parentId === undefined ? 'runs' : 'runs INDEXED BY runs_by_parent';
  return `SELECT ${RUN_COLUMNS} FROM ${table} WHERE ${where.join(' AND ')}
    ORDER BY ${time} DESC, id DESC LIMIT @limit`;
}

type Params = Record<string, unknown>;

/** What a write reads of a run before it changes it. */
export interface RunStateRow {
  status: string;
  history_length: number;
  lease_owner: string | null;
  updated_at: number;
  cancel_requested_at: number | null;
  concurrency_group: string | null;
  concurrency_limit: number | null;
}

/**
 * The prepared statements, typed by their parameters and rows.
 * @internal better-sqlite3's statement type cannot be named in a declaration file.
 */
export function prepareStatements(db: Database) {
  const p = <P extends unknown[] | Params = unknown[], R = unknown>(sql: string) => db.prepare<P, R>(sql);
  return {
    insertDefinition: p<Params>(SQL.insertDefinition),
    activateDefinition: p<Params>(SQL.activateDefinition),
    retireDefinition: p<[string]>(SQL.retireDefinition),
    getDefinition: p<[string], DefinitionRow>(SQL.getDefinition),
    listActiveDefinitions: p<[], ActiveDefinitionRow>(SQL.listActiveDefinitions),
    listDefinitionVersions: p<[string], { version: string; name: string; deployed_at: number; active: number }>(SQL.listDefinitionVersions),
    unusedDefinitions: p<Params, string>(SQL.unusedDefinitions).pluck(),
    deleteDefinition: p<[string]>(SQL.deleteDefinition),

    insertEvent: p<Params, number>(SQL.insertEvent).pluck(),
    eventSeqByDedupeKey: p<[string], number>(SQL.eventSeqByDedupeKey).pluck(),
    carryKeptSignal: p<Params>(SQL.carryKeptSignal),
    carryMailedSignals: p<Params>(SQL.carryMailedSignals),
    carryUndeliveredSignals: p<Params>(SQL.carryUndeliveredSignals),
    getEvent: p<[number], EventRow>(SQL.getEvent),
    findEvent: p<[string], EventRow>(SQL.findEvent),
    listUnroutedEvents: p<[number], EventRow>(SQL.listUnroutedEvents),
    listRecentEvents: p<Params, EventRow>(SQL.listRecentEvents),
    listEvents: p<Params, EventRow>(SQL.listEvents),
    listEventsAfter: p<Params, EventRow>(SQL.listEventsAfter),
    listEventsOfType: p<Params, EventRow>(SQL.listEventsOfType),
    markRouted: p<[number]>(SQL.markRouted),
    oldestEvents: p<[number], { seq: number; received_at: number; routed: number }>(SQL.oldestEvents),
    deleteEvent: p<[number]>(SQL.deleteEvent),

    insertRun: p<Params>(SQL.insertRun),
    getRun: p<[string], RunRow>(SQL.getRun),
    getRunState: p<[string], RunStateRow>(SQL.getRunState),
    groupSlotsTaken: p<{ group: string; id: string }, number>(SQL.groupSlotsTaken).pluck(),
    slotHolders: p<{ group: string; limit: number }, { id: string; workflow: string; status: RunStatus; cancelling: 0 | 1 }>(
      SQL.slotHolders,
    ),
    groupMembers: p<{ group: string; id: string }, { id: string; status: RunStatus; cancelling: 0 | 1 }>(SQL.groupMembers),
    queueRun: p<[string]>(SQL.queueRun),
    oldestQueued: p<[string], { id: string; limit: number }>(SQL.oldestQueued),
    otherQueued: p<{ group: string; id: string }, string>(SQL.otherQueued).pluck(),
    startQueued: p<{ id: string; at: number }>(SQL.startQueued),
    markCancelRequested: p<{ id: string; at: number }>(SQL.markCancelRequested),
    cancelRequestedAt: p<[string], number | null>(SQL.cancelRequestedAt).pluck(),
    currentOfChildChain: p<{ id: string; parentId: string }, string>(SQL.currentOfChildChain).pluck(),
    isSameChild: p<{ id: string; parentId: string | null; parentStep: number | null }, number>(SQL.isSameChild).pluck(),
    countRunsByStatus: p<[], { status: string; n: number }>(SQL.countRunsByStatus),
    endedRuns: p<Params, string>(SQL.endedRuns).pluck(),
    markDeleting: p<Params>(SQL.markDeleting),
    deleteHistoryChunk: p<Params>(SQL.deleteHistoryChunk),
    deleteLogsChunk: p<Params>(SQL.deleteLogsChunk),
    deleteRun: p<[string]>(SQL.deleteRun),
    deleteHumanTasksOfRun: p<[string]>(HUMAN_TASK_SQL.deleteOfRun),
    summarizeRouting: p<{ seqs: string; runIds: string }, { seq: number; run_id: string; started: number }>(SQL.summarizeRouting),
    makeReady: p<Params>(SQL.makeReady),
    readyWorkflows: p<[], string>(SQL.readyWorkflows).pluck(),
    claimableRunsOf: p<Params, ReadyRun>(SQL.claimableRunsOf),
    cancellingRuns: p<Params, ReadyRun>(SQL.cancellingRuns),
    leaseRun: p<Params>(SQL.leaseRun),
    releaseRun: p<Params>(SQL.releaseRun),
    seizeRun: p<Params>(SQL.seizeRun),
    renewRunLease: p<Params>(SQL.renewRunLease),
    queueStats: p<[], ReadyCount>(SQL.queueStats),
    finishTask: p<Params>(SQL.finishTask),
    setStatus: p<Params>(SQL.setStatus),
    reopenRun: p<Params>(SQL.reopenRun),
    recordRetry: p<Params>(SQL.recordRetry),
    listRunRetries: p<[string], RunRetryRow>(SQL.listRunRetries),

    insertHistory: p<[string, number, string]>(SQL.insertHistory),
    loadHistory: p<{ runId: string; fromSeq: number; rows: number }, string>(SQL.loadHistory).pluck(),
    isHistoryRow: p<[string, number], number>(SQL.isHistoryRow).pluck(),
    deleteHistoryFrom: p<[string, number]>(SQL.deleteHistoryFrom),
    insertPending: p<Params>(SQL.insertPending),
    deletePending: p<[string, number]>(SQL.deletePending),
    loadPending: p<[string], PendingRow>(SQL.loadPending),

    insertCall: p<Params>(SQL.insertCall),
    deleteCall: p<[string, number]>(SQL.deleteCall),
    dueCalls: p<Params, LeasedCallRow>(SQL.dueCalls),
    ownLeasedCalls: p<Params, LeasedCallRow>(SQL.ownLeasedCalls),
    leaseCall: p<Params, number>(SQL.leaseCall).pluck(),
    rescheduleCall: p<Params>(SQL.rescheduleCall),
    deleteCallFenced: p<Params>(SQL.deleteCallFenced),
    renewCallLease: p<Params>(SQL.renewCallLease),
    releaseCallLeases: p<Params>(SQL.releaseCallLeases),
    listCalls: p<[string], LeasedCallRow>(SQL.listCalls),
    nextDue: p<[], { call: number | null; timer: number | null }>(SQL.nextDue),

    insertTimer: p<Params>(SQL.insertTimer),
    deleteTimer: p<[string, number]>(SQL.deleteTimer),
    deleteWaitTimeout: p<[string, number]>(SQL.deleteWaitTimeout),
    dueTimers: p<Params, { run_id: string; step: number; kind: string }>(SQL.dueTimers),

    insertWait: p<Params>(SQL.insertWait),
    deleteWait: p<[string, number]>(SQL.deleteWait),
    findWaits: p<[string, string], WaitRow>(SQL.findWaits),
    listWaitsToLookBack: p<Params, WaitRow>(SQL.listWaitsToLookBack),
    markWaitLookedBack: p<[string, number]>(SQL.markWaitLookedBack),
    listWaitShapes: p<Params, string>(SQL.listWaitShapes).pluck(),
    isConsumed: p<[string, number], number>(SQL.isConsumed).pluck(),
    insertConsumed: p<[string, number]>(SQL.insertConsumed),

    deleteCallsOfRun: p<[string]>(SQL.deleteCallsOfRun),
    deleteTimersOfRun: p<[string]>(SQL.deleteTimersOfRun),
    deleteWaitsOfRun: p<[string]>(SQL.deleteWaitsOfRun),
    deletePendingOfRun: p<[string]>(SQL.deletePendingOfRun),
    deleteConsumedOfRun: p<[string]>(SQL.deleteConsumedOfRun),
    cancelOpenHumanTasksOfRun: p<Params>(HUMAN_TASK_SQL.cancelOpenOfRun),
    reopenCancelledHumanTasksOfRun: p<Params>(HUMAN_TASK_SQL.reopenCancelledOfRun),

    insertLog: p<Params>(SQL.insertLog),
    deleteLogsFrom: p<[string, number]>(SQL.deleteLogsFrom),
    listLogs: p<Params, LogRow>(SQL.listLogs),
    getScheduleTick: p<[string], number>(SQL.getScheduleTick).pluck(),
    advanceScheduleTick: p<Params>(SQL.advanceScheduleTick),
    addFirstApiToken: p<[string, string, number]>(SQL.addFirstApiToken),
    hasApiToken: p<[string], number>(SQL.hasApiToken).pluck(),
    countApiTokens: p<[], number>(SQL.countApiTokens).pluck(),
    deleteApiTokens: p<[]>(SQL.deleteApiTokens),
    insertApiToken: p<[string, string, number]>(SQL.insertApiToken),
    revokeSession: p<[string, number]>(SQL.revokeSession),
    deleteExpiredRevocations: p<[number]>(SQL.deleteExpiredRevocations),
    isSessionRevoked: p<[string, number], number>(SQL.isSessionRevoked).pluck(),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
