/**
 * Group commit: writes that arrive while the event loop is busy are applied together in ONE
 * transaction on the next turn (setImmediate), each inside its own SAVEPOINT, so that one write
 * that throws is undone alone and the others still commit (when a write makes SQLite abandon the
 * whole transaction, the others are applied again without it). Every caller's promise settles only
 * after COMMIT returned, so a resolved write is on disk (with synchronous=FULL).
 *
 * Why: with synchronous=FULL each COMMIT costs an fsync. Measured here (DESIGN.md §6): ≈9,000
 * single-row commits/s, ≈270,000 rows/s when 100 rows share a commit. For commitTask (a workflow
 * task with a call): one writer ≈5,000 commits/s; 50 concurrent writers ≈30,000 commits/s, 50 per
 * transaction — then CPU, not fsync, is the limit (synchronous=NORMAL gives the same figure). A
 * savepoint costs ≈0.6 µs per write, against ≈30 µs for the commitTask itself.
 *
 * Another process that holds the write lock (an operator's sqlite3 shell in a transaction) must not
 * stop the event loop: SQLite's busy handler sleeps in the calling thread, so the connection waits
 * for the lock only briefly (LOCK_WAIT_MS), and a batch that finds it taken is tried again on a timer,
 * with the writes that arrived meanwhile, until `lockPatienceMs` have passed.
 */
import Database, { type Statement } from 'better-sqlite3';

/** Counters for metrics and tests: how many writes shared how many transactions. */
export interface GroupCommitStats {
  transactions: number;
  writes: number;
}

export interface GroupCommitOptions {
  /** Turns what a write or the transaction throws into the error its caller sees. */
  mapError: (error: unknown) => Error;
  /**
   * How long a batch goes on trying to take a write lock that another process holds before its writes
   * fail with the locked error. Each try waits in SQLite's busy handler for the connection's own
   * `busy_timeout`, which should be short (LOCK_WAIT_MS). @default 0
   */
  lockPatienceMs?: number;
  /**
   * Called after each COMMIT, before any write of the batch is acknowledged: an error it returns fails
   * them all (the database file was replaced, say, so that what was committed is not where it will be read).
   */
  beforeAcknowledge?: () => Error | undefined;
}

/** The `busy_timeout` for a connection that writes through group commit: long enough for a checkpoint, short for the event loop. */
export const LOCK_WAIT_MS = 20;
/** The first pause between tries for a lock another process holds; it doubles up to MAX_LOCK_RETRY_MS. */
const FIRST_LOCK_RETRY_MS = 5;
const MAX_LOCK_RETRY_MS = 100;

interface QueuedWrite {
  apply: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: Error };

type Attempt =
  { kind: 'committed'; outcomes: Outcome[] } | { kind: 'lost'; index: number; error: Error } | { kind: 'failed'; error: unknown };

const isBusy = (error: unknown): boolean =>
  error instanceof Database.SqliteError && (error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED'));

export class GroupCommit {
  readonly #db: Database.Database;
  readonly #options: GroupCommitOptions;
  readonly #begin: Statement<[]>;
  readonly #savepoint: Statement<[]>;
  readonly #release: Statement<[]>;
  readonly #rollbackTo: Statement<[]>;
  readonly #commit: Statement<[]>;
  #queue: QueuedWrite[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  /** While another process holds the write lock: the next try, and when the first one found it taken. */
  #retry: { timer: NodeJS.Timeout; since: number; delayMs: number } | undefined;
  #idle: Array<() => void> = [];
  readonly #stats: GroupCommitStats = { transactions: 0, writes: 0 };

  constructor(db: Database.Database, options: GroupCommitOptions) {
    this.#db = db;
    this.#options = options;
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#savepoint = db.prepare('SAVEPOINT one_write');
    this.#release = db.prepare('RELEASE one_write');
    this.#rollbackTo = db.prepare('ROLLBACK TO one_write');
    this.#commit = db.prepare('COMMIT');
  }

  get stats(): GroupCommitStats {
    return { ...this.#stats };
  }

  /**
   * Queues `apply` (synchronous, using the database) for the next batch. Resolves with its
   * return value once the batch is committed; rejects with what it threw, or with the batch's
   * error when the transaction as a whole failed.
   */
  write<T>(apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ apply, resolve: resolve as (value: unknown) => void, reject });
      // While waiting for another process's lock, the next try takes this write along.
      if (!this.#retry) this.#scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Resolves once every write queued so far has settled: committed, failed, or given up on a lock. */
  async settle(): Promise<void> {
    if (!this.#retry) this.flush();
    while (this.#retry || this.#queue.length > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  /** Applies and commits everything queued, now (or, when another process holds the lock, on a later try). */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const retry = this.#retry;
    if (retry) clearTimeout(retry.timer);
    this.#retry = undefined;
    let batch = this.#queue;
    this.#queue = [];
    while (batch.length > 0) {
      const attempt = this.#attempt(batch);
      if (attempt.kind === 'committed') {
        this.#stats.transactions += 1;
        this.#stats.writes += batch.length;
        const lost = this.#options.beforeAcknowledge?.();
        batch.forEach((write, i) => {
          const outcome = attempt.outcomes[i]!;
          if (lost) write.reject(lost);
          else if (outcome.ok) write.resolve(outcome.value);
          else write.reject(outcome.error);
        });
        break;
      }
      if (attempt.kind === 'failed') {
        const since = retry?.since ?? performance.now();
        if (isBusy(attempt.error) && performance.now() - since < (this.#options.lockPatienceMs ?? 0)) {
          this.#waitForLock(batch, since, retry ? Math.min(retry.delayMs * 2, MAX_LOCK_RETRY_MS) : FIRST_LOCK_RETRY_MS);
          return;
        }
        const error = this.#options.mapError(attempt.error);
        for (const write of batch) write.reject(error);
        break;
      }
      // One write made SQLite roll the whole transaction back (it does so after SQLITE_FULL, for
      // example): that write fails alone, and the others run again in a new transaction.
      batch[attempt.index]!.reject(attempt.error);
      batch = batch.filter((_, i) => i !== attempt.index);
    }
    if (this.#queue.length > 0) this.#scheduled ??= setImmediate(() => this.flush());
    else for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Keeps `batch` first in line, and tries again after `delayMs` without holding up the event loop. */
  #waitForLock(batch: QueuedWrite[], since: number, delayMs: number): void {
    this.#queue = [...batch, ...this.#queue];
    this.#retry = { timer: setTimeout(() => this.flush(), delayMs), since, delayMs };
  }

  #attempt(batch: QueuedWrite[]): Attempt {
    const mapError = this.#options.mapError;
    try {
      this.#begin.run();
      const outcomes: Outcome[] = [];
      for (const [index, write] of batch.entries()) {
        this.#savepoint.run();
        try {
          const value = write.apply();
          this.#release.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          if (!this.#db.inTransaction) return { kind: 'lost', index, error: mapError(error) };
          this.#rollbackTo.run();
          this.#release.run();
          outcomes.push({ ok: false, error: mapError(error) });
        }
      }
      this.#commit.run();
      return { kind: 'committed', outcomes };
    } catch (error) {
      // BEGIN or COMMIT failed (locked, I/O error…): nothing of the batch is committed.
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      return { kind: 'failed', error };
    }
  }
}
