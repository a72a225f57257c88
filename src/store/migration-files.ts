import { readdirSync, readFileSync } from 'node:fs';
import { StoreError } from '../core/errors.js';

/** One numbered migration file of a SQL store (`migrations/NNN_name.sql`). */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/** Reads the migration files, in order; their numbers must run 1, 2, 3… without gaps. */
export function loadMigrationFiles(dir: URL): Migration[] {
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
