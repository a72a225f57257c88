import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
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
import { createSqliteStore } from './sqlite-store.js';

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
    await first.addApiToken('hash', 'admin', 1);
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

  it('says to migrate first when the schema is missing', async () => {
    const store = createSqliteStore({ path: tempPath() });
    await assert.rejects(
      store.getRun('x'),
      (error: unknown) => error instanceof StoreError && /call store.migrate\(\) first/.test(error.message),
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
