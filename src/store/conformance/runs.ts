import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../core/errors.js';
import type { RunRecord } from '../../core/model.js';
import type { RunFilter, Store } from '../../core/ports.js';
import { commit, isReady, newRun, startRun } from './fixtures.js';
import type { ConformanceContext } from './store-conformance.js';

async function allPages(store: Store, filter: RunFilter): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const result = await store.listRuns(cursor === undefined ? filter : { ...filter, cursor });
    runs.push(...result.runs);
    if (result.nextCursor === undefined) return runs;
    cursor = result.nextCursor;
  }
  throw new Error('listRuns never stopped giving a next cursor');
}

const newestFirst = (a: RunRecord, b: RunRecord) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1);

export function describeRuns(context: ConformanceContext): void {
  describe('runs', () => {
    it('creates a run once (insert-or-ignore by id), running and ready', async () => {
      const store = context.store;
      const run = newRun('r1', { parentId: 'p', parentStep: 3, triggerEventSeq: 7, input: { list: [1, { a: null }] } });
      const first = await store.createRun(run);
      const expected: RunRecord = { ...run, status: 'running', updatedAt: run.createdAt, historyLength: 0 };
      assert.deepEqual(first, { created: true, run: expected });
      assert.deepEqual(await store.createRun({ ...run, input: 'other', createdAt: 5 }), { created: false, run: expected });
      assert.deepEqual(await store.getRun('r1'), expected);
      assert.equal(await isReady(store, 'r1'), true);
    });

    it('creates a run once when its id arrives many times at once, and answers every caller with that run', async () => {
      const store = context.store;
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.createRun(newRun('same', { createdAt: 100 + i }))));
      assert.equal(results.filter((result) => result.created).length, 1);
      const winner = results.find((result) => result.created)!.run;
      for (const result of results) assert.deepEqual(result.run, winner);
    });

    it('leaves optional fields out of a run that has none', async () => {
      const store = context.store;
      const { run } = await store.createRun(newRun('r1'));
      assert.deepEqual(Object.keys(run).sort(), [
        'createdAt',
        'historyLength',
        'id',
        'input',
        'status',
        'updatedAt',
        'version',
        'workflow',
      ]);
      assert.equal(await store.getRun('nope'), undefined);
    });

    it('creates runs that arrive concurrently, all of them', async () => {
      const store = context.store;
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.createRun(newRun(`r${i}`, { createdAt: i }))));
      assert.equal(results.filter((r) => r.created).length, 200);
      assert.equal((await allPages(store, { limit: 500 })).length, 200);
    });

    it('pages through runs newest first, completely and without repeats, even when createdAt ties', async () => {
      const store = context.store;
      for (let i = 0; i < 23; i++) {
        const id = `r${String(i).padStart(2, '0')}`;
        await store.createRun(newRun(id, { createdAt: 1000 + Math.floor(i / 4), workflow: i % 2 ? 'odd' : 'even' }));
      }
      const expected = (await allPages(store, { limit: 500 })).map((r) => r.id);
      const everything = [...expected];
      assert.equal(expected.length, 23);

      const first = await store.listRuns({ limit: 5 });
      assert.deepEqual(
        first.runs.map((r) => r.id),
        expected.slice(0, 5),
      );
      // A run created between pages is newer than the cursor: later pages neither repeat nor skip.
      await store.createRun(newRun('late', { createdAt: 5000 }));
      const rest = await allPages(store, { limit: 5, cursor: first.nextCursor! });
      assert.deepEqual(
        [...first.runs, ...rest].map((r) => r.id),
        everything,
      );
      const sorted = [...first.runs, ...rest].sort(newestFirst).map((r) => r.id);
      assert.deepEqual(sorted, everything, 'order is createdAt descending, then id descending');

      const odd = await allPages(store, { workflow: 'odd', limit: 3 });
      assert.deepEqual(
        odd.map((r) => r.id),
        everything.filter((id) => Number(id.slice(1)) % 2 === 1),
      );
    });

    it('filters by status and counts runs by status', async () => {
      const store = context.store;
      await startRun(store, 'done');
      await store.commitTask(commit('done', 2, 2000, { status: { status: 'completed', result: { ok: true } } }));
      await startRun(store, 'broken');
      await store.commitTask(commit('broken', 2, 2000, { status: { status: 'failed', error: { name: 'Error', message: 'boom' } } }));
      await store.createRun(newRun('fresh'));
      assert.deepEqual(
        (await store.listRuns({ status: 'completed' })).runs.map((r) => r.id),
        ['done'],
      );
      assert.deepEqual(
        (await store.listRuns({ status: 'failed', workflow: 'wf' })).runs.map((r) => r.id),
        ['broken'],
      );
      assert.deepEqual((await store.listRuns({ status: 'failed', workflow: 'other' })).runs, []);
      assert.deepEqual(await store.countRunsByStatus(), { completed: 1, failed: 1, running: 1 });
    });

    it('filters by creation time, with the other filters and across pages', async () => {
      const store = context.store;
      for (let i = 0; i < 12; i++)
        await store.createRun(newRun(`t${String(i).padStart(2, '0')}`, { createdAt: 1000 + i * 10, workflow: i % 3 ? 'wf' : 'other' }));
      const ids = async (filter: RunFilter) => (await allPages(store, filter)).map((r) => r.id);
      assert.deepEqual(await ids({ createdFrom: 1050, createdBefore: 1090, limit: 2 }), ['t08', 't07', 't06', 't05']);
      assert.deepEqual(await ids({ createdFrom: 1100 }), ['t11', 't10']);
      assert.deepEqual(await ids({ createdBefore: 1010 }), ['t00']);
      assert.deepEqual(await ids({ createdFrom: 1000, createdBefore: 1060, workflow: 'other', status: 'running' }), ['t03', 't00']);
      assert.deepEqual(await ids({ createdFrom: 2000 }), []);
    });

    it('filters by version, whole or its start, with the other filters', async () => {
      const store = context.store;
      await store.createRun(newRun('old-1', { version: 'f409e359c462aa', createdAt: 1000 }));
      await store.createRun(newRun('old-2', { version: 'f409e359c462aa', createdAt: 1010, workflow: 'other' }));
      await store.createRun(newRun('new-1', { version: 'f409e4000000bb', createdAt: 1020 }));
      const ids = async (filter: RunFilter) => (await allPages(store, filter)).map((r) => r.id);
      assert.deepEqual(await ids({ version: 'f409e359c462' }), ['old-2', 'old-1']);
      assert.deepEqual(await ids({ version: 'f409e359c462aa', workflow: 'wf', status: 'running' }), ['old-1']);
      assert.deepEqual(await ids({ version: 'f409e' }), ['new-1', 'old-2', 'old-1']);
      assert.deepEqual(await ids({ version: 'f409e359c462ab' }), []);
    });

    it('finds the runs started by events about a GitLab reference, comments included', async () => {
      const store = context.store;
      const event = async (id: string, subject?: string) =>
        (
          await store.insertEvent(
            { specversion: '1.0', id, source: 'gitlab', type: 'com.gitlab.events.issue_updated', ...(subject ? { subject } : {}) },
            id,
            1000,
          )
        ).seq;
      const seqs = {
        issue: await event('e1', 'demo/app#42'),
        note: await event('e2', 'demo/app#42#note_7'),
        other: await event('e3', 'demo/app#420'),
        mr: await event('e4', 'demo/app!42'),
        none: await event('e5'),
      };
      let at = 2000;
      for (const [name, seq] of Object.entries(seqs))
        await store.createRun(newRun(`by-${name}`, { createdAt: at++, triggerEventSeq: seq }));
      await store.createRun(newRun('manual', { createdAt: at++ }));
      const ids = async (filter: RunFilter) => (await allPages(store, filter)).map((r) => r.id);
      assert.deepEqual(await ids({ subject: 'demo/app#42', limit: 1 }), ['by-note', 'by-issue']);
      assert.deepEqual(await ids({ subject: 'demo/app!42' }), ['by-mr']);
      assert.deepEqual(await ids({ subject: 'demo/app#42', workflow: 'other' }), []);
      assert.deepEqual(await ids({ subject: 'demo/app#4' }), []);
    });

    it("lists a run's children, newest first across pages, with the other filters and in either order", async () => {
      const store = context.store;
      const child = (id: string, parentId: string, createdAt: number, workflow = 'svc') =>
        store.createRun(newRun(id, { parentId, parentStep: 1, createdAt, workflow }));
      await store.createRun(newRun('rel1', { createdAt: 1000, workflow: 'release' }));
      // Starts that tie on createdAt, a child on another workflow, a chain's successor (which keeps the parent).
      for (const [i, id] of ['api', 'web', 'db', 'queue', 'auth'].entries()) await child(`rel1-${id}`, 'rel1', 1100 + Math.floor(i / 2));
      await child('rel1-migrate', 'rel1', 1103, 'migrate');
      await child('rel1-api~2', 'rel1', 1200);
      await child('rel1-api-sub', 'rel1-api', 1300);
      await child('rel2-api', 'rel2', 1400);
      await store.createRun(newRun('unrelated', { createdAt: 1500, workflow: 'svc' }));
      for (const [id, status] of [
        ['rel1-web', 'failed'],
        ['rel1-db', 'completed'],
        ['rel1-auth', 'failed'],
      ] as const) {
        const ending = status === 'failed' ? { status, error: { name: 'Error', message: `${id} broke` } } : { status };
        assert.ok((await store.commitTask(commit(id, 0, id === 'rel1-auth' ? 3000 : 4000, { status: ending }))).ok);
      }
      const ids = async (filter: RunFilter) => (await allPages(store, filter)).map((r) => r.id);
      const children = ['rel1-api~2', 'rel1-migrate', 'rel1-auth', 'rel1-queue', 'rel1-db', 'rel1-web', 'rel1-api'];
      assert.deepEqual(await ids({ parentId: 'rel1', limit: 2 }), children);
      assert.deepEqual(
        (await store.listRuns({ parentId: 'rel1' })).runs.map((r) => r.id),
        children,
      );
      assert.deepEqual(await ids({ parentId: 'rel1', workflow: 'svc', status: 'running', limit: 1 }), [
        'rel1-api~2',
        'rel1-queue',
        'rel1-api',
      ]);
      assert.deepEqual(await ids({ parentId: 'rel1', createdFrom: 1101, createdBefore: 1200 }), [
        'rel1-migrate',
        'rel1-auth',
        'rel1-queue',
        'rel1-db',
      ]);
      assert.deepEqual(await ids({ parentId: 'rel1', status: 'failed', order: 'updated', limit: 1 }), ['rel1-web', 'rel1-auth']);
      assert.deepEqual(await ids({ parentId: 'rel1', status: 'failed', order: 'updated', updatedFrom: 3500 }), ['rel1-web']);
      assert.deepEqual(await ids({ parentId: 'rel1-api' }), ['rel1-api-sub'], "a child's own children, not its parent's");
      assert.deepEqual(await ids({ parentId: 'unrelated' }), []);
      assert.deepEqual(await ids({ parentId: 'nope' }), []);
    });

    it('pages 50 runs by default and at most 500', async () => {
      const store = context.store;
      await Promise.all(Array.from({ length: 520 }, (_, i) => store.createRun(newRun(`r${i}`, { createdAt: i }))));
      const byDefault = await store.listRuns({});
      assert.equal(byDefault.runs.length, 50);
      assert.ok(byDefault.nextCursor);
      assert.equal((await store.listRuns({ limit: 10_000 })).runs.length, 500);
      const last = await store.listRuns({ limit: 500, cursor: (await store.listRuns({ limit: 500 })).nextCursor! });
      assert.equal(last.runs.length, 20);
      assert.equal(last.nextCursor, undefined);
    });

    it('rejects a cursor it did not make', async () => {
      await assert.rejects(context.store.listRuns({ cursor: 'not-a-cursor' }), ValidationError);
    });

    it('adds pending to a live run and makes it ready, but not to an ended or unknown run', async () => {
      const store = context.store;
      await startRun(store, 'r1');
      assert.equal(await isReady(store, 'r1'), false);
      assert.equal(await store.addPending('r1', { kind: 'cancel', reason: 'user' }, 3000), true);
      const pending = await store.loadPending('r1');
      assert.deepEqual(
        pending.map((p) => [p.resolution, p.at]),
        [[{ kind: 'cancel', reason: 'user' }, 3000]],
      );
      assert.equal(await isReady(store, 'r1'), true);

      await store.commitTask(commit('r1', 2, 4000, { consumedPending: [pending[0]!.id], status: { status: 'cancelled' } }));
      assert.equal(await store.addPending('r1', { kind: 'cancel' }, 5000), false);
      assert.equal(await store.addPending('nope', { kind: 'cancel' }, 5000), false);
      assert.deepEqual(await store.loadPending('r1'), []);
    });

    it('takes one cancel per run, whoever asks, and tells since when it was asked', async () => {
      const store = context.store;
      await startRun(store, 'parent');
      await startRun(store, 'r1', {}, { parentId: 'parent', parentStep: 1 });
      assert.equal(await store.cancelRequestedAt('r1'), undefined);
      assert.equal(await store.addPending('r1', { kind: 'timer', step: 2 }, 2500), true, 'other resolutions as before');
      assert.equal(await store.addPending('r1', { kind: 'cancel', reason: 'first' }, 3000), true);
      assert.equal(await store.addPending('r1', { kind: 'cancel', reason: 'second' }, 3500), false, 'a second request appends nothing');
      const parentCancelled = commit('parent', 2, 4000, {
        status: { status: 'cancelled' },
        cancelChildren: [{ runId: 'r1', reason: 'its parent run parent was cancelled' }],
      });
      assert.ok((await store.commitTask(parentCancelled)).ok);
      assert.deepEqual(
        (await store.loadPending('r1')).map((p) => [p.resolution, p.at]),
        [
          [{ kind: 'timer', step: 2 }, 2500],
          [{ kind: 'cancel', reason: 'first' }, 3000],
        ],
        "nor does the parent's cancellation",
      );
      assert.equal(await store.cancelRequestedAt('r1'), 3000);
      assert.equal(await store.cancelRequestedAt('parent'), undefined);
      assert.equal(await store.cancelRequestedAt('nope'), undefined);
    });
  });
}
