/**
 * Whether the files at the database's path are still the ones the store opened. SQLite keeps
 * writing to the files it has open: when someone deletes or replaces `autoflow.db` (or its `-wal`
 * or `-shm`) under a running server, every commit still succeeds, into a file no one will open
 * again, and is lost at the next start. The path's device and inode, recorded at open, tell: a
 * deleted file has no inode at the path, a replaced one another (the store's own open file keeps its
 * inode from being reused meanwhile).
 *
 * A check is a stat per file, ≈3 µs each: the store runs it at most every CHECK_INTERVAL_MS on its
 * way (reads and commits), and every time for the probes' queries. Once the files are found gone,
 * that stays so until the server restarts: nothing it writes would last.
 */
import { statSync } from 'node:fs';
import { StoreError } from '../../core/errors.js';

/** At most ten checks a second (≈0.01 % of a core): what a commit acknowledged just after a deletion may lose. */
export const CHECK_INTERVAL_MS = 100;

interface Identity {
  dev: number;
  ino: number;
}

function identityOf(path: string): Identity | undefined {
  const stats = statSync(path, { throwIfNoEntry: false });
  return stats && { dev: stats.dev, ino: stats.ino };
}

export class FileIdentity {
  readonly #path: string;
  readonly #opened: Array<[string, Identity]>;
  readonly #onLost: (error: StoreError) => void;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #lost: StoreError | undefined;

  /**
   * Records the identity of the database file at `path` and of those beside it (`-wal`, `-shm`) that
   * exist now; `onLost` is called once, when they are first found gone or replaced.
   */
  constructor(path: string, onLost: (error: StoreError) => void) {
    this.#path = path;
    this.#onLost = onLost;
    this.#opened = [path, `${path}-wal`, `${path}-shm`].flatMap((file) => {
      const identity = identityOf(file);
      return identity ? [[file, identity] as [string, Identity]] : [];
    });
  }

  /** The error every read and write fails with once the files are gone, checking them when due (or now, when `force`). */
  problem(force = false): StoreError | undefined {
    // Wall-clock time, compared both ways: a clock set back checks at once rather than late.
    const now = Date.now();
    if (this.#lost || (!force && Math.abs(now - this.#checkedAt) < CHECK_INTERVAL_MS)) return this.#lost;
    this.#checkedAt = now;
    for (const [file, opened] of this.#opened) {
      const now = identityOf(file);
      if (now?.dev === opened.dev && now.ino === opened.ino) continue;
      this.#lost = this.#error(file, now === undefined ? 'deleted' : 'replaced by another file');
      this.#onLost(this.#lost);
      break;
    }
    return this.#lost;
  }

  #error(file: string, what: string): StoreError {
    const path = this.#path;
    const which = file === path ? `the database file ${path}` : `${file}, a file of the database ${path},`;
    return new StoreError(
      `${which} was deleted or replaced while the server ran (it is ${what}): what this server writes from now on would be lost. ` +
        `Restart the server; it opens what is at ${path} then, a new empty database if nothing is there, so put the right ` +
        'file back first (a backup: autoflow backup). Never delete or copy over the files of a running server.',
      { details: { path, file } },
    );
  }
}
