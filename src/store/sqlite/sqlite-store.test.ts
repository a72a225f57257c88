import assert from 'node:assert/strict';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { StoreError } from '../../core/errors.js';
import {
  assertRetryFromTaskStartOnly,
  call,
  cloudEvent,
  commit,
  failedRun,
  newRun,
  runSnapshot,
  startRun,
} from '../conformance/fixtures.js';
import { describeStoreConformance } from '../conformance/store-conformance.js';
import { CHECK_INTERVAL_MS } from './file-identity.js';
import { createSqliteStore, type SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-sqlite-'));
let count = 0;
const tempPath = () => join(dir, `store-${++count}.db`);

describeStoreConformance('sqlite', () => Promise.resolve(createSqliteStore({ path: tempPath() })));

describe('SQLite store', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function openStore(path = tempPath()) {
    const store = createSqliteStore({ path });
    await store.migrate();
    return store;
  }

  it('keeps everything across close and reopen', async () => {
    const path = tempPath();
    const first = await openStore(path);
    const { seq } = await first.insertEvent(cloudEvent('e1'), 'k1', 100);
    await startRun(first, 'r1', { calls: [call('r1', 1)] });
    await first.addFirstApiToken('hash', 'admin', 1);
    await first.close();

    const second = await openStore(path);
    assert.equal((await second.getEvent(seq))?.id, 'e1');
    assert.equal((await second.getRun('r1'))?.historyLength, 2);
    assert.equal((await second.loadHistory('r1')).length, 2);
    assert.deepEqual(await second.listCalls('r1'), [call('r1', 1)]);
    assert.equal(await second.hasApiToken('hash'), true);
    await second.close();
  });

  it('commits concurrent writes in one transaction', async () => {
    const store = await openStore();
    const before = store.stats;
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.createRun(newRun(`r${i}`, { createdAt: i }))));
    assert.ok(results.every((r) => r.created));
    assert.deepEqual(store.stats, { transactions: before.transactions + 1, writes: before.writes + 200 });
    assert.equal((await store.listRuns({ limit: 500 })).runs.length, 200);
    await store.close();
  });

  it('a fenced or failing commit in a batch leaves the other commits of the batch intact', async () => {
    const store = await openStore();
    for (const id of ['a', 'b', 'c', 'd']) await startRun(store, id, { calls: [call(id, 1)] });
    const before = store.stats.transactions;
    const results = await Promise.allSettled([
      store.commitTask(commit('a', 2, 2000, { calls: [call('a', 2)] })),
      store.commitTask(commit('b', 1, 2000, { calls: [call('b', 2)] })),
      store.commitTask(commit('c', 2, 2000, { calls: [call('c', 2), call('c', 1)] })),
      store.commitTask(commit('d', 2, 2000, { calls: [call('d', 2)] })),
    ]);
    assert.equal(store.stats.transactions, before + 1, 'the four commits shared one transaction');
    assert.deepEqual(results.slice(0, 2), [
      { status: 'fulfilled', value: { ok: true, pending: [] } },
      { status: 'fulfilled', value: { ok: false, reason: 'fenced' } },
    ]);
    assert.ok(results[2]?.status === 'rejected' && results[2].reason instanceof StoreError, 'the clashing commit fails alone');
    assert.deepEqual(results[3], { status: 'fulfilled', value: { ok: true, pending: [] } });
    const steps = async (id: string) => (await store.listCalls(id)).map((c) => c.step);
    assert.deepEqual([await steps('a'), await steps('b'), await steps('c'), await steps('d')], [[1, 2], [1], [1], [1, 2]]);
    assert.deepEqual([(await store.getRun('b'))?.historyLength, (await store.getRun('c'))?.historyLength], [2, 2]);
    await store.close();
  });

  const notATaskStart = (error: unknown) => error instanceof StoreError && /not where a workflow task begins/.test(error.message);

  it('refuses a retry point inside a stored task, undoing that write alone and leaving the run failed', async () => {
    const store = await openStore();
    // Its history rows begin at seqs 0, 2 and 4: one per workflow task.
    const retry = await failedRun(store, 'r1');
    const before = await runSnapshot(store, 'r1');
    for (const keep of [1, 3, 5]) {
      const before = store.stats.transactions;
      const [retried, created] = await Promise.allSettled([
        store.retryRun({ ...retry, keepHistoryLength: keep }),
        store.createRun(newRun(`beside-${keep}`)),
      ]);
      assert.ok(retried.status === 'rejected' && notATaskStart(retried.reason), `keep ${keep} was not refused`);
      assert.ok(created.status === 'fulfilled' && created.value.created, 'the write committed beside it applies');
      assert.equal(store.stats.transactions, before + 1, 'in one transaction');
    }
    await assertRetryFromTaskStartOnly(store, retry, before);
    await store.close();
  });

  it('flushes queued writes when it closes, and refuses work afterwards', async () => {
    const path = tempPath();
    const store = await openStore(path);
    const pending = store.createRun(newRun('queued'));
    await store.close();
    assert.equal((await pending).created, true);
    await assert.rejects(store.getRun('queued'), /is closed/);
    await assert.rejects(store.createRun(newRun('late')), /is closed/);
    const reopened = await openStore(path);
    assert.equal((await reopened.getRun('queued'))?.id, 'queued');
    await reopened.close();
  });

  it('says to check where it looks, or to start a server on it once, when the schema is missing', async () => {
    const store = createSqliteStore({ path: tempPath() });
    await assert.rejects(
      store.getRun('x'),
      (error: unknown) =>
        error instanceof StoreError &&
        /has no AutoFlow schema yet.*start an AutoFlow server on it once, which creates it \(store\.migrate\(\)\)/.test(error.message),
    );
    await store.close();
  });

  it('creates missing parent directories', async () => {
    const store = await openStore(join(dir, 'a', 'b', 'c', 'autoflow.db'));
    await store.createRun(newRun('r1'));
    await store.close();
  });

  it('creates a new database, and its -wal and -shm files, readable by this user only (0600); an existing file keeps its mode', async () => {
    const mode = (path: string) => statSync(path).mode & 0o777;
    const path = join(dir, 'private', 'autoflow.db');
    const store = await openStore(path);
    await store.createRun(newRun('r1'));
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      assert.ok(existsSync(file), file);
      assert.equal(mode(file), 0o600, `${file} is ${mode(file).toString(8)}`);
    }
    await store.close();
    const reopened = await openStore(path);
    assert.equal(mode(path), 0o600);
    await reopened.close();

    // The operator's choice stands: a file there already is not changed.
    const shared = join(dir, 'shared.db');
    writeFileSync(shared, '');
    chmodSync(shared, 0o640);
    const existing = await openStore(shared);
    await existing.createRun(newRun('r1'));
    assert.equal(mode(shared), 0o640);
    await existing.close();
  });

  it('explains a path it cannot use', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    assert.throws(
      () => createSqliteStore({ path: join(file, 'autoflow.db') }),
      (error: unknown) => error instanceof StoreError && /cannot create the directory .*check the path/.test(error.message),
    );
    assert.throws(
      () => createSqliteStore({ path: dir }),
      (error: unknown) =>
        error instanceof StoreError &&
        /cannot open the SQLite database .*may read and write/.test(error.message) &&
        (error.cause as { code?: string }).code === 'SQLITE_CANTOPEN',
    );
  });

  // Speed at 100,000 runs is measured by `npm run bench`; query-plans.test.ts shows each filter reads its index.
  it('pages through many runs by every filter combination', async () => {
    const store = await openStore();
    const workflows = ['deploy', 'triage', 'sync', 'report'];
    for (let chunk = 0; chunk < 10; chunk++) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) => {
          const n = chunk * 1000 + i;
          return store.createRun(newRun(`run-${n}`, { createdAt: 1_000_000 + n, workflow: workflows[n % 4]! }));
        }),
      );
    }
    await startRun(store, 'done', {}, { createdAt: 1_005_000, workflow: 'sync' });
    await store.commitTask(commit('done', 2, 3000, { status: { status: 'completed', result: null } }));

    const first = await store.listRuns({});
    const middle = await store.listRuns({ workflow: 'triage', cursor: first.nextCursor!, limit: 500 });
    const deep = await store.listRuns({ status: 'completed' });
    const both = await store.listRuns({ workflow: 'sync', status: 'running', limit: 100 });
    assert.equal(first.runs[0]?.id, 'run-9999');
    assert.equal(middle.runs.length, 500);
    assert.ok(middle.runs.every((run) => run.workflow === 'triage' && run.createdAt < first.runs.at(-1)!.createdAt));
    assert.deepEqual(
      deep.runs.map((r) => r.id),
      ['done'],
    );
    assert.equal(both.runs.length, 100);
    assert.ok(both.runs.every((run) => run.workflow === 'sync' && run.status === 'running'));
    await store.close();
  });
});

