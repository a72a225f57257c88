/**
 * Numbered, append-only migrations (`migrations/NNN_name.sql`), each applied in its own transaction
 * and recorded in `schema_migrations`. Safe when several processes start at once: every transaction
 * first takes a transaction-level advisory lock for the schema, then re-reads what is applied, so
 * the migrations run once, in order, whoever gets there first.
 */
import type { Pool } from 'pg';
import { StoreError } from '../../core/errors.js';
import type { SchemaMigration } from '../../core/ports.js';
import { loadMigrationFiles, type Migration } from '../migration-files.js';
import { maskUrl } from './pg-errors.js';
import { inTransaction } from './transaction.js';

export type { Migration };

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

/** Reads the PostgreSQL migration files, in order; their numbers must run 1, 2, 3… without gaps. */
export function loadMigrations(dir: URL = MIGRATIONS_DIR): Migration[] {
  return loadMigrationFiles(dir);
}

/** Double-quotes an identifier that was validated as a plain lowercase name. */
const ident = (name: string) => `"${name}"`;

/**
 * Brings the schema up to the last of `migrations`. `schema` is created when missing (the pool's
 * search_path points at it); without one, tables go where the server's search_path puts them.
 */
export async function applyMigrations(
  pool: Pool,
  migrations: Migration[],
  options: { url: string; schema?: string },
): Promise<SchemaMigration> {
  const known = migrations.at(-1)?.version ?? 0;
  // The version this call found first: another server may have applied some of the migrations since.
  let from: number | undefined;
  const lockKey = `autoflow.migrate:${options.schema ?? 'default'}`;
  for (;;) {
    const appliedOne = await inTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey]);
      if (options.schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(options.schema)}`);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        applied_at BIGINT NOT NULL
      )`);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      const done = new Set(rows.map((row) => row.version));
      const newest = Math.max(0, ...done);
      from ??= newest;
      if (newest > known) {
        const where = maskUrl(options.url) + (options.schema === undefined ? '' : ` (schema ${options.schema})`);
        throw new StoreError(
          `the database ${where} was migrated by a newer version of AutoFlow (schema version ${newest}; this version knows up to ${known}). ` +
            'Upgrade AutoFlow to use it, or point this version at another database or schema.',
          { details: { url: maskUrl(options.url), schema: options.schema ?? null, databaseVersion: newest, knownVersion: known } },
        );
      }
      const next = migrations.find((migration) => !done.has(migration.version));
      if (!next) return false;
      await client.query(next.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        next.version,
        next.name,
        Date.now(),
      ]);
      return true;
    });
    if (!appliedOne) return { from: from ?? known, to: known };
  }
}
