/**
 * The scale-out Store: PostgreSQL through a `pg` connection pool. Several AutoFlow nodes may share
 * one database: claims use `FOR UPDATE SKIP LOCKED`, so that two nodes never claim the same run or
 * call; a task commit locks its run's row and is fenced on history length and lease owner. Each
 * write method is one transaction (often one statement); `synchronous_commit` stays on, so a
 * resolved write is durable.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { CustomTypesConfig, Pool, QueryResultRow } from 'pg';
import { ConfigError, StoreError } from '../../core/errors.js';
import type { RunStatus } from '../../core/model.js';
import type { EventRouting, GroupSlotHolder, RouteResult, Store } from '../../core/ports.js';
import { leftWorkToClaim } from '../../core/router.js';
import { decodeRunCursor, decodeRunPosition, DEFAULT_LOG_PAGE, pageOf, rowLimit, runOrderOf, runPageLimit } from '../pagination.js';
import {
  json,
  toStoredCall,
  toActiveDefinition,
  toDefinition,
  historyEventsOf,
  toLogRecord,
  toPending,
  toRunRecord,
  toStoredEvent,
  toWaitRecord,
  type LeasedCallRow,
  type ActiveDefinitionRow,
  type DefinitionRow,
  type EventRow,
  type LogRow,
  type PendingRow,
  type RunRow,
  type RunRetryRow,
  toRunRetryRecord,
  type WaitRow,
  toHumanTask,
  type HumanTaskRow,
} from '../rows.js';
import { checkRunRetry, checkTaskCommit, queueStatsOf, type ReadyCount } from '../rules.js';
import { CommitBatcher } from './commit-batcher.js';
import { preparing } from './prepared.js';
import { createMigrationPool, createPool, withApplicationName, type PoolSettings } from './pool.js';
import * as humanTasks from './human-tasks.js';
import { applyMigrations, loadMigrations } from './migrate.js';
import * as subscriberLeases from './subscriber-leases.js';
import { isRetryable, maskUrl, toStoreError } from './pg-errors.js';
import { listRunsQuery, SQL } from './statements.js';
import { toRoutingSummaries } from '../routing-summary.js';
import { inTransaction } from './transaction.js';
import { createNotifier, listenForWakes } from './wake.js';
import * as writes from './writes.js';

export interface PostgresStoreOptions {
  /** Connection URL, `postgres://user:password@host:port/database`. */
  url: string;
  /** Connections in the pool. @default 10 */
  poolSize?: number;
  /**
   * Schema that holds AutoFlow's tables (created by `migrate()` when missing); lowercase letters,
   * digits and `_`. @default the server's search_path (usually `public`)
   */
  schema?: string;
  /**
   * How long to wait for a connection to the server, or for a pooled one to come free, before failing.
   * @default 10000, or `queryTimeoutMs` when that is shorter
   */
  connectTimeoutMs?: number;
  /**
   * How long a statement may take: the server cancels it then (`statement_timeout`), and the client
   * stops waiting and destroys the connection (a failover can leave a connection silent, with no
   * reset, for as long as the kernel keeps the socket). Not for migrations. @default 30000
   */
  queryTimeoutMs?: number;
  /**
   * Names the connections in `pg_stat_activity`: `application_name` "autoflow <nodeId>", unless the URL or PGAPPNAME
   * names them; and the node whose deploys activate a version (ActiveDefinition.activatedBy).
   */
  nodeId?: string;
  /**
   * Told when an idle pooled connection fails (the server restarted, say). The pool drops it and
   * the next query opens a new one, so nothing fails; this only lets an operator see it happen.
   */
  onIdleConnectionError?: (error: Error) => void;
}

export interface PostgresStore extends Store {
  readonly kind: 'postgres';
  /**
   * Calls `onWake` when another node wrote something that may give this node work (LISTEN/NOTIFY
   * on a dedicated connection that reconnects by itself), and once after each (re)connect.
   * Returns the function that stops listening.
   */
  listen(onWake: () => void, onError: (error: Error) => void): () => Promise<void>;
}

/**
 * Rows of a deleted run's history or logs per statement: each stays far below postgres.queryTimeoutMs
 * and holds its transaction briefly, where one statement for a run with 100,000 log lines could outlast it.
 */