/**
 * Turns of the event loop, each after a 1 ms timer, for `ms`: the longest the loop stood still, and
 * whether `probe` (a readiness query) answered at every turn.
 */
async function loopWhile(ms: number, probe: () => Promise<unknown>): Promise<{ longestStallMs: number; probes: number }> {
  const started = performance.now();
  let last = started;
  let longestStallMs = 0;
  let probes = 0;
  while (performance.now() - started < ms) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    await probe();
    probes++;
    longestStallMs = Math.max(longestStallMs, performance.now() - last);
    last = performance.now();
  }
  return { longestStallMs, probes };
}

describe('SQLite store, while another process holds the write lock (an sqlite3 shell in a transaction)', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function lockedStore(options: { busyTimeoutMs?: number } = {}) {
    const path = tempPath();
    const store = createSqliteStore({ path, ...options });
    await store.migrate();
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    return { store, other };
  }

  const settled = <T>(promise: Promise<T>) => {
    const state = { done: false };
    promise.then(
      () => (state.done = true),
      () => (state.done = true),
    );
    return state;
  };

  it('keeps the event loop and the probes going while writes wait, and commits them together once the lock is free', async () => {
    const { store, other } = await lockedStore();
    const before = store.stats.transactions;
    const writes = Promise.all([store.createRun(newRun('a')), store.createRun(newRun('b'))]);
    const state = settled(writes);
    const loop = await loopWhile(300, () => store.queueStats());
    assert.equal(state.done, false, 'nothing is acknowledged before it is committed');
    const late = store.createRun(newRun('c'));
    other.exec('COMMIT');
    other.close();
    assert.deepEqual(
      [...(await writes), await late].map((r) => r.created),
      [true, true, true],
    );
    assert.ok(loop.longestStallMs < 150, `the event loop stood still for ${loop.longestStallMs.toFixed(0)} ms`);
    assert.ok(loop.probes > 10, `the readiness query answered ${loop.probes} times meanwhile`);
    assert.equal(store.stats.transactions, before + 1, 'the writes queued while waiting share one transaction');
    await store.close();
  });

  it('fails the writes with the locked error once its patience is over, the event loop going on meanwhile', async () => {
    const { store, other } = await lockedStore({ busyTimeoutMs: 250 });
    const started = performance.now();
    const write = store.createRun(newRun('a'));
    const state = settled(write);
    let failedAfterMs = 0;
    const rejected = assert
      .rejects(write, (error: unknown) => error instanceof StoreError && /stayed locked by another process/.test(error.message))
      .then(() => (failedAfterMs = performance.now() - started));
    const loop = await loopWhile(150, () => store.queueStats());
    assert.equal(state.done, false);
    await rejected;
    other.exec('ROLLBACK');
    other.close();
    assert.ok(failedAfterMs >= 250, `gave up after ${failedAfterMs.toFixed(0)} ms`);
    assert.ok(loop.longestStallMs < 150, `the event loop stood still for ${loop.longestStallMs.toFixed(0)} ms`);
    assert.equal((await store.createRun(newRun('b'))).created, true, 'the next write goes through');
    await store.close();
  });

  it('waits for the lock to close: the writes queued before close are committed', async () => {
    const { store, other } = await lockedStore();
    const write = store.createRun(newRun('queued'));
    const closing = store.close();
    await loopWhile(50, () => Promise.resolve());
    other.exec('COMMIT');
    other.close();
    await closing;
    assert.equal((await write).created, true);
  });
});

