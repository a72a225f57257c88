import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../core/errors.js';
import type { RunRecord } from '../../core/model.js';
import type { RunFilter, Store } from '../../core/ports.js';
import { endedRun, newRun } from './fixtures.js';
import type { ConformanceContext } from './store-conformance.js';

/** Every page of `filter`, the next asked for with the cursor of the one before. */
async function allPages(store: Store, filter: RunFilter): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for (let cursor: string | undefined, page = 0; page < 1000; page++) {
    const result = await store.listRuns(cursor === undefined ? filter : { ...filter, cursor });
    runs.push(...result.runs);
    if (result.nextCursor === undefined) return runs;
    cursor = result.nextCursor;
  }
  throw new Error('listRuns never stopped giving a next cursor');
}

const ids = async (store: Store, filter: RunFilter) => (await allPages(store, filter)).map((run) => run.id);

/** listRuns in the order `updated`: "what failed in the last hour", the latest failures first. */
export function describeRunsByUpdate(context: ConformanceContext): void {
  describe('runs by when they ended', () => {
    it('lists a run started long ago that failed just now first, and from a time on', async () => {
      const store = context.store;
      await endedRun(store, 'started-days-ago', 1000, 9000);
      await endedRun(store, 'started-lately', 5000, 6000);
      await endedRun(store, 'of-another-workflow', 5500, 8000, 'failed', 'other');
      await endedRun(store, 'done', 7000, 9500, 'completed');
      await store.createRun(newRun('live', { createdAt: 8000 }));

      assert.deepEqual(await ids(store, { status: 'failed' }), ['of-another-workflow', 'started-lately', 'started-days-ago']);
      const failed: RunFilter = { status: 'failed', order: 'updated' };
      assert.deepEqual(await ids(store, failed), ['started-days-ago', 'of-another-workflow', 'started-lately']);
      assert.deepEqual(
        (await store.listRuns(failed)).runs.map((run) => run.updatedAt),
        [9000, 8000, 6000],
      );
      assert.deepEqual(await ids(store, { ...failed, updatedFrom: 8000 }), ['started-days-ago', 'of-another-workflow'], 'at or after');
      assert.deepEqual(await ids(store, { ...failed, updatedFrom: 9001 }), []);
      assert.deepEqual(await ids(store, { ...failed, workflow: 'wf', limit: 1 }), ['started-days-ago', 'started-lately']);
      assert.deepEqual(await ids(store, { ...failed, workflow: 'other', updatedFrom: 7000 }), ['of-another-workflow']);
      assert.deepEqual(await ids(store, { status: 'completed', order: 'updated' }), ['done']);
      assert.deepEqual(await ids(store, { ...failed, order: 'created' }), ['of-another-workflow', 'started-lately', 'started-days-ago']);
    });

    it('pages in that order completely and without repeats, ties broken by id, while runs fail between pages', async () => {
      const store = context.store;
      // Created in the opposite order of their failures, four at a time at the same instant.
      for (let i = 0; i < 23; i++) await endedRun(store, `f${String(i).padStart(2, '0')}`, 100_000 - i, 2000 + Math.floor(i / 4));
      const expected = (await store.listRuns({ status: 'failed', order: 'updated', limit: 500 })).runs;
      const byUpdate = (a: RunRecord, b: RunRecord) => b.updatedAt - a.updatedAt || (a.id < b.id ? 1 : -1);
      assert.deepEqual(
        expected.map((run) => run.id),
        [...expected].sort(byUpdate).map((run) => run.id),
      );
      assert.equal(expected[0]?.id, 'f22');

      const first = await store.listRuns({ status: 'failed', order: 'updated', limit: 5 });
      // A run that fails between pages is newer than the cursor: the later pages neither repeat nor skip a run.
      await endedRun(store, 'late', 1, 50_000);
      const rest = await allPages(store, { status: 'failed', order: 'updated', limit: 5, cursor: first.nextCursor! });
      assert.deepEqual(
        [...first.runs, ...rest].map((run) => run.id),
        expected.map((run) => run.id),
      );
      assert.deepEqual(await ids(store, { status: 'failed', order: 'updated', updatedFrom: 2004, limit: 3 }), [
        'late',
        ...expected.filter((run) => run.updatedAt >= 2004).map((run) => run.id),
      ]);
    });

    it('refuses the order for runs that still advance, updatedFrom without it, and a cursor of the other order', async () => {
      const store = context.store;
      for (let i = 0; i < 3; i++) await endedRun(store, `f${i}`, 1000 + i, 2000 + i);
      await assert.rejects(store.listRuns({ order: 'updated' }), ValidationError);
      await assert.rejects(store.listRuns({ order: 'updated', status: 'running' }), /no longer advance \(completed, failed/);
      await assert.rejects(store.listRuns({ status: 'failed', updatedFrom: 1 }), ValidationError);
      const created = await store.listRuns({ status: 'failed', limit: 1 });
      await assert.rejects(
        store.listRuns({ status: 'failed', order: 'updated', cursor: created.nextCursor! }),
        /order created, not updated/,
      );
      const updated = await store.listRuns({ status: 'failed', order: 'updated', limit: 1 });
      await assert.rejects(store.listRuns({ status: 'failed', cursor: updated.nextCursor! }), /order updated, not created/);
    });
  });
}
