/**
 * One server per SQLite database. Every server on SQLite is the same node (`local`), so a second one
 * on the same file would take the first one's leases as its own and run its calls again. The lock
 * is an exclusive SQLite lock on a file beside the database, held for as long as the server runs:
 * the kernel drops it when the process ends, however it ends, so a crashed server leaves nothing stale.
 */
import Database from 'better-sqlite3';
import { realpathSync } from 'node:fs';
import { StoreError, toError } from '../../core/errors.js';

export interface ServerLock {
  readonly file: string;
  release(): void;
}

/**
 * The lock file of the database at `path`, beside the file the path leads to: a server given a symbolic link to the
 * database (or a path through one) finds the same lock as one given the file itself.
 */
export function serverLockFile(path: string): string {
  let file = path;
  try {
    file = realpathSync(path);
  } catch {
    // Not made yet (a new database): no link leads to it, so its path is its own.
  }
  return `${file}.lock`;
}

function isBusy(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'SQLITE_BUSY';
}

/** The lock file opened and locked exclusively, at once or not at all (SQLITE_BUSY: another process holds it). */
function lockExclusively(file: string, options: Database.Options = {}): Database.Database {
  const db = new Database(file, options);
  try {
    db.pragma('busy_timeout = 0');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Takes the lock of the database at `path`, or throws a StoreError saying that another server holds it. */
export function lockDatabaseForServer(path: string): ServerLock {
  const file = serverLockFile(path);
  let held: Database.Database;
  try {
    held = lockExclusively(file);
  } catch (error) {
    if (isBusy(error)) {
      throw new StoreError(
        `another AutoFlow server is running on the SQLite database ${path} (it holds ${file}): ` +
          'one server per SQLite file, or both would run the same calls. Stop the other one, ' +
          'or run several servers on PostgreSQL (docs/deploy.md)',
        { cause: error, details: { path, lock: file } },
      );
    }
    throw new StoreError(`cannot lock the SQLite database ${path} through ${file}: ${toError(error).message}`, {
      cause: error,
      details: { path, lock: file },
    });
  }
  return {
    file,
    release() {
      if (held.open) held.close();
    },
  };
}

/**
 * Whether a server holds the lock of the database at `path` now: true, false, or why it cannot be told.
 * For tools that work on the file beside a server (backup), to say when no server uses the file they were given.
 */
export function serverHoldsLock(path: string): boolean | { unknown: string } {
  try {
    lockExclusively(serverLockFile(path), { fileMustExist: true }).close();
    return false;
  } catch (error) {
    if (isBusy(error)) return true;
    // No lock file: no server has run on this database since it was made.
    if ((error as { code?: unknown }).code === 'SQLITE_CANTOPEN') return false;
    return { unknown: toError(error).message };
  }
}
