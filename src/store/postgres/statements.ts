/**
 * The SQL of the PostgreSQL store, beside it. Each statement is a lookup or a range read on an
 * index of 001_initial.sql (the same indexes as the SQLite store). Several rows go in one statement
 * (`unnest` of array parameters), and the steps of one write are chained in one statement with
 * data-modifying CTEs where that keeps a write to one round trip. Reads name their columns (no
 * `*`): each connection prepares a statement once, and a column that a newer node's migration adds
 * must not change the rows of a statement that an older node, still running, has prepared.
 */
import type { RunFilter } from '../../core/ports.js';
import { UPDATE_ORDER_SQL, type RunPosition } from '../pagination.js';

export const RUN_COLUMNS = `id, workflow, version, input, parent_id, parent_step, trigger_event_seq,
  created_at, updated_at, status, result, error, history_length, concurrency_group, concurrency_limit, concurrency_queue`;
const DEFINITION_COLUMNS = 'version, name, manifest, bundle, source_map, origin, deployed_at';
export const CALL_COLUMNS = 'run_id, step, capability, method, args, options, attempts, next_at, last_error';
const EVENT_COLUMNS = 'seq, body, received_at';

/** Statuses after which a run takes nothing more (TERMINAL_STATUSES), as a literal list. */
const TERMINAL = `('completed', 'failed', 'cancelled', 'continued')`;
/** Keeps the earliest moment a run became ready: of its workflow's ready runs, the oldest is claimed first. */
const READY_AT = (at: string) => `ready_at = LEAST(COALESCE(ready_at, ${at}), ${at})`;

/**
 * Leases to $1 until $3 up to $4 of the calls `where` selects at $2, oldest due first, skipping
 * those another transaction holds. Each comes back with `k`, its due time before the claim, by
 * which the caller puts them in order (UPDATE … RETURNING has none), and the lease it took over
 * (`lease_owner`, `lease_until` as they were). A lease that lapsed may have covered an attempt its
 * node never recorded: it counts (Store.claimDueCalls).
 */
const leaseCallsWhere = (where: string): string => `WITH picked AS (
      SELECT run_id, step, due_at AS k, lease_owner, lease_until FROM calls WHERE ${where}
      ORDER BY due_at, run_id, step LIMIT $4 FOR UPDATE SKIP LOCKED)
    UPDATE calls c SET attempts = c.attempts + (c.lease_owner IS NOT NULL)::int,
      lease_owner = $1, lease_until = $3, due_at = GREATEST(c.next_at, $3)
    FROM picked p WHERE c.run_id = p.run_id AND c.step = p.step
    RETURNING ${CALL_COLUMNS.split(', ')
      .map((column) => `c.${column}`)
      .join(', ')}, p.k, p.lease_owner, p.lease_until`;