describe('SQLite store, when its files are deleted or replaced under it', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  const gone = (error: unknown) =>
    error instanceof StoreError && /was deleted or replaced while the server ran .*Restart the server/.test(error.message);

  async function storeWithRun(): Promise<{ path: string; store: SqliteStore; errors: unknown[] }> {
    const path = tempPath();
    const errors: unknown[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (data: object) => void errors.push(data), child: () => logger };
    const store = createSqliteStore({ path, logger });
    await store.migrate();
    await store.createRun(newRun('before'));
    return { path, store, errors };
  }

  it('fails the probes and every write once the file is deleted, and logs it once', async () => {
    const { path, store, errors } = await storeWithRun();
    for (const file of [path, `${path}-wal`, `${path}-shm`]) rmSync(file);
    await assert.rejects(store.queueStats(), gone, 'the readiness query fails at once');
    await assert.rejects(store.createRun(newRun('after')), gone);
    await assert.rejects(store.countApiTokens(), gone);
    await assert.rejects(store.getRun('before'), gone);
    assert.equal(errors.length, 1, 'logged once');
    await store.close();
  });

  it('fails the writes committed once the file was replaced, no probe having run, within CHECK_INTERVAL_MS', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const { path, store } = await storeWithRun();
    // Queued before, committed after the file was replaced: the commit's check is what refuses it.
    const write = store.createRun(newRun('after'));
    copyFileSync(path, `${path}.copy`);
    renameSync(`${path}.copy`, path);
    t.mock.timers.tick(CHECK_INTERVAL_MS);
    await assert.rejects(write, gone);
    await assert.rejects(store.createRun(newRun('later')), gone);
    await store.close();
  });
});

