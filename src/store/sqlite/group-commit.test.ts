import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { StoreError } from '../../core/errors.js';
import { GroupCommit } from './group-commit.js';
import { toStoreError } from './sqlite-errors.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-group-commit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

function setup() {
  const path = join(dir, `db-${++count}.db`);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (v TEXT NOT NULL)');
  const group = new GroupCommit(db, { mapError: (error) => toStoreError(error, path) });
  const insert = db.prepare<[string]>('INSERT INTO t (v) VALUES (?)');
  const values = () => db.prepare<[], string>('SELECT v FROM t ORDER BY rowid').pluck().all();
  return { path, db, group, insert, values };
}

const isStoreError = (pattern: RegExp) => (error: unknown) => error instanceof StoreError && pattern.test(error.message);

describe('group commit', () => {
  it('resolves each write with its own result after one shared commit', async () => {
    const { db, group, insert, values } = setup();
    const results = await Promise.all(['a', 'b', 'c'].map((v) => group.write(() => insert.run(v).lastInsertRowid)));
    assert.deepEqual(results, [1, 2, 3]);
    assert.deepEqual(group.stats, { transactions: 1, writes: 3 });
    assert.deepEqual(values(), ['a', 'b', 'c']);
    db.close();
  });

  it('undoes a write that throws, alone', async () => {
    const { db, group, insert, values } = setup();
    const results = await Promise.allSettled([
      group.write(() => insert.run('kept')),
      group.write(() => {
        insert.run('undone');
        throw new Error('half way');
      }),
      group.write(() => insert.run('kept too')),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(values(), ['kept', 'kept too']);
    db.close();
  });

  it('fails a write that hits a full disk with advice, and commits the rest of its batch', async () => {
    const { db, group, insert, values } = setup();
    // max_page_count makes the database "full" a few pages from now: SQLite reports SQLITE_FULL.
    db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true })) + 2}`);
    const results = await Promise.allSettled([
      group.write(() => insert.run('small')),
      group.write(() => insert.run('x'.repeat(1_000_000))),
      group.write(() => insert.run('small too')),
    ]);
    assert.equal(results[1]?.status, 'rejected');
    assert.ok(isStoreError(/the disk is full\. Free disk space/)(results[1]?.status === 'rejected' && results[1].reason));
    assert.deepEqual([results[0]?.status, results[2]?.status], ['fulfilled', 'fulfilled']);
    assert.deepEqual(values(), ['small', 'small too']);
    db.close();
  });

  it('rejects every write of a batch whose transaction cannot start', async () => {
    const { path, db, group, insert, values } = setup();
    db.pragma('busy_timeout = 0');
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const results = await Promise.allSettled([group.write(() => insert.run('a')), group.write(() => insert.run('b'))]);
    other.exec('ROLLBACK');
    other.close();
    for (const result of results) {
      assert.ok(result.status === 'rejected' && isStoreError(/stayed locked by another process/)(result.reason));
    }
    assert.equal(db.inTransaction, false);
    assert.deepEqual(values(), []);
    assert.deepEqual(await group.write(() => insert.run('later').changes), 1, 'the next batch works');
    db.close();
  });
});

describe('SQLite errors', () => {
  it('say what happened and what to do, keeping the original as cause', () => {
    const cases: Array<[string, RegExp]> = [
      ['SQLITE_FULL', /disk is full\. Free disk space/],
      ['SQLITE_IOERR_WRITE', /I\/O error \(SQLITE_IOERR_WRITE.*Check that the disk is healthy/],
      ['SQLITE_CANTOPEN', /cannot open the SQLite database \/data\/af\.db: check that the path is right/],
      ['SQLITE_READONLY', /is read-only: give this user write permission/],
      ['SQLITE_NOTADB', /not a valid database or is damaged/],
    ];
    for (const [code, pattern] of cases) {
      const original = new Database.SqliteError('sqlite says no', code);
      const error = toStoreError(original, '/data/af.db');
      assert.ok(error instanceof StoreError, code);
      assert.match(error.message, pattern);
      assert.equal(error.cause, original);
      assert.deepEqual(error.details, { code, path: '/data/af.db' });
    }
  });

  it('leave AutoFlow errors and programming errors as they are', () => {
    const own = new StoreError('already explained');
    const bug = new TypeError('x is undefined');
    assert.equal(toStoreError(own, 'p'), own);
    assert.equal(toStoreError(bug, 'p'), bug);
  });
});
