/**
 * The embedded default Store: one SQLite file in WAL mode (better-sqlite3). Writes go through
 * group commit (group-commit.ts): concurrent writes share one transaction and one fsync. Reads
 * run at once on the same connection and see everything committed.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError, toError } from '../../core/errors.js';
import type { RunStatus } from '../../core/model.js';
import type { Logger, RunFilter, RunPage, Store } from '../../core/ports.js';
import { decodeRunPosition, DEFAULT_LOG_PAGE, pageOf, rowLimit, runOrderOf, runPageLimit } from '../pagination.js';
import { FileIdentity } from './file-identity.js';
import { GroupCommit, LOCK_WAIT_MS, type GroupCommitStats } from './group-commit.js';
import { applyMigrations, loadMigrations } from './migrate.js';
import {
  toStoredCall,
  toActiveDefinition,
  toDefinition,
  historyEventsOf,
  toLogRecord,
  toPending,
  toRunRecord,
  toRunRetryRecord,
  toStoredEvent,
  toWaitRecord,
  json,
} from '../rows.js';
import type { RunRow } from '../rows.js';
import { SqliteHumanTasks } from './human-tasks.js';
import { SqliteSubscriberLeases } from './subscriber-leases.js';
import { toRoutingSummaries } from '../routing-summary.js';
import { queueStatsOf } from '../rules.js';
import { listRunsSql, prepareStatements, type Statements } from './statements.js';
import * as writes from './writes.js';
import { isDamage, toStoreError } from './sqlite-errors.js';

export interface SqliteStoreOptions {
  /** The database file; its directory is created when missing. */
  path: string;
  /**
   * `FULL` makes every commit survive a power loss; `NORMAL` (in WAL mode) may lose the last
   * commits on power loss, never on a process crash, and never corrupts. @default 'FULL'
   */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * How long a write waits for another process's write lock before failing. The event loop goes on
   * meanwhile: the write is tried again on a timer (group-commit.ts). @default 5000
   */
  busyTimeoutMs?: number;
  /** Where the store reports, once, that its files were deleted or replaced under it (as an error). */
  logger?: Logger;
}

export interface SqliteStore extends Store {
  readonly kind: 'sqlite';
  /** How many writes shared how many transactions so far (group commit at work). */
  readonly stats: GroupCommitStats;
}

/**
 * Rows of a deleted run's history and logs per transaction: ≈20 ms of deletion here, shared with the
 * engine's commits of that turn, instead of seconds for a run with 100,000 log lines.
 */
const DELETE_CHUNK_ROWS = 1000;
/**
 * The write-ahead log is cut back to this size once checkpointed. It grows past the ≈4 MB of an
 * automatic checkpoint only while a reader holds an old snapshot (a backup under load); without a
 * limit it would keep the largest size it ever had until the server stops.
 */
const JOURNAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;

/** Whether `path` names a file of its own (not `:memory:`, a temporary database or a URI). */
const isFile = (path: string): boolean => path !== '' && path !== ':memory:' && !path.startsWith('file:');

/**
 * Creates a missing database file readable by this user only (0600): it holds histories and inputs.
 * SQLite gives the `-wal` and `-shm` files it creates beside it the database file's mode. An existing
 * file keeps its mode; an in-memory or temporary database (`:memory:`, '') has no file.
 */
function createPrivately(path: string): void {
  if (!isFile(path)) return;
  try {
    // `wx`: only a new file; an empty file is an empty database to SQLite.
    closeSync(openSync(path, 'wx', 0o600));
  } catch {
    // EEXIST: there already, its mode the operator's. Anything else, SQLite's own open reports, with its advice.
  }
}

/**
 * Creates the directory of the database at `path` unless it exists, or throws a StoreError that says why it cannot.
 * Exported for the server, whose files beside the database (the simulator's state) come before the store.
 */
export function ensureDatabaseDirectory(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    throw new StoreError(
      `cannot create the directory ${dirname(path)} for the SQLite database ${path} (${toError(error).message}): ` +
        'check the path and that this user may create it',
      { cause: error, details: { path } },
    );
  }
}

