/**
 * Online backup of a SQLite store: a consistent copy of the database as of one moment, taken while
 * a server goes on writing to it. `VACUUM INTO` reads one snapshot of the WAL database on a
 * read-only connection of its own and writes it compacted into a new file; the server's writes
 * wait for nothing. A copy of the database file alone would miss what is still in `-wal`.
 */
import { closeSync, existsSync, openSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../../core/errors.js';
import { toStoreError } from './sqlite-errors.js';

export interface SqliteBackup {
  bytes: number;
  runs: number;
  /** The last migration the copy holds: the AutoFlow that restores it must know it. */
  schemaVersion: number;
}

/**
 * Writes a backup of the database at `sourcePath` to the new file `targetPath`, and checks it. A
 * backup that fails (a full disk, say) or does not pass the check leaves no file behind.
 */
export function backupSqlite(sourcePath: string, targetPath: string): SqliteBackup {
  if (existsSync(targetPath)) {
    throw new StoreError(`${targetPath} exists already: give the backup a new file name (a backup never overwrites a file)`);
  }
  // Else SQLite's VACUUM INTO fails with SQLITE_CANTOPEN, which would be blamed on the source.
  if (!existsSync(dirname(targetPath))) {
    throw new StoreError(
      `the folder ${dirname(targetPath)} for the backup ${targetPath} does not exist: create it, or write the backup elsewhere`,
    );
  }
  try {
    // Readable by its owner only, as the database it copies: VACUUM INTO fills an empty file,
    // and one it made itself would have the umask's mode, and keep it once restored.
    closeSync(openSync(targetPath, 'wx', 0o600));
    copyDatabase(sourcePath, targetPath);
    return checkedBackup(targetPath);
  } catch (error) {
    rmSync(targetPath, { force: true });
    throw error;
  }
}

function copyDatabase(sourcePath: string, targetPath: string): void {
  let source: Database.Database | undefined;
  try {
    source = new Database(sourcePath, { readonly: true, fileMustExist: true });
    // A checkpoint of the server may hold the lock for a moment.
    source.pragma('busy_timeout = 5000');
    const isAutoflow = source.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (!isAutoflow) throw new StoreError(`${sourcePath} is not an AutoFlow database (it has no schema_migrations table): check --db`);
    try {
      source.prepare('VACUUM INTO ?').run(targetPath);
    } catch (error) {
      throw targetWriteError(error, targetPath) ?? error;
    }
  } catch (error) {
    throw toStoreError(error, sourcePath);
  } finally {
    source?.close();
  }
}

/**
 * VACUUM INTO reads the source and writes the target: a failed write (a full disk, an I/O error on
 * write) is the target's, and must not send the operator to free space beside the live database.
 */
function targetWriteError(error: unknown, targetPath: string): StoreError | undefined {
  if (!(error instanceof Database.SqliteError)) return undefined;
  const { code } = error;
  const details = { code, path: targetPath };
  if (code.startsWith('SQLITE_FULL')) {
    return new StoreError(
      `the backup ${targetPath}: the disk is full (or the file reached its size limit). Free space there, or write the backup ` +
        'elsewhere; the database it copies is untouched',
      { cause: error, details },
    );
  }
  if (/^SQLITE_IOERR_(WRITE|FSYNC|DIR_FSYNC|TRUNCATE)/.test(code)) {
    return new StoreError(
      `the backup ${targetPath} could not be written (${code}: ${error.message}): check the disk it goes to, or write it elsewhere; ` +
        'the database it copies is untouched',
      { cause: error, details },
    );
  }
  return undefined;
}

function checkedBackup(targetPath: string): SqliteBackup {
  const copy = new Database(targetPath, { readonly: true, fileMustExist: true });
  try {
    const integrity = copy.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') {
      throw new StoreError(`the backup ${targetPath} failed SQLite's integrity check (${String(integrity)}); it was deleted`);
    }
    return {
      bytes: statSync(targetPath).size,
      runs: copy.prepare<[], number>('SELECT count(*) FROM runs').pluck().get() ?? 0,
      schemaVersion: copy.prepare<[], number>('SELECT max(version) FROM schema_migrations').pluck().get() ?? 0,
    };
  } catch (error) {
    throw toStoreError(error, targetPath);
  } finally {
    copy.close();
  }
}