const DELETE_CHUNK_ROWS = 5000;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Whether a query parameter is, or lists, text with U+0000. */
function holdsNul(value: unknown): boolean {
  return typeof value === 'string' ? value.includes('\u0000') : Array.isArray(value) && value.some(holdsNul);
}

/**
 * BIGINT columns (epoch ms, seqs) and counts come back as JS numbers: every value AutoFlow stores
 * is below 2^53. Set per pool, not globally, so that other `pg` users in the process are unaffected.
 */
const INT8_OID = 20; // pg.types.builtins.INT8
const defaultParser = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => unknown;
const types: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : defaultParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

/**
 * `url` with `search_path` set to `schema` for its sessions, after whatever `options` it has: given
 * apart from the URL, node-postgres would let the URL's own `options` replace it.
 */
function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  const options = parsed.searchParams.get('options');
  parsed.searchParams.set('options', `${options === null ? '' : `${options} `}-c search_path=${schema}`);
  return parsed.toString();
}

/**
 * Creates the store; connects lazily. Call `migrate()` before anything else.
 *
 * @example
 * const store = createPostgresStore({ url: 'postgres://autoflow@db/autoflow', poolSize: 20 });
 * await store.migrate();
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const { url, schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new ConfigError(
      `invalid PostgreSQL schema name '${schema}': use lowercase letters, digits and _ (at most 63), not starting with a digit`,
    );
  }
  const connectionString = withApplicationName(schema === undefined ? url : withSearchPath(url, schema), options.nodeId);
  const poolSettings: PoolSettings = {
    connectionString,
    poolSize: options.poolSize,
    connectTimeoutMs: options.connectTimeoutMs,
    queryTimeoutMs: options.queryTimeoutMs,
    types,
  };
  const pool: Pool = createPool(poolSettings, (error) => options.onIdleConnectionError?.(toStoreError(error, url)));
  const named = preparing(pool);
  let closed = false;
  const senderId = randomUUID();
  let reportNotifyError: (error: Error) => void = () => {};
  const stopListening = new Set<() => Promise<void>>();
  /** After a write that made work for whichever node holds the run: wake the other nodes. */
  const wake = createNotifier(pool, senderId, (error) => reportNotifyError(toStoreError(error, url)));
  const waking = <T>(result: T, madeWork: boolean): T => {
    if (madeWork) wake();
    return result;
  };
  const commits = new CommitBatcher({
    // One statement, so its own transaction: no BEGIN and COMMIT round trips around it.
    write: (batch) => settle(() => writes.commitTasks(named, batch)),
    // Two batches in flight: one is written while the next one fills up.
    maxInFlight: 2,
    maxBatch: 100,
  });
  /** Same-key inserts of this process go to the server in call order, so the first caller wins. */
  const eventInserts = new Map<string, Promise<unknown>>();

  const guard = () => {
    if (closed) throw new StoreError(`the PostgreSQL store ${maskUrl(url)} is closed`);
  };
  /**
   * Runs `fn`; what it throws becomes the promise's rejection, as a StoreError when the driver threw
   * it. A single statement PostgreSQL aborted as a deadlock victim (two nodes locking a run and its
   * call rows in opposite orders) did nothing, so it runs again, up to three attempts in all.
   */
  const settle = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        guard();
        return await fn();
      } catch (error) {
        if (attempt < 3 && isRetryable(error)) continue;
        throw toStoreError(error, url);
      }
    }
  };
  const rows = <R extends QueryResultRow>(text: string, values: unknown[] = []) =>
    settle(async () => (await named.query<R>(text, values)).rows);
  /**
   * A read: one whose parameters hold U+0000 finds nothing without asking the server. No stored text holds U+0000
   * (PostgreSQL cannot), and sent as a parameter it fails the statement (22021), where SQLite finds no row: a run id
   * or a filter from a URL (`?workflow=%00`) answers as on SQLite, an empty list or a 404.
   */
  const lookup = <R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> =>
    values.some(holdsNul) ? Promise.resolve([]) : rows<R>(text, values);
  const count = async (text: string, values: unknown[]) => settle(async () => (await named.query(text, values)).rowCount ?? 0);
  const transaction = <T>(body: Parameters<typeof inTransaction<T>>[1]) => settle(() => inTransaction(pool, body));

  function insertEvent(event: Parameters<Store['insertEvent']>[0], dedupeKey: string, receivedAt: number) {
    const insert = async () => {
      for (;;) {
        const inserted = await rows<{ seq: number }>(SQL.insertEvent, [dedupeKey, event.type, JSON.stringify(event), receivedAt]);
        if (inserted[0]) return { seq: inserted[0].seq, duplicate: false };
        // A new statement, so a new snapshot: it sees the row that made the insert do nothing.
        const existing = await rows<{ seq: number }>(SQL.eventSeqByDedupeKey, [dedupeKey]);
        if (existing[0]) return { seq: existing[0].seq, duplicate: true };
      }
    };
    const previous = eventInserts.get(dedupeKey) ?? Promise.resolve();
    const result = previous.then(insert, insert);
    const tail = result.catch(() => undefined);
    eventInserts.set(dedupeKey, tail);
    void tail.then(() => eventInserts.get(dedupeKey) === tail && eventInserts.delete(dedupeKey));
    return result;
  }

  async function routeEvents(routings: EventRouting[]): Promise<RouteResult[]> {
    const results = await transaction(async (client) => {
      const applied = [];
      for (const routing of routings) applied.push(await writes.routeEvent(client, routing));
      return applied;
    });
    return waking(
      results,
      results.some((result, i) => leftWorkToClaim(routings[i]!, result)),
    );
  }

  return {
    kind: 'postgres',

    migrate: () =>
      settle(async () => {
        const migrations = createMigrationPool(poolSettings);
        migrations.on('error', () => {}); // its connection's failure fails the migration that uses it
        try {
          return await applyMigrations(migrations, loadMigrations(), { url, ...(schema === undefined ? {} : { schema }) });
        } finally {
          await migrations.end();
        }
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all([...stopListening].map((stop) => stop()));
      await pool.end();
    },
    listen: (onWake, onError) => {
      guard();
      reportNotifyError = onError;
      const stop = listenForWakes({ connection: poolSettings, senderId, onWake, onError: (error) => onError(toStoreError(error, url)) });
      const once = async () => {
        stopListening.delete(once);
        await stop();
      };
      stopListening.add(once);
      return once;
    },

    deployDefinition: (def) =>
      transaction(async (client) => {
        const { version, name } = def;
        await client.query(SQL.insertDefinition, [
          version,
          name,
          JSON.stringify(def.manifest),
          def.bundle,
          def.sourceMap ?? null,
          def.origin ?? null,
          def.deployedAt,
        ]);
        await client.query(SQL.activateDefinition, [name, version, def.deployedAt, options.nodeId ?? null]);
      }),
    getDefinition: async (version) => (await lookup<DefinitionRow>(SQL.getDefinition, [version])).map(toDefinition)[0],
    deleteUnusedDefinitions: async (deployedBefore, limit) =>
      (await rows<{ n: number }>(SQL.deleteUnusedDefinitions, [deployedBefore, rowLimit(limit)]))[0]?.n ?? 0,
    listActiveDefinitions: async () => (await rows<ActiveDefinitionRow>(SQL.listActiveDefinitions)).map(toActiveDefinition),
    retireDefinition: async (name) => (await count(SQL.retireDefinition, [name])) > 0,
    listDefinitionVersions: async (name) =>
      (await lookup<{ version: string; name: string; deployed_at: number; active: boolean }>(SQL.listDefinitionVersions, [name])).map(
        (row) => ({ version: row.version, name: row.name, deployedAt: row.deployed_at, active: row.active }),
      ),

    insertEvent: async (event, dedupeKey, receivedAt) => {
      const result = await insertEvent(event, dedupeKey, receivedAt);
      return waking(result, !result.duplicate);
    },
    listUnroutedEvents: async (limit) => (await rows<EventRow>(SQL.listUnroutedEvents, [rowLimit(limit)])).map(toStoredEvent),
    listEventsAfter: async (afterSeq, limit) => (await rows<EventRow>(SQL.listEventsAfter, [afterSeq, rowLimit(limit)])).map(toStoredEvent),
    listRecentEvents: async (type, since, limit, after = { receivedAt: since, seq: 0 }) =>
      (await lookup<EventRow>(SQL.listRecentEvents, [type, since, rowLimit(limit), after.receivedAt, after.seq])).map(toStoredEvent),
    listEvents: async ({ limit, beforeSeq, type }) => {
      const values: unknown[] = [beforeSeq ?? Number.MAX_SAFE_INTEGER, rowLimit(limit)];
      const found =
        type === undefined ? lookup<EventRow>(SQL.listEvents, values) : lookup<EventRow>(SQL.listEventsOfType, [...values, type]);
      return (await found).map(toStoredEvent);
    },
    getEvent: async (seq) => (await rows<EventRow>(SQL.getEvent, [seq])).map(toStoredEvent)[0],
    findEvent: async (dedupeKey) => (await lookup<EventRow>(SQL.findEvent, [dedupeKey])).map(toStoredEvent)[0],
    deleteOldEvents: async (receivedBefore, throughSeq, limit) =>
      (await rows<{ n: number }>(SQL.deleteOldEvents, [receivedBefore, throughSeq, rowLimit(limit)]))[0]?.n ?? 0,

    listWaitShapes: async (type) =>
      (await lookup<{ paths: string }>(SQL.listWaitShapes, [type])).map((row) => JSON.parse(row.paths) as string[]),
    findWaits: async (type, key) => (await lookup<WaitRow>(SQL.findWaits, [type, key])).map(toWaitRecord),
    listWaitsToLookBack: async (until, limit, after) =>
      (
        await rows<WaitRow>(SQL.listWaitsToLookBack, [
          until,
          after?.registeredAt ?? -1,
          after?.runId ?? '',
          after?.step ?? -1,
          rowLimit(limit),
        ])
      ).map(toWaitRecord),
    markWaitsLookedBack: async (waits) => {
      if (waits.length === 0) return;
      await rows(SQL.markWaitsLookedBack, [waits.map((wait) => wait.runId), waits.map((wait) => wait.step)]);
    },
    routeEvent: async (routing) => (await routeEvents([routing]))[0]!,
    routeEvents,

    createRun: async (run, lease) => {
      const [created] = await settle(() => writes.insertRuns(named, [run], lease));
      // A leased run is its owner's to advance, a queued one nobody's yet: waking the other nodes would only send them
      // to claim it in vain.
      if (created) return waking({ created: true, run: toRunRecord(created) }, !lease && created.status !== 'queued');
      // It exists: a new statement sees it, even when another node inserted it while ours waited.
      const [existing] = await rows<RunRow>(SQL.getRun, [run.id]);
      if (!existing) {
        throw new StoreError(
          `run ${run.id} was neither created nor found (an ended run of that id may be being deleted by retention); try again in a moment`,
        );
      }
      return { created: false, run: toRunRecord(existing) };
    },
    getRun: async (id) => (await lookup<RunRow>(SQL.getRun, [id])).map(toRunRecord)[0],
    listRuns: async (filter) => {
      const limit = runPageLimit(filter.limit);
      const order = runOrderOf(filter);
      const after = filter.cursor === undefined ? undefined : decodeRunPosition(filter.cursor, order);
      const query = listRunsQuery(filter, after, limit + 1);
      const found = await lookup<RunRow>(query.text, query.values);
      const { items, nextCursor } = pageOf(found, limit, toRunRecord, order);
      return nextCursor === undefined ? { runs: items } : { runs: items, nextCursor };
    },
    summarizeRouting: async ({ seqs, runIds }) =>
      toRoutingSummaries(
        await lookup<{ seq: string; run_id: string; started: boolean }>(SQL.summarizeRouting, [seqs.slice(0, 100), runIds]),
      ),
    countGroupSlotsTaken: async (group) => (await rows<{ n: number }>(SQL.countGroupSlotsTaken, [group]))[0]?.n ?? 0,
    listGroupSlotHolders: (group, limit) => rows<GroupSlotHolder>(SQL.listGroupSlotHolders, [group, rowLimit(limit)]),
    countRunsByStatus: async () => {
      const counts: Partial<Record<RunStatus, number>> = {};
      for (const { status, n } of await rows<{ status: RunStatus; n: number }>(SQL.countRunsByStatus)) counts[status] = n;
      return counts;
    },
    deleteEndedRuns: async (endedBefore, limit) => {
      const count = async (text: string, values: unknown[]) => (await rows<{ n: number }>(text, values))[0]?.n ?? 0;
      let deleted = 0;
      for (const { id } of await rows<{ id: string }>(SQL.endedRuns, [endedBefore, rowLimit(limit)])) {
        if ((await count(SQL.startDeletingRun, [id, endedBefore])) === 0) continue;
        for (const chunk of [SQL.deleteLogsChunk, SQL.deleteHistoryChunk]) {
          while ((await count(chunk, [id, DELETE_CHUNK_ROWS])) > 0);
        }
        deleted += await count(SQL.deleteRun, [id]);
      }
      return deleted;
    },
    retryRun: async (retry) => {
      checkRunRetry(retry);
      const retried = await transaction((client) => writes.retryRun(client, retry));
      // Unleased and ready, with calls due and timers set: work for whichever node comes first.
      return waking(retried, retried);
    },
    addPending: async (runId, resolution, at) => {
      const added = await settle(() => writes.appendPendingUnlessTerminal(named, runId, resolution, at));
      return waking(added, added);
    },
    cancelRequestedAt: async (runId) =>
      (await lookup<{ cancel_requested_at: number | null }>(SQL.cancelRequestedAt, [runId]))[0]?.cancel_requested_at ?? undefined,
    queueStats: async () => queueStatsOf(await rows<ReadyCount>(SQL.queueStats)),

    claimReadyRuns: (owner, now, leaseUntil, limit, busy) =>
      settle(() => writes.claimReadyRuns(named, owner, now, leaseUntil, limit, busy)),
    releaseRun: async (runId, owner) => void (await count(SQL.releaseRun, [runId, owner])),
    seizeRun: async (runId, owner, leaseUntil, expected) => (await count(SQL.seizeRun, [runId, owner, leaseUntil, expected])) > 0,
    renewLeases: (owner, runIds, runLeaseUntil, calls, callLeaseUntil) =>
      transaction(async (client) => {
        const runs = runIds.length ? ((await client.query(SQL.renewRunLeases, [owner, runIds, runLeaseUntil])).rowCount ?? 0) : 0;
        if (!calls.length) return { runs, lostCalls: [] };
        const renewed = await client.query<{ run_id: string; step: number }>(SQL.renewCallLeases, [
          owner,
          calls.map((c) => c.runId),
          calls.map((c) => c.step),
          callLeaseUntil,
        ]);
        const held = new Set(renewed.rows.map((row) => `${row.run_id}:${row.step}`));
        const lostCalls = calls.filter((c) => !held.has(`${c.runId}:${c.step}`)).map(({ runId, step }) => ({ runId, step }));
        return { runs, lostCalls };
      }),
    releaseLeases: async (owner, runIds) => {
      await transaction(async (client) => {
        if (runIds.length) await client.query(SQL.releaseRuns, [owner, runIds]);
        await client.query(SQL.releaseCallLeases, [owner]);
      });
      // What was handed back is claimable now: tell the other nodes rather than let them wait for a poll.
      wake();
    },
    loadHistory: async (runId, fromSeq = 0, limit) =>
      historyEventsOf(
        (await lookup<{ body: string }>(SQL.loadHistory, [runId, fromSeq, limit ?? null])).map((r) => r.body),
        fromSeq,
        limit,
      ),
    loadPending: async (runId) => (await lookup<PendingRow>(SQL.loadPending, [runId])).map(toPending),
    commitTask: async (commit) => {
      checkTaskCommit(commit);
      const result = await commits.submit(commit);
      // Work for runs this node may not hold: children, a successor, a parent, events to route.
      const forOthers = commit.children.length > 0 || commit.successor !== undefined || commit.notifyParent !== undefined;
      return waking(result, result.ok && (forOthers || (commit.events?.length ?? 0) > 0));
    },

    claimDueCalls: (owner, now, leaseUntil, limit) =>
      settle(() => writes.leaseCalls(named, SQL.claimDueCalls, owner, now, leaseUntil, limit)),
    reclaimOwnCalls: (owner, now, leaseUntil, limit) =>
      settle(() => writes.leaseCalls(named, SQL.reclaimOwnCalls, owner, now, leaseUntil, limit)),
    resolveCall: async (runId, step, resolution, attempts, at, owner) => {
      const resolved = (await count(SQL.resolveCall, [runId, step, at, attempts, JSON.stringify(resolution), owner ?? null])) > 0;
      return waking(resolved, resolved);
    },
    rescheduleCall: async (runId, step, attempts, nextAt, lastError, owner) =>
      (await count(SQL.rescheduleCall, [runId, step, attempts, nextAt, json(lastError), owner ?? null])) > 0,
    listCalls: async (runId) => (await lookup<LeasedCallRow>(SQL.listCalls, [runId])).map(toStoredCall),
    listRunRetries: async (runId) => (await lookup<RunRetryRow>(SQL.listRunRetries, [runId])).map(toRunRetryRecord),

    nextDueAt: async () => {
      const [due] = await rows<{ call: number | null; timer: number | null }>(SQL.nextDue);
      const times = [due?.call ?? null, due?.timer ?? null].filter((at) => at !== null);
      return times.length ? Math.min(...times) : undefined;
    },
    fireDueTimers: async (now, limit) => {
      const fired = await settle(() => writes.fireDueTimers(named, now, limit));
      return waking(fired, fired.length > 0);
    },

    listLogs: async (runId, { afterIndex = -1, limit = DEFAULT_LOG_PAGE } = {}) =>
      (await lookup<LogRow>(SQL.listLogs, [runId, afterIndex, rowLimit(limit)])).map(toLogRecord),

    getScheduleTick: async (scheduleId) => (await lookup<{ tick: number }>(SQL.getScheduleTick, [scheduleId]))[0]?.tick,
    advanceScheduleTick: async (scheduleId, tick) => (await count(SQL.advanceScheduleTick, [scheduleId, tick])) > 0,
    acquireSubscriberLease: (key, owner, now, until) =>
      settle(() => subscriberLeases.acquireSubscriberLease(named, key, owner, now, until)),
    renewSubscriberLease: (key, token, until) => settle(() => subscriberLeases.renewSubscriberLease(named, key, token, until)),
    releaseSubscriberLease: (key, token) => settle(() => subscriberLeases.releaseSubscriberLease(named, key, token)),
    advanceSubscriberMark: (key, token, seq) => settle(() => subscriberLeases.advanceSubscriberMark(named, key, token, seq)),

    addFirstApiToken: (hash, name, createdAt) =>
      transaction(async (client) => {
        await client.query(SQL.lockApiTokens);
        return ((await client.query(SQL.addFirstApiToken, [hash, name, createdAt])).rowCount ?? 0) > 0;
      }),
    hasApiToken: async (hash) => (await lookup(SQL.hasApiToken, [hash])).length > 0,
    countApiTokens: async () => (await rows<{ n: number }>(SQL.countApiTokens))[0]?.n ?? 0,
    replaceApiTokens: (hash, name, createdAt) =>
      transaction(async (client) => {
        await client.query(SQL.lockApiTokens);
        const replaced = (await client.query(SQL.deleteApiTokens)).rowCount ?? 0;
        await client.query(SQL.insertApiToken, [hash, name, createdAt]);
        return replaced;
      }),
    revokeSession: async (id, until, now) => void (await count(SQL.revokeSession, [id, until, now])),
    isSessionRevoked: async (id, now) => (await lookup(SQL.isSessionRevoked, [id, now])).length > 0,

    createHumanTask: (task) => transaction((client) => humanTasks.createHumanTask(client, task)),
    getHumanTask: async (id) => (await lookup<HumanTaskRow>(humanTasks.HUMAN_TASK_SQL.get, [id])).map(toHumanTask)[0],
    listHumanTasks: async (filter) => {
      const limit = runPageLimit(filter.limit);
      const after = filter.cursor === undefined ? undefined : decodeRunCursor(filter.cursor);
      const query = humanTasks.listHumanTasksQuery(filter, after, limit + 1);
      const found = await lookup<HumanTaskRow>(query.text, query.values);
      const { items, nextCursor } = pageOf(found, limit, toHumanTask);
      return nextCursor === undefined ? { tasks: items } : { tasks: items, nextCursor };
    },
    updateHumanTask: ({ event, ...update }) =>
      transaction(async (client) => {
        if (!(await humanTasks.updateHumanTask(client, update))) return false;
        if (event)
          await client.query(SQL.insertEvents, [[event.dedupeKey], [event.event.type], [JSON.stringify(event.event)], [event.receivedAt]]);
        return true;
      }),
  };
}
