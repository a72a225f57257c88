/**
 * Turns what SQLite reports into a StoreError that says what happened and what to do about it.
 * The SQLite error stays attached as `cause`, its code in `details`.
 */
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AutoflowError, StoreError, toError } from '../../core/errors.js';

const isDamageCode = (code: string): boolean => code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB');

/** The advice for a family of SQLite result codes (extended codes share the prefix). */
function explain(code: string, path: string, message: string): string {
  const where = `SQLite database ${path}`;
  if (code.startsWith('SQLITE_FULL')) {
    return `${where}: the disk is full. Free disk space (the write-ahead log ${path}-wal needs room too), then retry.`;
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return `${where}: the operating system reported an I/O error (${code}: ${message}). Check that the disk is healthy and has free space, and that the file is on a local, writable file system.`;
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return `cannot open the ${where}: check that the path is right and that this user may read and write the file and its directory (SQLite also creates ${path}-wal and ${path}-shm beside it).`;
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return `${where} is read-only: give this user write permission on the file and its directory, or mount the file system writable.`;
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return `${where} stayed locked by another process for longer than the busy timeout (5 s): find what holds it open in a write transaction (an sqlite3 shell, a backup or sync tool) and end it; AutoFlow itself allows one server per file.`;
  }
  if (isDamageCode(code)) {
    return `${where} is not a valid database or is damaged (${message}): restore it from a backup, or point AutoFlow at another file.`;
  }
  if (code.startsWith('SQLITE_CONSTRAINT')) {
    return `${where}: a write broke a constraint (${message}). This is a bug in AutoFlow: please report it with this message.`;
  }
  return `${where}: ${message} (${code}).`;
}

/** Whether SQLite found the database file damaged or not a database at all: what only a restore mends. */
export function isDamage(error: unknown): boolean {
  return error instanceof Database.SqliteError && isDamageCode(error.code);
}

/**
 * A SQLite error becomes a StoreError; AutoFlow's own errors pass unchanged, and so does anything
 * else (a TypeError is a bug to see as it is, not a storage failure) except the TypeError that
 * better-sqlite3 throws for a database whose directory does not exist, which names no path.
 */
export function toStoreError(error: unknown, path: string): Error {
  if (error instanceof TypeError && /^Cannot open database because the directory does not exist/.test(error.message)) {
    return new StoreError(
      `cannot open the SQLite database ${path}: its directory ${dirname(path)} does not exist. ` +
        "Check the path, or name the right database with --db sqlite:PATH (for autoflow backup: the server's database)",
      { cause: error, details: { path } },
    );
  }
  if (error instanceof AutoflowError || !(error instanceof Database.SqliteError)) return toError(error);
  return new StoreError(explain(error.code, path, error.message), { cause: error, details: { code: error.code, path } });
}