export const SQL = {
  // definitions
  // A version deployed again is locked by the (empty) update until the deploy commits, so that
  // retention on another node cannot delete it between this statement and its activation.
  insertDefinition: `INSERT INTO definitions (version, name, manifest, bundle, source_map, origin, deployed_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (version) DO UPDATE SET version = excluded.version`,
  retireDefinition: 'DELETE FROM active_definitions WHERE name = $1',
  // When and by whom are kept when the version was active already: they say when it became active.
  activateDefinition: `INSERT INTO active_definitions (name, version, activated_at, activated_by) VALUES ($1, $2, $3, $4)
    ON CONFLICT (name) DO UPDATE SET version = excluded.version, activated_at = excluded.activated_at,
      activated_by = excluded.activated_by
    WHERE active_definitions.version <> excluded.version`,
  getDefinition: `SELECT ${DEFINITION_COLUMNS} FROM definitions WHERE version = $1`,
  listActiveDefinitions: `SELECT ${DEFINITION_COLUMNS.split(', ')
    .map((column) => `d.${column}`)
    .join(', ')}, a.activated_at, a.activated_by
    FROM active_definitions a JOIN definitions d ON d.version = a.version ORDER BY a.name`,
  listDefinitionVersions: `SELECT d.version, d.name, d.deployed_at, a.version IS NOT NULL AS active
    FROM definitions d LEFT JOIN active_definitions a ON a.name = d.name AND a.version = d.version
    WHERE d.name = $1 ORDER BY d.deployed_at DESC, d.version DESC`,
  // Retention. A version that a deploy is activating is locked by it (insertDefinition): skipped.
  deleteUnusedDefinitions: `WITH gone AS (
      DELETE FROM definitions WHERE version IN (
        SELECT d.version FROM definitions d
        WHERE d.deployed_at < $1
          AND NOT EXISTS (SELECT 1 FROM active_definitions a WHERE a.name = d.name AND a.version = d.version)
          AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.version = d.version)
        LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING version
    )
    SELECT count(*)::int AS n FROM gone`,

  // inbox
  insertEvent: `INSERT INTO events (dedupe_key, type, body, received_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (dedupe_key) DO NOTHING RETURNING seq`,
  insertEvents: `INSERT INTO events (dedupe_key, type, body, received_at)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS e (dedupe_key, type, body, received_at)
    ON CONFLICT (dedupe_key) DO NOTHING`,
  eventSeqByDedupeKey: 'SELECT seq FROM events WHERE dedupe_key = $1',
  getEvent: `SELECT ${EVENT_COLUMNS} FROM events WHERE seq = $1`,
  findEvent: `SELECT ${EVENT_COLUMNS} FROM events WHERE dedupe_key = $1`,
  // Only the events to delete are locked, so a sweep that finds none holds up no routing; nodes
  // sweeping at once take different events (SKIP LOCKED), so they cannot deadlock on them.
  deleteOldEvents: `WITH oldest AS (SELECT seq, received_at, routed FROM events ORDER BY seq LIMIT $3),
      boundary AS (SELECT COALESCE(min(seq), 9223372036854775807) AS seq FROM oldest WHERE received_at >= $1 OR seq > $2),
      doomed AS (SELECT e.seq FROM events e
        WHERE e.seq IN (SELECT o.seq FROM oldest o WHERE o.routed AND o.seq < (SELECT seq FROM boundary))
        FOR UPDATE SKIP LOCKED),
      gone AS (DELETE FROM events e USING doomed d WHERE e.seq = d.seq RETURNING e.seq)
    SELECT count(*)::int AS n FROM gone`,
  lockEvent: `SELECT ${EVENT_COLUMNS} FROM events WHERE seq = $1 FOR UPDATE`,
  listUnroutedEvents: `SELECT ${EVENT_COLUMNS} FROM events WHERE NOT routed ORDER BY seq LIMIT $1`,
  listRecentEvents: `SELECT ${EVENT_COLUMNS} FROM events
    WHERE type = $1 AND received_at >= $2 AND (received_at, seq) > ($4, $5) ORDER BY received_at, seq LIMIT $3`,
  listEvents: `SELECT ${EVENT_COLUMNS} FROM events WHERE seq < $1 ORDER BY seq DESC LIMIT $2`,
  listEventsOfType: `SELECT ${EVENT_COLUMNS} FROM events WHERE type = $3 AND seq < $1 ORDER BY seq DESC LIMIT $2`,
  listEventsAfter: `SELECT ${EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2`,
  markRouted: 'UPDATE events SET routed = true WHERE seq = $1 AND NOT routed',

  // runs
  /**
   * Insert-or-ignore of several runs, answering with the rows it created; the new ones that came
   * from an event have consumed it. One whose concurrency group is full comes back queued and unleased
   * (the trigger of migration 024).
   */
  insertRuns: `WITH input AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::bigint[],
          $11::text[], $12::int[], $13::text[])
        AS r (id, workflow, version, input, parent_id, parent_step, trigger_event_seq, created_at, concurrency_group, concurrency_limit,
          concurrency_queue)
    ), inserted AS (
      INSERT INTO runs (id, workflow, version, input, parent_id, parent_step, trigger_event_seq,
        created_at, updated_at, status, ready_at, lease_owner, lease_until, concurrency_group, concurrency_limit, concurrency_queue)
      SELECT id, workflow, version, input, parent_id, parent_step, trigger_event_seq, created_at, created_at, 'running', created_at,
        $9::text, $10::bigint, concurrency_group, concurrency_limit, concurrency_queue
      FROM input
      ON CONFLICT (id) DO NOTHING
      RETURNING ${RUN_COLUMNS}
    ), consumed AS (
      INSERT INTO consumed_events (run_id, event_seq)
      SELECT id, trigger_event_seq FROM inserted WHERE trigger_event_seq IS NOT NULL
      ON CONFLICT DO NOTHING
    )
    SELECT ${RUN_COLUMNS} FROM inserted`,
  /** A run retention began to delete (migration 018) is gone already, to every reader. */
  getRun: `SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1 AND deleting IS NULL`,
  countRunsByStatus: 'SELECT status, count(*) AS n FROM runs GROUP BY status',
  // Retention, a run at a time: marked (from then on it reads as gone), its history and logs deleted in chunks, then
  // the run, each a short statement. A run ends after it was created, so the range on runs_by_status stops at the
  // cutoff. Not while a run refers to it: a child, or the successor it continued as (migration 016). Nodes sweeping
  // at once may take the same run: their chunks skip each other's rows, and one of them deletes the run.
  endedRuns: `SELECT id FROM runs r WHERE status IN ${TERMINAL} AND created_at < $1 AND updated_at < $1
      AND NOT EXISTS (SELECT 1 FROM runs c WHERE c.parent_id = r.id)
      AND NOT (status = 'continued' AND EXISTS (SELECT 1 FROM runs s WHERE s.id = r.result::jsonb ->> 'continuedAs'))
    LIMIT $2`,
  /** Unless it was retried since endedRuns found it (running again, updated now). Human tasks have no key to runs. */
  startDeletingRun: `WITH marked AS (
      UPDATE runs SET deleting = true WHERE id = $1 AND updated_at < $2 AND status IN ${TERMINAL} RETURNING id
    ), tasks AS (DELETE FROM human_tasks WHERE run_id IN (SELECT id FROM marked))
    SELECT count(*)::int AS n FROM marked`,
  deleteLogsChunk: `WITH gone AS (
      DELETE FROM logs WHERE ctid = ANY(ARRAY(SELECT ctid FROM logs WHERE run_id = $1 LIMIT $2 FOR UPDATE SKIP LOCKED)) RETURNING 1
    ) SELECT count(*)::int AS n FROM gone`,
  deleteHistoryChunk: `WITH gone AS (
      DELETE FROM history WHERE ctid = ANY(ARRAY(SELECT ctid FROM history WHERE run_id = $1 LIMIT $2 FOR UPDATE SKIP LOCKED)) RETURNING 1
    ) SELECT count(*)::int AS n FROM gone`,
  /** Last: its pending, calls, timers, waits, consumed events and retries (few rows for an ended run) go by ON DELETE CASCADE. */
  deleteRun: `WITH gone AS (DELETE FROM runs WHERE id = $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
  summarizeRouting: `
    SELECT trigger_event_seq AS seq, id AS run_id, true AS started FROM runs WHERE id = ANY($2::text[]) AND trigger_event_seq = ANY($1::bigint[])
    UNION ALL
    SELECT c.event_seq, c.run_id, false FROM runs r JOIN consumed_events c ON c.run_id = r.id
      WHERE r.status IN ('running', 'stuck') AND c.event_seq = ANY($1::bigint[])`,
  /**
   * The ready queue's order of rules.ts (takeInTurn) in one statement: the workflows with ready runs, one lookup
   * each on runs_ready_by_workflow; each one's oldest claimable runs, locked with SKIP LOCKED (a run another node is
   * claiming right now is left to it, not waited for);
   * of those the first $4 by turn, a workflow's turns counted after its runs the node is advancing ($5 names, $6
   * counts), and before every turn (-1) the oldest runs whose cancel was requested (runs_ready_cancelling). Rows
   * locked but not taken are free again when the claim commits.
   */
  claimReadyRuns: `WITH RECURSIVE ready(workflow) AS (
      (SELECT workflow FROM runs WHERE ready_at IS NOT NULL ORDER BY workflow LIMIT 1)
      UNION ALL
      SELECT (SELECT r.workflow FROM runs r WHERE r.ready_at IS NOT NULL AND r.workflow > ready.workflow ORDER BY r.workflow LIMIT 1)
      FROM ready WHERE ready.workflow IS NOT NULL
    ),
    claimable AS (
      SELECT c.id, c.ready_at,
        coalesce(busy.runs, 0) + row_number() OVER (PARTITION BY ready.workflow ORDER BY c.ready_at, c.id) AS turn
      FROM ready
      LEFT JOIN unnest($5::text[], $6::int[]) AS busy(workflow, runs) ON busy.workflow = ready.workflow
      CROSS JOIN LATERAL (
        SELECT id, ready_at FROM runs
        WHERE workflow = ready.workflow AND ready_at IS NOT NULL AND status = 'running' AND cancel_requested_at IS NULL
          AND (lease_owner IS NULL OR lease_until <= $2 OR lease_owner = $1)
        ORDER BY ready_at, id LIMIT $4
        FOR UPDATE SKIP LOCKED) c
    ),
    cancelling AS (
      SELECT id, ready_at FROM runs
      WHERE ready_at IS NOT NULL AND cancel_requested_at IS NOT NULL AND status = 'running'
        AND (lease_owner IS NULL OR lease_until <= $2 OR lease_owner = $1)
      ORDER BY ready_at, id LIMIT $4
      FOR UPDATE SKIP LOCKED
    ),
    taken AS (
      SELECT id, turn FROM (SELECT id, ready_at, turn FROM claimable UNION ALL SELECT id, ready_at, -1 FROM cancelling) candidates
      ORDER BY turn, ready_at, id LIMIT $4
    )
    UPDATE runs r SET lease_owner = $1, lease_until = $3 FROM taken
    WHERE r.id = taken.id
    RETURNING r.id, r.ready_at, taken.turn`,
  releaseRun: 'UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2',
  /** Store.seizeRun: whoever holds the lease, fenced on the run's status and history length. */
  seizeRun: `UPDATE runs SET lease_owner = $2, lease_until = $3
    WHERE id = $1 AND status IN ('queued', 'running', 'stuck') AND history_length = $4`,
  releaseRuns: 'UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE id = ANY($2::text[]) AND lease_owner = $1',
  /** Heartbeat of runs: a lease another node took over is left alone (the row lock orders it after that claim). */
  renewRunLeases: 'UPDATE runs SET lease_until = $3 WHERE id = ANY($2::text[]) AND lease_owner = $1',
  // A retry (Store.retryRun): one transaction that locks the run's row first, so that of two
  // retries of one run the second waits for the first and then finds the run no longer failed.
  lockRun: 'SELECT status, history_length, updated_at, concurrency_group, concurrency_limit FROM runs WHERE id = $1 FOR UPDATE',
  /** Runs of group $1 other than run $2 that hold one of its slots, counted under the group's lock until the commit (migration 024). */
  groupSlotsTaken: 'SELECT autoflow_group_slots_taken($1, $2) AS n',
  /** Without the group's lock: a look, not a decision (Store.countGroupSlotsTaken). */
  countGroupSlotsTaken: `SELECT count(*)::int AS n FROM runs WHERE concurrency_group = $1 AND status IN ('running', 'stuck')`,
  /** The same runs, oldest first, up to $2 (Store.listGroupSlotHolders). */
  listGroupSlotHolders: `SELECT id, workflow, status, cancel_requested_at IS NOT NULL AS cancelling FROM runs
    WHERE concurrency_group = $1 AND status IN ('running', 'stuck') ORDER BY created_at, id LIMIT $2`,
  /** Whether a history row, so a workflow task (or, written before migration 008, an event), begins at seq $2. */
  isHistoryRow: 'SELECT 1 FROM history WHERE run_id = $1 AND seq = $2',
  /**
   * The failed run $1 made to run again from seq $2: the history rows from there on and the log
   * lines from index $3 (seq × 1000) on go; the run is `running` on version $4, unleased, and ready at $5 if $6.
   */
  /** A retry of run $1 ($2 at, $3 by, $4 version, $5 kept history), recorded before reopenRun clears the error it answered. */
  recordRetry: `INSERT INTO run_retries (run_id, n, at, by, version, kept_history, previous_error)
    SELECT id, (SELECT count(*) + 1 FROM run_retries WHERE run_id = $1), $2, $3, $4, $5, error FROM runs WHERE id = $1`,
  listRunRetries: 'SELECT at, by, version, kept_history, previous_error FROM run_retries WHERE run_id = $1 ORDER BY n',
  reopenRun: `WITH history_gone AS (DELETE FROM history WHERE run_id = $1 AND seq >= $2),
      logs_gone AS (DELETE FROM logs WHERE run_id = $1 AND idx >= $3)
    UPDATE runs SET status = 'running', result = NULL, error = NULL, version = $4, history_length = $2,
      updated_at = $5::bigint, ready_at = CASE WHEN $6::boolean THEN $5::bigint END, lease_owner = NULL, lease_until = NULL
    WHERE id = $1`,
  /** Resolutions put into run $1's mailbox in the order given (pending ids follow it). */
  insertPending: `INSERT INTO pending (run_id, at, attempts, resolution)
    SELECT $1, p.at, p.attempts, p.resolution
    FROM unnest($2::bigint[], $3::int[], $4::text[]) WITH ORDINALITY AS p (at, attempts, resolution, k)
    ORDER BY p.k`,
  /** Calls of run $1 nobody holds: no lease, so due at their next attempt (due_at = next_at). */
  insertUnleasedCalls: `INSERT INTO calls (run_id, step, capability, method, args, options, attempts, next_at, last_error,
      lease_owner, lease_until, due_at)
    SELECT $1, c.step, c.capability, c.method, c.args, c.options, c.attempts, c.next_at, c.last_error, NULL, NULL, c.next_at
    FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bigint[], $9::text[])
      AS c (step, capability, method, args, options, attempts, next_at, last_error)`,
  /** A retried run $1 takes back what its failure at $2 cancelled, with the decisions made so far. */
  reopenCancelledHumanTasks: `UPDATE human_tasks SET status = 'open', closed_at = NULL, outcome = NULL, revision = revision + 1
    WHERE run_id = $1 AND status = 'cancelled' AND closed_at = $2`,
  insertTimers: `INSERT INTO timers (run_id, step, kind, fire_at)
    SELECT $1, t.step, t.kind, t.fire_at FROM unnest($2::int[], $3::text[], $4::bigint[]) AS t (step, kind, fire_at)`,
  insertWaits: `INSERT INTO waits (run_id, step, event_type, paths, key, timeout_at, registered_at)
    SELECT $1, w.step, w.event_type, w.paths, w.key, w.timeout_at, w.registered_at
    FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])
      AS w (step, event_type, paths, key, timeout_at, registered_at)`,

  /** Ready runs and the oldest ready time of each workflow (queueStatsOf adds them up), on the partial index runs_ready_by_workflow. */
  queueStats: `SELECT workflow, count(*) AS n, min(ready_at) AS oldest FROM runs
    WHERE ready_at IS NOT NULL AND status = 'running' GROUP BY workflow`,

  /** Task commits of several runs in one round trip (migration 004); one row per commit, in order. */
  commitTasks: 'SELECT run_id, outcome, mailbox FROM autoflow_commit_tasks($1::jsonb)',
  /** The same for a batch that also creates runs (migration 007). */
  createAndCommitTasks: 'SELECT run_id, outcome, mailbox FROM autoflow_create_and_commit_tasks($1::jsonb)',

  // history and pending
  /**
   * From the row that holds event $2 on: a row holds the events of one task (migration 008), so a page of $3
   * events needs at most $3 rows (NULL: every row).
   */
  loadHistory: `SELECT body FROM history WHERE run_id = $1
    AND seq >= coalesce((SELECT max(seq) FROM history WHERE run_id = $1 AND seq <= $2), 0) ORDER BY seq LIMIT $3`,
  appendPendingUnlessTerminal: `WITH run AS (
      UPDATE runs SET ${READY_AT('$2::bigint')} WHERE id = $1 AND status NOT IN ${TERMINAL} RETURNING id)
    INSERT INTO pending (run_id, at, attempts, resolution) SELECT id, $2, $3, $4 FROM run RETURNING id`,
  /** appendPendingUnlessTerminal for a `cancel`: a run takes the first one only, and keeps when it came (migration 013). */
  requestCancel: `WITH run AS (
      UPDATE runs SET ${READY_AT('$2::bigint')}, cancel_requested_at = $2
      WHERE id = $1 AND status NOT IN ${TERMINAL} AND cancel_requested_at IS NULL RETURNING id)
    INSERT INTO pending (run_id, at, attempts, resolution) SELECT id, $2, $3, $4 FROM run RETURNING id`,
  cancelRequestedAt: 'SELECT cancel_requested_at FROM runs WHERE id = $1',
  loadPending: 'SELECT id, at, attempts, resolution FROM pending WHERE run_id = $1 ORDER BY id',

  // calls
  /** Calls whose lease is free or expired (due_at <= now). */
  claimDueCalls: leaseCallsWhere('due_at <= $2'),
  /** The owner's own calls whose lease has not passed: a range of calls_by_due up to the new lease end (start-up only). */
  reclaimOwnCalls: leaseCallsWhere('due_at > $2 AND due_at < $3 AND lease_owner = $1 AND next_at <= $2'),
  /** Deletes the call when it is still there, appends its resolution and makes the run ready. */
  resolveCall: `WITH call AS (DELETE FROM calls WHERE run_id = $1 AND step = $2 AND ($6::text IS NULL OR lease_owner = $6) RETURNING run_id),
      run AS (UPDATE runs SET ${READY_AT('$3::bigint')} WHERE id IN (SELECT run_id FROM call) RETURNING id)
    INSERT INTO pending (run_id, at, attempts, resolution) SELECT id, $3, $4, $5 FROM run RETURNING id`,
  /** Fenced when $6 is given: only while the call is still leased to that node. */
  rescheduleCall: `UPDATE calls SET attempts = $3, next_at = $4, due_at = $4, last_error = $5, lease_owner = NULL, lease_until = NULL
    WHERE run_id = $1 AND step = $2 AND ($6::text IS NULL OR lease_owner = $6)`,
  renewCallLeases: `UPDATE calls c SET lease_until = $4, due_at = GREATEST(c.next_at, $4)
    FROM unnest($2::text[], $3::int[]) AS h (run_id, step)
    WHERE c.run_id = h.run_id AND c.step = h.step AND c.lease_owner = $1
    RETURNING c.run_id, c.step`,
  releaseCallLeases: 'UPDATE calls SET lease_owner = NULL, lease_until = NULL, due_at = next_at WHERE lease_owner = $1',
  listCalls: `SELECT ${CALL_COLUMNS}, lease_owner, lease_until FROM calls WHERE run_id = $1 ORDER BY step`,
  nextDue: 'SELECT (SELECT min(due_at) FROM calls) AS call, (SELECT min(fire_at) FROM timers) AS timer',

  // timers
  /**
   * Fires due timers in one statement: deletes them; a sleep appends a `timer` resolution; a wait
   * timeout whose wait is still there deletes the wait and appends a `wait` resolution with a null
   * event. Returns the timers that fired, in firing order.
   */
  fireDueTimers: `WITH due AS (
      SELECT run_id, step, kind, fire_at FROM timers WHERE fire_at <= $1
      ORDER BY fire_at, run_id, step LIMIT $2 FOR UPDATE SKIP LOCKED
    ), timers_gone AS (
      DELETE FROM timers t USING due WHERE t.run_id = due.run_id AND t.step = due.step
    ), waits_gone AS (
      DELETE FROM waits w USING due
      WHERE due.kind = 'wait_timeout' AND w.run_id = due.run_id AND w.step = due.step
      RETURNING w.run_id, w.step
    ), fired AS (
      SELECT * FROM due WHERE kind = 'sleep'
      UNION ALL SELECT due.* FROM due JOIN waits_gone USING (run_id, step)
    ), ready AS (
      UPDATE runs SET ${READY_AT('$1::bigint')} WHERE id IN (SELECT run_id FROM fired)
    ), appended AS (
      INSERT INTO pending (run_id, at, resolution)
      SELECT run_id, $1, CASE kind
          WHEN 'sleep' THEN json_build_object('kind', 'timer', 'step', step)::text
          ELSE json_build_object('kind', 'wait', 'step', step, 'event', NULL::json)::text END
      FROM fired ORDER BY fire_at, run_id, step
    )
    SELECT run_id, step, fire_at FROM fired`,

  // waits and routing
  findWaits: 'SELECT run_id, step, event_type, paths, key, timeout_at, registered_at FROM waits WHERE event_type = $1 AND key = $2',
  /** On waits_to_look_back, which holds only the waits not looked back. */
  listWaitsToLookBack: `SELECT run_id, step, event_type, paths, key, timeout_at, registered_at FROM waits
    WHERE NOT looked_back AND registered_at <= $1 AND (registered_at, run_id, step) > ($2, $3, $4)
    ORDER BY registered_at, run_id, step LIMIT $5`,
  markWaitsLookedBack: `UPDATE waits SET looked_back = true
    FROM unnest($1::text[], $2::int[]) AS done (run_id, step)
    WHERE waits.run_id = done.run_id AND waits.step = done.step`,
  /** Hops from one distinct shape to the next on waits_by_shape instead of reading every wait of the type. */
  listWaitShapes: `WITH RECURSIVE shapes (paths) AS (
      (SELECT paths FROM waits WHERE event_type = $1 ORDER BY paths LIMIT 1)
      UNION ALL
      SELECT (SELECT w.paths FROM waits w WHERE w.event_type = $1 AND w.paths > s.paths ORDER BY w.paths LIMIT 1)
      FROM shapes s WHERE s.paths IS NOT NULL
    )
    SELECT paths FROM shapes WHERE paths IS NOT NULL`,
  /**
   * One delivery of an event ($3, received at $4) to the wait ($1, $2): if the wait is still there
   * (and, unless $5, the run has not consumed the event: a lookback's check), deletes it and its timeout,
   * records the consumption, appends the resolution ($6) and makes the run ready.
   */
  deliver: `WITH received AS (
      SELECT 1 FROM consumed_events WHERE NOT $5::boolean AND run_id = $1 AND event_seq = $3
    ), wait_gone AS (
      DELETE FROM waits WHERE run_id = $1 AND step = $2 AND NOT EXISTS (SELECT 1 FROM received) RETURNING run_id
    ), timeout_gone AS (
      DELETE FROM timers WHERE run_id = $1 AND step = $2 AND kind = 'wait_timeout' AND EXISTS (SELECT 1 FROM wait_gone)
    ), consumed AS (
      INSERT INTO consumed_events (run_id, event_seq) SELECT run_id, $3 FROM wait_gone ON CONFLICT DO NOTHING
    ), run AS (
      UPDATE runs SET ${READY_AT('$4::bigint')} WHERE id IN (SELECT run_id FROM wait_gone) RETURNING id
    )
    INSERT INTO pending (run_id, at, resolution) SELECT id, $4, $6 FROM run RETURNING run_id`,

  // logs, schedules, tokens
  listLogs: 'SELECT run_id, idx, at, level, message FROM logs WHERE run_id = $1 AND idx > $2 ORDER BY idx LIMIT $3',
  getScheduleTick: 'SELECT tick FROM schedule_ticks WHERE schedule_id = $1',
  advanceScheduleTick: `INSERT INTO schedule_ticks (schedule_id, tick) VALUES ($1, $2)
    ON CONFLICT (schedule_id) DO UPDATE SET tick = excluded.tick WHERE excluded.tick > schedule_ticks.tick`,
  // The lock serialises servers starting at once; the insert, a statement of its own, then sees the other's row.
  lockApiTokens: 'LOCK TABLE api_tokens IN SHARE ROW EXCLUSIVE MODE',
  addFirstApiToken: 'INSERT INTO api_tokens (hash, name, created_at) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM api_tokens)',
  hasApiToken: 'SELECT 1 FROM api_tokens WHERE hash = $1',
  countApiTokens: 'SELECT count(*) AS n FROM api_tokens',
  deleteApiTokens: 'DELETE FROM api_tokens',
  insertApiToken: 'INSERT INTO api_tokens (hash, name, created_at) VALUES ($1, $2, $3)',
  revokeSession: `WITH expired AS (DELETE FROM session_revocations WHERE until <= $3 AND id <> $1)
    INSERT INTO session_revocations (id, until) VALUES ($1, $2)
    ON CONFLICT (id) DO UPDATE SET until = GREATEST(session_revocations.until, excluded.until)`,
  isSessionRevoked: 'SELECT 1 FROM session_revocations WHERE id = $1 AND until > $2',
} as const;

/**
 * listRuns, newest first by (created_at, id), or by (updated_at, id) in the order `updated`; one statement per
 * combination of filters so that each reads the index made for it (runs_by_end in the order `updated`: the query
 * repeats its WHERE as a literal, which a generic plan, whose status is a parameter, needs to prove it applies). The
 * children of a run are read on runs_by_parent, then filtered and sorted. Returns the SQL and its parameters.
 */
export function listRunsQuery(
  filter: Omit<RunFilter, 'cursor' | 'limit'>,
  after: RunPosition | undefined,
  limit: number,
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const where = ['deleting IS NULL'];
  const param = (value: unknown) => `$${values.push(value)}`;
  const time = filter.order === 'updated' ? 'updated_at' : 'created_at';
  // A run's children are read first, as a whole: a generic plan, which guesses the size of the page, would rather walk
  // the index of the order (runs_by_created, _by_status…) and filter every run it reads than sort a few children.
  const [withChildren, table] =
    filter.parentId === undefined
      ? ['', 'runs']
      : [`WITH children AS MATERIALIZED (SELECT * FROM runs WHERE parent_id = ${param(filter.parentId)}) `, 'children'];
  if (filter.workflow !== undefined) where.push(`workflow = ${param(filter.workflow)}`);
  if (filter.order === 'updated') where.push(UPDATE_ORDER_SQL);
  if (filter.status !== undefined) where.push(`status = ${param(filter.status)}`);
  if (filter.version !== undefined) where.push(`starts_with(version, ${param(filter.version)})`);
  if (filter.createdFrom !== undefined) where.push(`created_at >= ${param(filter.createdFrom)}`);
  if (filter.createdBefore !== undefined) where.push(`created_at < ${param(filter.createdBefore)}`);
  if (filter.updatedFrom !== undefined) where.push(`updated_at >= ${param(filter.updatedFrom)}`);
  if (filter.subject !== undefined) {
    // The expression of events_by_subject; '$' follows '#', so the subjects under `S#` (its comments) are a range.
    const subject = `(body::jsonb ->> 'subject') COLLATE "C"`;
    const [exact, from, to] = [param(filter.subject), param(`${filter.subject}#`), param(`${filter.subject}$`)];
    where.push(`trigger_event_seq IN (SELECT seq FROM events WHERE (body::jsonb ->> 'subject') IS NOT NULL
      AND (${subject} = ${exact} OR (${subject} >= ${from} AND ${subject} < ${to})))`);
  }
  if (after) where.push(`(${time}, id) < (${param(after.at)}, ${param(after.id)})`);
  const text = `${withChildren}SELECT ${RUN_COLUMNS} FROM ${table} WHERE ${where.join(' AND ')}
    ORDER BY ${time} DESC, id DESC LIMIT ${param(limit)}`;
  return { text, values };
}
