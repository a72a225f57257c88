import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewRun } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import { childExistsResolution } from '../../core/task.js';
import { commit, events, isReady, newRun, startRun } from './fixtures.js';
import type { ConformanceContext } from './store-conformance.js';

/** The child `parent` starts at `step` under `id`, as buildTaskCommit describes it. */
function childOf(parent: string, step: number, id: string): NewRun {
  return newRun(id, { parentId: parent, parentStep: step, createdAt: 2000 });
}

/** Run `id`, started with its first task, continues as `next` (history length 2 → 4), which keeps its parent. */
async function continueAs(store: Store, id: string, next: string): Promise<void> {
  const run = await store.getRun(id);
  const successor = newRun(next, { ...(run?.parentId !== undefined && { parentId: run.parentId, parentStep: run.parentStep }) });
  const continued = commit(id, 2, 2000, { status: { status: 'continued', result: { continuedAs: next } }, successor });
  continued.history.push(...events(3, 2000, { type: 'run_continued', newRunId: next }));
  assert.ok((await store.commitTask(continued)).ok, `${id} continues as ${next}`);
}

/** What run `id` has in its mailbox: each resolution with its time. */
const mailOf = async (store: Store, id: string) => (await store.loadPending(id)).map((p) => [p.resolution, p.at]);

export function describeChildren(context: ConformanceContext): void {
  describe('child runs', () => {
    it('fails the start of a child whose id another run holds, in the commit that asked for it', async () => {
      const store = context.store;
      await startRun(store, 'parent');
      await startRun(store, 'unrelated');
      const unrelatedBefore = await store.getRun('unrelated');
      const first = childOf('parent', 1, 'fixed');
      const again = childOf('parent', 2, 'fixed');
      const taken = childOf('parent', 3, 'unrelated');
      const result = await store.commitTask(commit('parent', 2, 2000, { children: [first, again, taken] }));
      assert.ok(result.ok);
      const failures = [childExistsResolution(again), childExistsResolution(taken)];
      assert.deepEqual(
        result.pending.map((p) => [p.resolution, p.at]),
        failures.map((failure) => [failure, 2000]),
        'the commit returns the failures in the mailbox, in the order of the starts',
      );
      assert.deepEqual(await mailOf(store, 'parent'), [
        [failures[0], 2000],
        [failures[1], 2000],
      ]);
      assert.equal(await isReady(store, 'parent'), true, 'the parent gets a task to receive them');
      assert.deepEqual(
        [(await store.getRun('fixed'))?.parentStep, await store.getRun('unrelated')],
        [1, unrelatedBefore],
        'the first start created the child; the run that held the id is as it was',
      );
    });

    it('fails the start of a child whose id a finished child of the same parent holds', async () => {
      const store = context.store;
      await startRun(store, 'parent');
      await startRun(store, 'done', {}, { parentId: 'parent', parentStep: 1 });
      await store.commitTask(commit('done', 2, 1500, { status: { status: 'completed', result: 1 } }));
      assert.ok((await store.commitTask(commit('parent', 2, 2000, { children: [childOf('parent', 4, 'done')] }))).ok);
      assert.deepEqual(await mailOf(store, 'parent'), [[childExistsResolution(childOf('parent', 4, 'done')), 2000]]);
    });

    it('finds its own child of the same step when a task starts it again (a retried task)', async () => {
      const store = context.store;
      await startRun(store, 'parent');
      const child = childOf('parent', 1, 'parent.1');
      assert.ok((await store.commitTask(commit('parent', 2, 2000, { children: [child] }))).ok);
      assert.deepEqual(await store.commitTask(commit('parent', 3, 3000, { children: [child] })), { ok: true, pending: [] });
      assert.deepEqual(await store.loadPending('parent'), []);
    });

    it('leaves no failure in the mailbox of a run that ends in the same commit', async () => {
      const store = context.store;
      await startRun(store, 'parent');
      await startRun(store, 'unrelated');
      const ending = commit('parent', 2, 2000, {
        children: [childOf('parent', 1, 'unrelated')],
        status: { status: 'completed', result: null },
      });
      assert.deepEqual(await store.commitTask(ending), { ok: true, pending: [] });
    });

    it('cancels a child that continued as new in the run its chain goes on in', async () => {
      const store = context.store;
      await startRun(store, 'parent');
      await startRun(store, 'child', {}, { parentId: 'parent', parentStep: 3 });
      await continueAs(store, 'child', 'child~2');
      await startRun(store, 'child~2', {}, { parentId: 'parent', parentStep: 3 });
      await continueAs(store, 'child~2', 'child~3');
      await startRun(store, 'child~3', {}, { parentId: 'parent', parentStep: 3 });
      const reason = 'its parent run parent was cancelled';
      const cancelled = commit('parent', 2, 2500, { status: { status: 'cancelled' }, cancelChildren: [{ runId: 'child', reason }] });
      assert.ok((await store.commitTask(cancelled)).ok);
      assert.deepEqual(await mailOf(store, 'child~3'), [[{ kind: 'cancel', reason }, 2500]]);
      assert.equal(await isReady(store, 'child~3'), true);
      assert.equal(await store.cancelRequestedAt('child~3'), 2500);
    });

    it('does not follow a chain to a run that is not a child of the cancelled run', async () => {
      // A successor whose id a run of its own held already was not created: that run is not the child's continuation.
      const store = context.store;
      await startRun(store, 'parent');
      await startRun(store, 'child', {}, { parentId: 'parent', parentStep: 3 });
      await startRun(store, 'child~2');
      await continueAs(store, 'child', 'child~2');
      const before = await store.getRun('child~2');
      const cancelled = commit('parent', 2, 2500, {
        status: { status: 'cancelled' },
        cancelChildren: [{ runId: 'child', reason: 'its parent run parent was cancelled' }],
      });
      assert.ok((await store.commitTask(cancelled)).ok);
      assert.deepEqual([await store.getRun('child~2'), await store.loadPending('child~2')], [before, []]);
      assert.equal(await store.cancelRequestedAt('child~2'), undefined);
    });
  });
}
