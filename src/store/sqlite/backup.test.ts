import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { StoreError } from '../../core/errors.js';
import { commit, startRun } from '../conformance/fixtures.js';
import { loadMigrations } from './migrate.js';
import { backupSqlite } from './backup.js';
import { createSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-backup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('copies the database as it stands while a store goes on writing to it, and the copy opens as a store', async () => {
  const live = createSqliteStore({ path: join(dir, 'live.db') });
  await live.migrate();
  await startRun(live, 'before');
  // Committed, so in the write-ahead log: the database file alone does not hold it yet.
  await live.commitTask(commit('before', 2, 2000, { status: { status: 'completed', result: 'done' } }));

  const backup = backupSqlite(join(dir, 'live.db'), join(dir, 'copy.db'));
  await startRun(live, 'after');
  await live.close();

  assert.equal(backup.runs, 1);
  assert.equal(statSync(join(dir, 'copy.db')).mode & 0o777, 0o600, 'readable by its owner only, as the database it copies');
  assert.equal(backup.schemaVersion, loadMigrations().length);
  assert.ok(backup.bytes > 0);
  const restored = createSqliteStore({ path: join(dir, 'copy.db') });
  await restored.migrate();
  try {
    assert.equal((await restored.getRun('before'))?.result, 'done');
    assert.equal((await restored.loadHistory('before')).length, 3);
    assert.equal(await restored.getRun('after'), undefined);
  } finally {
    await restored.close();
  }
});

test('never overwrites a file, and says what is wrong with a source it cannot use', () => {
  writeFileSync(join(dir, 'taken.db'), 'precious');
  assert.throws(
    () => backupSqlite(join(dir, 'live.db'), join(dir, 'taken.db')),
    (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.match(error.message, /taken\.db exists already: give the backup a new file name/);
      return true;
    },
  );
  const other = new Database(join(dir, 'other.db'));
  other.exec('CREATE TABLE notes (text TEXT)');
  other.close();
  assert.throws(() => backupSqlite(join(dir, 'other.db'), join(dir, 'from-other.db')), /other\.db is not an AutoFlow database/);
  assert.equal(existsSync(join(dir, 'from-other.db')), false);
  assert.throws(
    () => backupSqlite(join(dir, 'missing.db'), join(dir, 'from-missing.db')),
    (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.match(error.message, /cannot open the SQLite database \S+missing\.db: check that the path is right/);
      return true;
    },
  );
});

test('a source or target whose folder does not exist is named, with what to do', () => {
  assert.throws(
    () => backupSqlite(join(dir, 'data', 'autoflow.db'), join(dir, 'from-nowhere.db')),
    (error: unknown) => {
      assert.ok(error instanceof StoreError, String(error));
      assert.equal(
        error.message,
        `cannot open the SQLite database ${join(dir, 'data', 'autoflow.db')}: its directory ${join(dir, 'data')} does not exist. ` +
          "Check the path, or name the right database with --db sqlite:PATH (for autoflow backup: the server's database)",
      );
      return true;
    },
  );
  assert.throws(
    () => backupSqlite(join(dir, 'live.db'), join(dir, 'nowhere', 'copy.db')),
    (error: unknown) => {
      assert.ok(error instanceof StoreError, String(error));
      assert.match(
        error.message,
        /^the folder \S+nowhere for the backup \S+copy\.db does not exist: create it, or write the backup elsewhere$/,
      );
      return true;
    },
  );
});
