/**
 * Numbered, append-only migrations (`migrations/NNN_name.sql`), each applied in its own
 * `BEGIN IMMEDIATE` transaction and recorded in `schema_migrations`. Safe when several processes
 * start at once: the write lock serialises them, and each re-checks under the lock whether another
 * one applied the migration first.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import { StoreError } from '../../core/errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/** Reads the migration files, in order; their numbers must run 1, 2, 3… without gaps. */
export function loadMigrations(dir: URL = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new StoreError(`migration file ${file} must be named NNN_name.sql (three digits, lowercase name)`);
      return { version: Number(match[1]), name: match[2]!, sql: readFileSync(new URL(file, dir), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1) {
      throw new StoreError(
        `migration ${String(migration.version).padStart(3, '0')}_${migration.name} is out of sequence: expected number ${i + 1}`,
      );
    }
  });
  return migrations;
}

/** Brings the schema of `db` up to the last of `migrations`. */
export function applyMigrations(db: Database, migrations: Migration[], path: string): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);
  const applied = db.prepare<[], number>('SELECT version FROM schema_migrations ORDER BY version').pluck();
  const isApplied = db.prepare<[number], number>('SELECT 1 FROM schema_migrations WHERE version = ?').pluck();
  const record = db.prepare<[number, string, number]>('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');

  const known = migrations.at(-1)?.version ?? 0;
  const done = new Set(applied.all());
  const newest = Math.max(0, ...done);
  if (newest > known) {
    throw new StoreError(
      `the database ${path} was created by a newer version of AutoFlow (schema version ${newest}; this version knows up to ${known}). ` +
        'Upgrade AutoFlow to open it, or point this version at another database.',
      { details: { path, databaseVersion: newest, knownVersion: known } },
    );
  }
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      if (!isApplied.get(migration.version)) {
        db.exec(migration.sql);
        record.run(migration.version, migration.name, Date.now());
      }
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }
}