describe('SQLite store, on a file that is damaged', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  const damaged = (error: unknown) =>
    error instanceof StoreError && /is not a valid database or is damaged .*restore it from a backup/.test(error.message);

  it('fails the probes once any read finds the file damaged, and logs it once; reads of sound pages go on', async () => {
    const path = tempPath();
    const writer = createSqliteStore({ path });
    await writer.migrate();
    await writer.createRun(newRun('r1'));
    for (let i = 1; i <= 300; i++)
      await writer.insertEvent(cloudEvent(`e${i}`, 'com.example.thing', { pad: 'x'.repeat(1000) }), `k${i}`, 100);
    await writer.close();
    // Garbage over the last page of the inbox's events, and nothing else: a disk that failed, a bad restore.
    const inspect = new Database(path, { readonly: true });
    const pageSize = inspect.pragma('page_size', { simple: true }) as number;
    const { page } = inspect.prepare("SELECT max(pageno) AS page FROM dbstat WHERE name = 'events' AND pagetype = 'leaf'").get() as {
      page: number;
    };
    inspect.close();
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0xab), 0, pageSize, (page - 1) * pageSize);
    closeSync(fd);

    const errors: unknown[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (data: object) => void errors.push(data), child: () => logger };
    const store = createSqliteStore({ path, logger });
    await store.migrate();
    await store.queueStats();
    const reads = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => store.getEvent(i + 1)));
    assert.ok(
      reads.some((read) => read.status === 'rejected' && damaged(read.reason)),
      'a read of a damaged page fails',
    );
    assert.equal((await store.getEvent(1))?.id, 'e1', 'an event on a sound page is still read');
    assert.equal((await store.getRun('r1'))?.id, 'r1');
    await assert.rejects(store.queueStats(), damaged, 'the readiness query fails from then on');
    await assert.rejects(store.countRunsByStatus(), damaged, 'and so does the metrics scrape');
    assert.equal(errors.length, 1, 'logged once');
    await store.close();
  });
});