/**
 * SQLite's busy handler sleeps in the calling thread: while it waits for a lock, the event loop
 * stands still (the probes included). At start, nothing else runs yet, and switching to WAL or
 * migrating may wait for another starting process: the whole patience. Afterwards the connection
 * waits briefly (LOCK_WAIT_MS), and group commit tries again on a timer.
 */
function withLockPatience<T>(db: Database.Database, patienceMs: number, fn: () => T): T {
  db.pragma(`busy_timeout = ${patienceMs}`);
  try {
    return fn();
  } finally {
    db.pragma(`busy_timeout = ${Math.min(LOCK_WAIT_MS, patienceMs)}`);
  }
}

function open(options: SqliteStoreOptions, patienceMs: number): Database.Database {
  const { path } = options;
  ensureDatabaseDirectory(path);
  try {
    createPrivately(path);
    const db = new Database(path);
    // The busy timeout first: switching to WAL needs a lock that another starting process may hold.
    withLockPatience(db, patienceMs, () => {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      db.pragma('foreign_keys = ON');
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
      // A first read opens the write-ahead log, so that its files exist when the store records them.
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    });
    return db;
  } catch (error) {
    throw toStoreError(error, path);
  }
}

/**
 * Opens (creating if needed) the SQLite store at `options.path`. Throws StoreError when the file
 * cannot be opened. Call `migrate()` before anything else.
 *
 * @example
 * const store = createSqliteStore({ path: './data/autoflow.db' });
 * await store.migrate();
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const { path } = options;
  const patienceMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
  const db = open(options, patienceMs);
  const files = isFile(path) ? new FileIdentity(path, (error) => options.logger?.error({ err: error, path }, error.message)) : undefined;
  /**
   * The first error that showed the file damaged. A damaged page fails only what reads it, so the rest may go on
   * answering, but the probes fail with it from then on (`/readyz` 503, `autoflow_store_up` 0): only a restore
   * mends it, and nothing else would tell the operator.
   */
  let damaged: Error | undefined;
  const mapError = (error: unknown): Error => {
    const mapped = toStoreError(error, path);
    if (damaged === undefined && isDamage(error)) {
      damaged = mapped;
      options.logger?.error({ err: mapped, path }, `${mapped.message} The readiness probe fails from now on.`);
    }
    return mapped;
  };
  const group = new GroupCommit(db, {
    mapError,
    lockPatienceMs: patienceMs,
    beforeAcknowledge: () => files?.problem(),
  });
  const listRunsStatements = new Map<string, Database.Statement<[Record<string, unknown>], RunRow>>();
  let prepared: Statements | undefined;
  let closed = false;
  const humanTasks = new SqliteHumanTasks(db);
  const subscriberLeases = new SqliteSubscriberLeases(db);

  /**
   * Prepared on first use, after migrate(): preparing needs the tables. `probe`: a query of the
   * readiness, health or metrics probes, which looks at the database's files every time.
   */
  function statements(probe = false): Statements {
    if (closed) throw new StoreError(`the SQLite store ${path} is closed`);
    const lost = files?.problem(probe) ?? (probe ? damaged : undefined);
    if (lost) throw lost;
    if (!prepared) {
      try {
        prepared = prepareStatements(db);
      } catch (error) {
        throw new StoreError(
          `the database ${path} has no AutoFlow schema yet: check the path, or start an AutoFlow server on it once, which creates it (store.migrate())`,
          { cause: error },
        );
      }
    }
    return prepared;
  }

  /** Runs `fn` now; what it throws becomes the promise's rejection, as a StoreError when SQLite threw it. */
  const settle = <T>(fn: () => T): Promise<T> =>
    new Promise<T>((resolve) => resolve(fn())).catch((error: unknown) => Promise.reject(mapError(error)));

  /** A read, at once. */
  const read = <T>(query: (s: Statements) => T): Promise<T> => settle(() => query(statements()));
  /** A read of the probes: it fails at once when the database's files are gone. */
  const probe = <T>(query: (s: Statements) => T): Promise<T> => settle(() => query(statements(true)));

  /** A write, in the next group commit; resolves once committed. */
  const write = async <T>(apply: (s: Statements) => T): Promise<T> => {
    const s = statements();
    return group.write(() => apply(s));
  };

  function listRuns(filter: RunFilter): RunPage {
    const limit = runPageLimit(filter.limit);
    const order = runOrderOf(filter);
    const after = filter.cursor === undefined ? undefined : decodeRunPosition(filter.cursor, order);
    const sql = listRunsSql(filter, after !== undefined);
    let statement = listRunsStatements.get(sql);
    if (!statement) listRunsStatements.set(sql, (statement = db.prepare<[Record<string, unknown>], RunRow>(sql)));
    const rows = statement.all({
      workflow: filter.workflow,
      status: filter.status,
      parentId: filter.parentId,
      createdFrom: filter.createdFrom,
      createdBefore: filter.createdBefore,
      subject: filter.subject,
      updatedFrom: filter.updatedFrom,
      version: filter.version,
      ...after,
      limit: limit + 1,
    });
    const { items, nextCursor } = pageOf(rows, limit, toRunRecord, order);
    return nextCursor === undefined ? { runs: items } : { runs: items, nextCursor };
  }

  return {
    kind: 'sqlite',
    get stats() {
      return group.stats;
    },

    migrate: () => settle(() => withLockPatience(db, patienceMs, () => applyMigrations(db, loadMigrations(), path))),
    close: async () => {
      if (closed) return;
      await group.settle();
      closed = true;
      await settle(() => db.close());
    },

    deployDefinition: (def) =>
      write((s) => {
        s.insertDefinition.run({
          ...def,
          manifest: JSON.stringify(def.manifest),
          sourceMap: def.sourceMap ?? null,
          origin: def.origin ?? null,
        });
        s.activateDefinition.run({ name: def.name, version: def.version, activatedAt: def.deployedAt });
      }),
    getDefinition: (version) =>
      read((s) => {
        const row = s.getDefinition.get(version);
        return row && toDefinition(row);
      }),
    deleteUnusedDefinitions: (deployedBefore, limit) => write((s) => writes.deleteUnusedDefinitions(s, deployedBefore, limit)),
    retireDefinition: (name) => write((s) => s.retireDefinition.run(name).changes > 0),
    listActiveDefinitions: () => read((s) => s.listActiveDefinitions.all().map(toActiveDefinition)),
    listDefinitionVersions: (name) =>
      read((s) =>
        s.listDefinitionVersions
          .all(name)
          .map((row) => ({ version: row.version, name: row.name, deployedAt: row.deployed_at, active: row.active === 1 })),
      ),

    insertEvent: (event, dedupeKey, receivedAt) => write((s) => writes.insertEvent(s, event, dedupeKey, receivedAt)),
    listUnroutedEvents: (limit) => read((s) => s.listUnroutedEvents.all(rowLimit(limit)).map(toStoredEvent)),
    listEventsAfter: (afterSeq, limit) => read((s) => s.listEventsAfter.all({ afterSeq, limit: rowLimit(limit) }).map(toStoredEvent)),
    listRecentEvents: (type, since, limit, after = { receivedAt: since, seq: 0 }) =>
      read((s) =>
        s.listRecentEvents
          .all({ type, since, afterReceivedAt: after.receivedAt, afterSeq: after.seq, limit: rowLimit(limit) })
          .map(toStoredEvent),
      ),
    listEvents: ({ limit, beforeSeq, type }) =>
      read((s) => {
        const params = { type, beforeSeq: beforeSeq ?? Number.MAX_SAFE_INTEGER, limit: rowLimit(limit) };
        return (type === undefined ? s.listEvents : s.listEventsOfType).all(params).map(toStoredEvent);
      }),
    getEvent: (seq) =>
      read((s) => {
        const row = s.getEvent.get(seq);
        return row && toStoredEvent(row);
      }),
    findEvent: (dedupeKey) =>
      read((s) => {
        const row = s.findEvent.get(dedupeKey);
        return row && toStoredEvent(row);
      }),
    deleteOldEvents: (receivedBefore, throughSeq, limit) => write((s) => writes.deleteOldEvents(s, receivedBefore, throughSeq, limit)),

    listWaitShapes: (type) => read((s) => s.listWaitShapes.all({ type }).map((paths) => JSON.parse(paths) as string[])),
    findWaits: (type, key) => read((s) => s.findWaits.all(type, key).map(toWaitRecord)),
    listWaitsToLookBack: (until, limit, after) =>
      read((s) =>
        s.listWaitsToLookBack
          .all({ until, limit, registeredAt: after?.registeredAt ?? -1, runId: after?.runId ?? '', step: after?.step ?? -1 })
          .map(toWaitRecord),
      ),
    markWaitsLookedBack: (waits) =>
      write((s) => {
        for (const { runId, step } of waits) s.markWaitLookedBack.run(runId, step);
      }),
    routeEvent: (routing) => write((s) => writes.routeEvent(s, routing)),
    routeEvents: (routings) => write((s) => routings.map((routing) => writes.routeEvent(s, routing))),

    createRun: (run, lease) =>
      write((s) => {
        const created = writes.insertRun(s, run, lease);
        const row = s.getRun.get(run.id);
        if (!row) throw new StoreError(`a run ${run.id} that ended long ago is being deleted by retention: try again in a moment`);
        return { created, run: toRunRecord(row) };
      }),
    getRun: (id) =>
      read((s) => {
        const row = s.getRun.get(id);
        return row && toRunRecord(row);
      }),
    listRuns: (filter) => read(() => listRuns(filter)),
    countGroupSlotsTaken: (group) => read((s) => s.groupSlotsTaken.get({ group, id: '' })!),
    listGroupSlotHolders: (group, limit) =>
      read((s) => s.slotHolders.all({ group, limit: rowLimit(limit) }).map((row) => ({ ...row, cancelling: row.cancelling === 1 }))),
    countRunsByStatus: () =>
      probe((s) => {
        const counts: Partial<Record<RunStatus, number>> = {};
        for (const { status, n } of s.countRunsByStatus.all()) counts[status as RunStatus] = n;
        return counts;
      }),
    deleteEndedRuns: async (endedBefore, limit) => {
      // A transaction per step, each in a group commit of its own: the event loop turns between them.
      let deleted = 0;
      for (const id of await read((s) => writes.endedRuns(s, endedBefore, limit))) {
        if (!(await write((s) => writes.startDeletingRun(s, id, endedBefore)))) continue;
        while ((await write((s) => writes.deleteRunRows(s, id, DELETE_CHUNK_ROWS))) > 0);
        deleted += await write((s) => s.deleteRun.run(id).changes);
      }
      return deleted;
    },
    retryRun: (retry) => write((s) => writes.retryRun(s, retry)),
    summarizeRouting: ({ seqs, runIds }) =>
      read((s) => toRoutingSummaries(s.summarizeRouting.all({ seqs: JSON.stringify(seqs.slice(0, 100)), runIds: JSON.stringify(runIds) }))),
    addPending: (runId, resolution, at) => write((s) => writes.addPendingUnlessTerminal(s, runId, resolution, at)),
    cancelRequestedAt: (runId) => read((s) => s.cancelRequestedAt.get(runId) ?? undefined),

    claimReadyRuns: (owner, now, leaseUntil, limit, busy) => write((s) => writes.claimReadyRuns(s, owner, now, leaseUntil, limit, busy)),
    releaseRun: (runId, owner) => write((s) => void s.releaseRun.run({ id: runId, owner })),
    seizeRun: (runId, owner, leaseUntil, expected) => write((s) => s.seizeRun.run({ id: runId, owner, leaseUntil, expected }).changes > 0),
    renewLeases: (owner, runIds, runLeaseUntil, calls, callLeaseUntil) =>
      write((s) => writes.renewLeases(s, owner, runIds, runLeaseUntil, calls, callLeaseUntil)),
    releaseLeases: (owner, runIds) => write((s) => writes.releaseLeases(s, owner, runIds)),
    queueStats: () => probe((s) => queueStatsOf(s.queueStats.all())),
    loadHistory: (runId, fromSeq = 0, limit) =>
      read((s) => historyEventsOf(s.loadHistory.all({ runId, fromSeq, rows: limit ?? -1 }), fromSeq, limit)),
    loadPending: (runId) => read((s) => s.loadPending.all(runId).map(toPending)),
    commitTask: (commit) => write((s) => writes.commitTask(s, commit)),

    claimDueCalls: (owner, now, leaseUntil, limit) => write((s) => writes.claimDueCalls(s, owner, now, leaseUntil, limit)),
    reclaimOwnCalls: (owner, now, leaseUntil, limit) => write((s) => writes.reclaimOwnCalls(s, owner, now, leaseUntil, limit)),
    resolveCall: (runId, step, resolution, attempts, at, owner) =>
      write((s) => writes.resolveCall(s, runId, step, resolution, attempts, at, owner)),
    rescheduleCall: (runId, step, attempts, nextAt, lastError, owner) =>
      write((s) => s.rescheduleCall.run({ runId, step, attempts, nextAt, lastError: json(lastError), owner: owner ?? null }).changes > 0),
    listCalls: (runId) => read((s) => s.listCalls.all(runId).map(toStoredCall)),
    listRunRetries: (runId) => read((s) => s.listRunRetries.all(runId).map(toRunRetryRecord)),

    nextDueAt: () =>
      read((s) => {
        const { call, timer } = s.nextDue.get()!;
        const due = [call, timer].filter((at) => at !== null);
        return due.length ? Math.min(...due) : undefined;
      }),
    fireDueTimers: (now, limit) => write((s) => writes.fireDueTimers(s, now, limit)),

    listLogs: (runId, options = {}) =>
      read((s) =>
        s.listLogs
          .all({ runId, afterIndex: options.afterIndex ?? -1, limit: rowLimit(options.limit ?? DEFAULT_LOG_PAGE) })
          .map(toLogRecord),
      ),

    getScheduleTick: (scheduleId) => read((s) => s.getScheduleTick.get(scheduleId)),
    advanceScheduleTick: (scheduleId, tick) => write((s) => s.advanceScheduleTick.run({ id: scheduleId, tick }).changes > 0),
    acquireSubscriberLease: async (key, owner, now, until) =>
      (await read(() => subscriberLeases.refusal(key, owner, now))) ?? write(() => subscriberLeases.acquire(key, owner, now, until)),
    renewSubscriberLease: (key, token, until) => write(() => subscriberLeases.renew(key, token, until)),
    releaseSubscriberLease: (key, token) => write(() => subscriberLeases.release(key, token)),
    advanceSubscriberMark: (key, token, seq) => write(() => subscriberLeases.advance(key, token, seq)),

    addFirstApiToken: (hash, name, createdAt) => write((s) => s.addFirstApiToken.run(hash, name, createdAt).changes > 0),
    hasApiToken: (hash) => read((s) => s.hasApiToken.get(hash) !== undefined),
    countApiTokens: () => probe((s) => s.countApiTokens.get()!),
    replaceApiTokens: (hash, name, createdAt) =>
      write((s) => {
        const { changes } = s.deleteApiTokens.run();
        s.insertApiToken.run(hash, name, createdAt);
        return changes;
      }),
    revokeSession: (id, until, now) =>
      write((s) => {
        s.deleteExpiredRevocations.run(now);
        s.revokeSession.run(id, until);
      }),
    isSessionRevoked: (id, now) => read((s) => s.isSessionRevoked.get(id, now) !== undefined),

    createHumanTask: (task) => write(() => humanTasks.create(task)),
    getHumanTask: (id) => read(() => humanTasks.get(id)),
    listHumanTasks: (filter) => read(() => humanTasks.list(filter)),
    updateHumanTask: ({ event, ...update }) =>
      write((s) => {
        if (!humanTasks.update(update)) return false;
        if (event) writes.insertEvent(s, event.event, event.dedupeKey, event.receivedAt);
        return true;
      }),
  };
}
