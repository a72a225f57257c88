import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { StoreError } from '../../core/errors.js';
import { commit } from '../conformance/fixtures.js';
import { applyMigrations, loadMigrations, type Migration } from './migrate.js';
import { createSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-migrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const tempPath = () => join(dir, `db-${++count}.db`);

const tables = (db: Database.Database) =>
  db.prepare<[], string>(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 't%' ORDER BY name`).pluck().all();
const versions = (db: Database.Database) => db.prepare<[], number>('SELECT version FROM schema_migrations ORDER BY version').pluck().all();

/** Starts `node` on a script that opens the store at `path` and migrates it, at the moment `startAt`. */
function migrateInChild(path: string, startAt: number): Promise<{ code: number | null; stderr: string }> {
  const storeUrl = pathToFileURL(join(import.meta.dirname, 'sqlite-store.ts')).href;
  const script = `
    const [storeUrl, path, startAt] = process.argv.slice(1);
    const { createSqliteStore } = await import(storeUrl);
    const store = createSqliteStore({ path });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
    await store.migrate();
    await store.createRun({ id: 'child-' + process.pid, workflow: 'wf', version: 'v1', input: null, createdAt: 1 });
    await store.close();
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script, storeUrl, path, String(startAt)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('SQLite migrations', () => {
  it('applies numbered migrations in order, once, however often it runs', () => {
    const db = new Database(tempPath());
    const migrations: Migration[] = [
      { version: 1, name: 'one', sql: 'CREATE TABLE t1 (a INTEGER)' },
      { version: 2, name: 'two', sql: 'CREATE TABLE t2 (a INTEGER); INSERT INTO t1 VALUES (1)' },
    ];
    assert.deepEqual(applyMigrations(db, migrations.slice(0, 1), 'test'), { from: 0, to: 1 }, 'a new database');
    assert.deepEqual(applyMigrations(db, migrations, 'test'), { from: 1, to: 2 }, 'an upgrade: the server logs it');
    assert.deepEqual(applyMigrations(db, migrations, 'test'), { from: 2, to: 2 }, 'nothing to do');
    assert.deepEqual(tables(db), ['t1', 't2']);
    assert.deepEqual(versions(db), [1, 2]);
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM t1').get(), { n: 1 });
    db.close();
  });

  it('rolls a failing migration back entirely and keeps the ones before it', () => {
    const db = new Database(tempPath());
    const migrations: Migration[] = [
      { version: 1, name: 'one', sql: 'CREATE TABLE t1 (a INTEGER)' },
      { version: 2, name: 'broken', sql: 'CREATE TABLE t2 (a INTEGER); INSERT INTO nowhere VALUES (1)' },
    ];
    assert.throws(() => applyMigrations(db, migrations, 'test'), /no such table: nowhere/);
    assert.deepEqual(tables(db), ['t1']);
    assert.deepEqual(versions(db), [1]);
    assert.equal(db.inTransaction, false);
    db.close();
  });

  it('refuses a database that a newer AutoFlow migrated, saying to upgrade', async () => {
    const path = tempPath();
    const store = createSqliteStore({ path });
    await store.migrate();
    await store.close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('from_the_future');
    db.close();
    const old = createSqliteStore({ path });
    await assert.rejects(old.migrate(), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      // In the words of the PostgreSQL store, which deploy.md quotes.
      assert.match(
        error.message,
        /was migrated by a newer version of AutoFlow \(schema version 999; this version knows up to \d+\)\. Upgrade AutoFlow to use it, or point/,
      );
      return true;
    });
    await old.close();
  });

  it('keeps the outstanding calls, their leases and their cascade when 004 rebuilds the calls table', async () => {
    const path = tempPath();
    const db = new Database(path);
    db.pragma('foreign_keys = ON');
    applyMigrations(db, loadMigrations().slice(0, 3), path);
    db.prepare(
      `INSERT INTO runs (id, workflow, version, input, created_at, updated_at, status) VALUES (?, 'wf', 'v1', 'null', 1, 1, 'running')`,
    ).run('r1');
    const insertCall =
      db.prepare(`INSERT INTO calls (run_id, step, capability, method, args, attempts, next_at, lease_owner, lease_until, due_at)
      VALUES ('r1', ?, 'activities', 'noop', '{"n":1}', ?, ?, ?, ?, ?)`);
    insertCall.run(1, 0, 1000, 'node-a', 60_000, 60_000);
    insertCall.run(2, 2, 5000, null, null, 5000);
    db.close();

    const store = createSqliteStore({ path });
    await store.migrate();
    const call = (step: number, nextAt: number, attempts: number) => ({
      runId: 'r1',
      step,
      capability: 'activities',
      method: 'noop',
      args: { n: 1 },
      attempts,
      nextAt,
    });
    const leaseOfA = { owner: 'node-a', until: 60_000 };
    assert.deepEqual(await store.listCalls('r1'), [{ ...call(1, 1000, 0), lease: leaseOfA }, call(2, 5000, 2)]);
    assert.deepEqual(await store.claimDueCalls('node-b', 5000, 90_000, 10), [call(2, 5000, 2)], 'the lease of step 1 still holds');
    assert.deepEqual(
      await store.reclaimOwnCalls('node-a', 5000, 90_000, 10),
      [{ ...call(1, 1000, 1), previousLease: leaseOfA }],
      'the lease is node a’s, with the attempt it lost',
    );
    await store.close();
    const migrated = new Database(path);
    migrated.pragma('foreign_keys = ON');
    migrated.prepare('DELETE FROM runs WHERE id = ?').run('r1');
    assert.deepEqual(migrated.prepare('SELECT count(*) AS n FROM calls').get(), { n: 0 }, 'deleting the run deletes its calls');
    migrated.close();
  });

  it('reads a history written one event per row before 005 together with the task rows written after', async () => {
    const path = tempPath();
    const db = new Database(path);
    applyMigrations(db, loadMigrations().slice(0, 4), path);
    db.prepare(
      `INSERT INTO runs (id, workflow, version, input, created_at, updated_at, status, history_length) VALUES ('r1', 'wf', 'v1', 'null', 1, 1, 'running', 2)`,
    ).run();
    const before = [
      { type: 'run_started', workflow: 'wf', version: 'v1', input: null, seq: 0, at: 1 },
      { type: 'workflow_task', time: 1, seq: 1, at: 1 },
    ];
    const insert = db.prepare('INSERT INTO history (run_id, seq, body) VALUES (?, ?, ?)');
    for (const event of before) insert.run('r1', event.seq, JSON.stringify(event));
    db.close();

    const store = createSqliteStore({ path });
    await store.migrate();
    const after = [
      { type: 'workflow_task' as const, time: 2, seq: 2, at: 2 },
      { type: 'run_completed' as const, result: 'done', seq: 3, at: 2 },
    ];
    const result = await store.commitTask(commit('r1', 2, 2, { history: after, status: { status: 'completed', result: 'done' } }));
    assert.equal(result.ok, true);
    assert.deepEqual(await store.loadHistory('r1'), [...before, ...after]);
    assert.deepEqual(await store.loadHistory('r1', 1), [...before.slice(1), ...after]);
    assert.deepEqual(await store.loadHistory('r1', 3), after.slice(1));
    await store.close();
  });

  it('reads migration files named NNN_name.sql and refuses gaps or other names', () => {
    assert.deepEqual(
      loadMigrations().map((m) => m.version),
      loadMigrations().map((_, i) => i + 1),
    );
    const gap = mkdtempSync(join(dir, 'gap-'));
    writeFileSync(join(gap, '001_one.sql'), 'SELECT 1');
    writeFileSync(join(gap, '003_three.sql'), 'SELECT 1');
    assert.throws(() => loadMigrations(pathToFileURL(`${gap}/`)), /003_three is out of sequence: expected number 2/);
    const badName = mkdtempSync(join(dir, 'name-'));
    writeFileSync(join(badName, '1-one.sql'), 'SELECT 1');
    assert.throws(() => loadMigrations(pathToFileURL(`${badName}/`)), /must be named NNN_name.sql/);
  });

  it('two stores on one file migrating at once both succeed, and again', async () => {
    const path = tempPath();
    const a = createSqliteStore({ path });
    const b = createSqliteStore({ path });
    await Promise.all([a.migrate(), b.migrate()]);
    await Promise.all([a.migrate(), b.migrate()]);
    await a.createRun({ id: 'from-a', workflow: 'wf', version: 'v1', input: null, createdAt: 1 });
    assert.equal((await b.getRun('from-a'))?.id, 'from-a');
    await Promise.all([a.close(), b.close()]);
  });

  it('four processes starting on a new file at the same moment all migrate it', async () => {
    const path = tempPath();
    // Give every child time to load tsx before the common start (≈0.5 s each on two cores).
    const startAt = Date.now() + 3000;
    const results = await Promise.all([1, 2, 3, 4].map(() => migrateInChild(path, startAt)));
    assert.deepEqual(
      results.map((r) => [r.code, r.stderr]),
      results.map(() => [0, '']),
    );
    const db = new Database(path, { readonly: true });
    assert.deepEqual(
      versions(db),
      loadMigrations().map((m) => m.version),
    );
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM runs').get(), { n: 4 });
    db.close();
  });
});
