import type { Command } from 'commander';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { parseOptions } from '../options.js';

const optionsSchema = z.strictObject({
  db: z.string().optional(),
  config: z.string().optional(),
});

const MIB = 1024 * 1024;

export function registerBackup(program: Command, context: CliContext): void {
  program
    .command('backup')
    .description("copy the server's SQLite database to a new file, consistently, while the server runs")
    .argument('<file>', 'the new file to write (never overwritten)')
    .option('--db <url>', 'the database of the server: sqlite:PATH (env AUTOFLOW_DB, default sqlite:./data/autoflow.db)')
    .option('--config <file>', 'configuration file that sets db (env AUTOFLOW_CONFIG, default ./autoflow.config.ts when present)')
    .action(async (file: string, raw: unknown) => {
      const flags = parseOptions(optionsSchema, raw);
      // Loaded on demand (as by `server`): every other command would pay for it at its start.
      const { loadConfig } = await import('../../config/index.js');
      const { db } = await loadConfig({ flags, env: context.env, cwd: context.cwd });
      if (db.kind !== 'sqlite') {
        throw new ConfigError(
          db.kind === 'postgres'
            ? 'autoflow backup copies a SQLite database; back a PostgreSQL database up with pg_dump or a snapshot of the server (docs/deploy.md, "Backups")'
            : 'the memory: database keeps nothing to back up',
        );
      }
      const target = resolve(context.cwd, file);
      // Loaded on demand: the SQLite driver is native, and the other commands never need it.
      const { backupSqlite } = await import('../../store/sqlite/backup.js');
      const { serverHoldsLock } = await import('../../store/sqlite/server-lock.js');
      const backup = backupSqlite(db.path, target);
      context.out(
        `Backed up ${db.path} to ${target}: ${backup.runs} run${backup.runs === 1 ? '' : 's'}, schema version ${backup.schemaVersion}, ` +
          `${(backup.bytes / MIB).toFixed(1)} MiB.`,
      );
      const running = serverHoldsLock(db.path);
      if (running === false) {
        context.out(`No server is running on ${db.path} now: if you meant a running server's database, give its path with --db.`);
      } else if (running !== true) {
        context.out(`Whether a server is running on ${db.path} could not be told (${running.unknown}).`);
      }
      context.out(
        `To restore it, stop the server, delete ${db.path}-wal and ${db.path}-shm if they are there, and copy the backup to ${db.path}.`,
      );
    });
}