describe('SQLite store, deleting ended runs with many log lines (retention)', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));
  const LINES = 100_000;

  /** A store with two ended runs, `big` with LINES log lines (≈30 MB, written in one transaction: a -wal file as big), and `small`. */
  async function storeWithBigRun() {
    const path = tempPath();
    const store = await openStore(path);
    for (const id of ['big', 'small']) {
      await startRun(store, id);
      await store.commitTask(commit(id, 2, 2000, { status: { status: 'completed', result: 'done' } }));
    }
    const raw = new Database(path);
    raw.exec(`WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${LINES})
      INSERT INTO logs (run_id, idx, at, level, message) SELECT 'big', 2000 + i, 2000, 'info', printf('line %d %.250c', i, 'x') FROM n`);
    const logsOfBig = raw.prepare<[], number>("SELECT count(*) FROM logs WHERE run_id = 'big'").pluck();
    return { path, store, raw, logsOfBig };
  }

  async function openStore(path: string) {
    const store = createSqliteStore({ path });
    await store.migrate();
    return store;
  }

  it('deletes them a chunk at a time: the event loop goes on, and the write-ahead log does not keep their size', async () => {
    const { path, store, raw, logsOfBig } = await storeWithBigRun();
    let done = false;
    const sweep = store.deleteEndedRuns(1_000_000, 200).finally(() => (done = true));
    const started = performance.now();
    let last = started;
    let longestStallMs = 0;
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      longestStallMs = Math.max(longestStallMs, performance.now() - last);
      last = performance.now();
    }
    assert.equal(await sweep, 2);
    assert.ok(longestStallMs < 150, `the event loop stood still for ${longestStallMs.toFixed(0)} ms`);
    assert.equal(logsOfBig.get(), 0);
    assert.equal(await store.getRun('big'), undefined);
    // The next commits checkpoint the log and start it again, cut back to its limit (the lines' insert made it ≈30 MB).
    for (let i = 0; i < 3; i++) await store.createRun(newRun(`after-${i}`));
    assert.ok(statSync(`${path}-wal`).size <= 16 * 1024 * 1024, `the -wal file has ${statSync(`${path}-wal`).size} bytes`);
    raw.close();
    await store.close();
  });

  it('a run whose deletion was interrupted reads as gone, keeps its id until the next sweep finishes it', async () => {
    const { path, store, raw, logsOfBig } = await storeWithBigRun();
    const sweep = store.deleteEndedRuns(1_000_000, 200);
    while (logsOfBig.get() === LINES) await new Promise((resolve) => setImmediate(resolve));
    await store.close();
    await assert.rejects(sweep, /is closed/);

    const reopened = await openStore(path);
    assert.ok((logsOfBig.get() ?? 0) > 0, 'interrupted in the middle of its logs');
    assert.equal(await reopened.getRun('big'), undefined, 'no run with part of its history is shown');
    assert.deepEqual(
      (await reopened.listRuns({})).runs.map((run) => run.id),
      ['small'],
    );
    await assert.rejects(reopened.createRun(newRun('big')), /being deleted by retention: try again in a moment/);
    assert.equal(await reopened.deleteEndedRuns(1_000_000, 200), 2);
    assert.equal(logsOfBig.get(), 0);
    assert.equal((await reopened.createRun(newRun('big'))).created, true, 'its id is free again');
    assert.deepEqual(await reopened.loadHistory('big'), [], 'and the new run has none of the old history');
    raw.close();
    await reopened.close();
  });
});
