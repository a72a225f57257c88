import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { DatabaseConfig } from '../../config/database.js';
import { ConfigError } from '../../core/errors.js';
import type { Store } from '../../core/ports.js';
import type { CliContext } from '../context.js';
import { parseOptions } from '../options.js';

const optionsSchema = z.strictObject({
  db: z.string().optional(),
  config: z.string().optional(),
});

/** The store of the servers' database, as they open it, but not migrated: a rotation changes no schema. */
async function openServersStore(db: DatabaseConfig): Promise<Store> {
  switch (db.kind) {
    case 'memory':
      throw new ConfigError('the memory: database keeps no API token: there is nothing to rotate (give the servers’ --db)');
    case 'sqlite': {
      if (!existsSync(db.path)) {
        throw new ConfigError(
          `there is no database at ${db.path}: give the servers’ database with --db (its first start makes the first token)`,
        );
      }
      // Loaded on demand: the SQLite driver is native, and the other commands never need it.
      const { createSqliteStore } = await import('../../store/sqlite/sqlite-store.js');
      return createSqliteStore({ path: db.path });
    }
    case 'postgres': {
      const { createPostgresStore } = await import('../../store/postgres/postgres-store.js');
      return createPostgresStore({ url: db.url, poolSize: 1 });
    }
  }
}

export function registerToken(program: Command, context: CliContext): void {
  const token = program
    .command('token')
    .description('the admin API token the servers of a database share (the one their first start printed)');
  token
    .command('rotate')
    .description(
      'replace the API token stored in the database with a new one, printed once on stdout: every server on the database refuses the old one at once (after a leak)',
    )
    .option('--db <url>', 'the servers’ database: sqlite:PATH or postgres://… (env AUTOFLOW_DB, default sqlite:./data/autoflow.db)')
    .option('--config <file>', 'configuration file that sets db (env AUTOFLOW_CONFIG, default ./autoflow.config.ts when present)')
    .action(async (raw: unknown) => {
      const flags = parseOptions(optionsSchema, raw);
      // Loaded on demand (as by `server`): every other command would pay for it at its start.
      const { loadConfig } = await import('../../config/index.js');
      const { db } = await loadConfig({ flags, env: context.env, cwd: context.cwd });
      const { hashToken, newApiToken } = await import('../../app/api-tokens.js');
      const store = await openServersStore(db);
      const where = db.kind === 'sqlite' ? db.path : 'the PostgreSQL database';
      try {
        const fresh = newApiToken();
        const replaced = await store.replaceApiTokens(hashToken(fresh), 'admin', Date.now());
        context.out(fresh);
        context.err(
          `That is the new API token, shown this once (${where} keeps only its hash). ` +
            (replaced > 0
              ? `It replaces the token stored before, which every server on this database refuses from now on.`
              : 'No token was stored before (no server has started on this database yet, or all were started with AUTOFLOW_API_TOKEN).'),
        );
        context.err(
          'Give it to the clients (AUTOFLOW_API_TOKEN of the CLI, Authorization: Bearer of the API). A server started with ' +
            'AUTOFLOW_API_TOKEN (apiToken) accepts only that token, never the stored one: rotate a leaked one there, and restart.',
        );
      } finally {
        await store.close();
      }
    });
}
