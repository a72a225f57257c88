/**
 * Numbered, append-only migrations (`migrations/NNN_name.sql`), each applied in its own
 * `BEGIN IMMEDIATE` transaction and recorded in `schema_migrations`. Safe when several processes
 * start at once: the write lock serialises them, and each re-checks under the lock whether another
 * one applied the migration first.
 */
import type { Database } from 'better-sqlite3';
import { StoreError } from '../../core/errors.js';
import type { SchemaMigration } from '../../core/ports.js';
import { loadMigrationFiles, type Migration } from '../migration-files.js';

export type { Migration };

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

/** Reads the SQLite migration files, in order; their numbers must run 1, 2, 3… without gaps. */
export function loadMigrations(dir: URL = MIGRATIONS_DIR): Migration[] {
  return loadMigrationFiles(dir);
}

/** Brings the schema of `db` up to the last of `migrations`; says from which version. */
export function applyMigrations(db: Database, migrations: Migration[], path: string): SchemaMigration {
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
      `the database ${path} was migrated by a newer version of AutoFlow (schema version ${newest}; this version knows up to ${known}). ` +
        'Upgrade AutoFlow to use it, or point this version at another database.',
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
  return { from: newest, to: Math.max(newest, known) };
}
