/**
 * Group commit for the PostgreSQL store. Task commits that arrive while earlier ones are being
 * written wait and then go to the database together, in one transaction: one WAL flush and one
 * round trip for the whole batch instead of for each commit. Nothing waits on purpose — a commit
 * that finds a free slot is written at once, so a lone run pays no delay.
 */
import type { TaskCommit, TaskCommitResult } from '../../core/ports.js';

interface Queued {
  commit: TaskCommit;
  resolve: (result: TaskCommitResult) => void;
  reject: (error: unknown) => void;
}

export interface CommitBatcherOptions {
  /** Writes the commits (of distinct runs) in one transaction; one result each, in order. */
  write: (commits: TaskCommit[]) => Promise<TaskCommitResult[]>;
  /** Batches written at once, each on its own connection. */
  maxInFlight: number;
  /** Commits in one batch at most. */
  maxBatch: number;
}

export class CommitBatcher {
  #queue: Queued[] = [];
  #inFlight = 0;

  constructor(private readonly options: CommitBatcherOptions) {}

  submit(commit: TaskCommit): Promise<TaskCommitResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ commit, resolve, reject });
      this.#drain();
    });
  }

  #drain(): void {
    while (this.#inFlight < this.options.maxInFlight && this.#queue.length > 0) {
      const batch = this.#takeBatch();
      this.#inFlight++;
      void this.#write(batch).finally(() => {
        this.#inFlight--;
        this.#drain();
      });
    }
  }

  /**
   * The oldest queued commits, one per run: a second commit of a run must see the first one's
   * effect (its fence), so it waits for the next batch.
   */
  #takeBatch(): Queued[] {
    const batch: Queued[] = [];
    const rest: Queued[] = [];
    const runs = new Set<string>();
    for (const queued of this.#queue) {
      if (batch.length < this.options.maxBatch && !runs.has(queued.commit.runId)) {
        runs.add(queued.commit.runId);
        batch.push(queued);
      } else {
        rest.push(queued);
      }
    }
    this.#queue = rest;
    return batch;
  }

  async #write(batch: Queued[]): Promise<void> {
    try {
      const results = await this.options.write(batch.map((queued) => queued.commit));
      batch.forEach((queued, i) => queued.resolve(results[i]!));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // Nothing of the batch was written. Written alone, a commit that cannot be written fails
      // alone and the others go through (or each reports the outage that failed the batch).
      await Promise.all(
        batch.map(async (queued) => {
          try {
            queued.resolve((await this.options.write([queued.commit]))[0]!);
          } catch (alone) {
            queued.reject(alone);
          }
        }),
      );
    }
  }
}
