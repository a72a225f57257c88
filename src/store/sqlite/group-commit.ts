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
 */
import type { Database, Statement } from 'better-sqlite3';

/** Counters for metrics and tests: how many writes shared how many transactions. */
export interface GroupCommitStats {
  transactions: number;
  writes: number;
}

interface QueuedWrite {
  apply: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: Error };

type Attempt =
  { kind: 'committed'; outcomes: Outcome[] } | { kind: 'lost'; index: number; error: Error } | { kind: 'failed'; error: Error };

export class GroupCommit {
  readonly #db: Database;
  readonly #mapError: (error: unknown) => Error;
  readonly #begin: Statement<[]>;
  readonly #savepoint: Statement<[]>;
  readonly #release: Statement<[]>;
  readonly #rollbackTo: Statement<[]>;
  readonly #commit: Statement<[]>;
  #queue: QueuedWrite[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  readonly #stats: GroupCommitStats = { transactions: 0, writes: 0 };

  /** `mapError` turns what a write or the transaction throws into the error its caller sees. */
  constructor(db: Database, mapError: (error: unknown) => Error) {
    this.#db = db;
    this.#mapError = mapError;
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
      this.#scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Applies and commits everything queued, now. */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    let batch = this.#queue;
    this.#queue = [];
    while (batch.length > 0) {
      const attempt = this.#attempt(batch);
      if (attempt.kind === 'committed') {
        this.#stats.transactions += 1;
        this.#stats.writes += batch.length;
        batch.forEach((write, i) => {
          const outcome = attempt.outcomes[i]!;
          if (outcome.ok) write.resolve(outcome.value);
          else write.reject(outcome.error);
        });
        return;
      }
      if (attempt.kind === 'failed') {
        for (const write of batch) write.reject(attempt.error);
        return;
      }
      // One write made SQLite roll the whole transaction back (it does so after SQLITE_FULL, for
      // example): that write fails alone, and the others run again in a new transaction.
      batch[attempt.index]!.reject(attempt.error);
      batch = batch.filter((_, i) => i !== attempt.index);
    }
  }

  #attempt(batch: QueuedWrite[]): Attempt {
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
          if (!this.#db.inTransaction) return { kind: 'lost', index, error: this.#mapError(error) };
          this.#rollbackTo.run();
          this.#release.run();
          outcomes.push({ ok: false, error: this.#mapError(error) });
        }
      }
      this.#commit.run();
      return { kind: 'committed', outcomes };
    } catch (error) {
      // BEGIN or COMMIT failed (locked, I/O error…): nothing of the batch is committed.
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      return { kind: 'failed', error: this.#mapError(error) };
    }
  }
}
