import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CloudEvent, NewRun } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import { childExistsResolution } from '../../core/task.js';
import { cloudEvent, commit, events, isReady, newRun, startRun, wait } from './fixtures.js';
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

  describe('continue-as-new', () => {
    /** A signal event sent to run `to`. */
    const signal = (id: string, to: string, name = 'go'): CloudEvent => ({ ...cloudEvent(id, `autoflow.signal.${name}`), subject: to });
    const signalWait = (runId: string, step: number, name = 'go') =>
      wait(runId, step, JSON.stringify(['r']), { eventType: `autoflow.signal.${name}`, paths: ['subject'] });

    it('carries the signals the run never took to its successor, in the order they would have been taken, and no other event', async () => {
      const store = context.store;
      await startRun(store, 'r', { waits: [signalWait('r', 1), signalWait('r', 2)] });
      const seqs: Record<string, number> = {};
      for (const [id, event] of [
        ['taken', signal('taken', 'r')],
        ['kept', signal('kept', 'r')],
        ['mailed', signal('mailed', 'r')],
        ['unsent-1', signal('unsent-1', 'r', 'stop')],
        ['unsent-2', signal('unsent-2', 'r')],
        ['elsewhere', signal('elsewhere', 'other')],
        ['not-a-signal', { ...cloudEvent('not-a-signal'), subject: 'r' }],
      ] as const) {
        seqs[id] = (await store.insertEvent(event, id, 1500)).seq;
      }
      // `taken` and `kept` reached the code in one task (its code kept the second); `mailed` reached a wait after it.
      for (const [id, step] of [
        ['taken', 1],
        ['kept', 2],
      ] as const) {
        await store.routeEvent({ eventSeq: seqs[id]!, newRuns: [], deliveries: [{ runId: 'r', step }], markRouted: true });
      }
      const mailbox = await store.loadPending('r');
      assert.ok(
        (await store.commitTask(commit('r', 2, 1600, { consumedPending: mailbox.map((p) => p.id), waits: [signalWait('r', 3)] }))).ok,
      );
      await store.routeEvent({ eventSeq: seqs['mailed']!, newRuns: [], deliveries: [{ runId: 'r', step: 3 }], markRouted: true });
      const refused = commit('r', 2, 1700, { status: { status: 'continued', result: { continuedAs: 'r~2' } }, successor: newRun('r~2') });
      refused.carrySignals = { to: 'r~2', kept: [{ source: '/test', id: 'kept' }] };
      assert.deepEqual(await store.commitTask(refused), { ok: false, reason: 'fenced' });

      const continued = commit('r', 3, 2000, {
        status: { status: 'continued', result: { continuedAs: 'r~2' } },
        successor: newRun('r~2', { createdAt: 2000 }),
        carrySignals: {
          to: 'r~2',
          // One it never received, and one that is not a signal of its own, are not carried.
          kept: [
            { source: '/test', id: 'kept' },
            { source: '/test', id: 'never-sent' },
            { source: '/test', id: 'elsewhere' },
          ],
        },
      });
      assert.ok((await store.commitTask(continued)).ok);
      const carried = [
        ...(await store.listRecentEvents('autoflow.signal.go', 2000, 100)),
        ...(await store.listRecentEvents('autoflow.signal.stop', 2000, 100)),
      ].sort((a, b) => a.seq - b.seq);
      assert.deepEqual(
        carried.map(({ id, subject, type, data, receivedAt }) => ({ id, subject, type, data, receivedAt })),
        [
          { id: 'kept', subject: 'r~2', type: 'autoflow.signal.go', data: { id: 'kept' }, receivedAt: 2000 },
          { id: 'mailed', subject: 'r~2', type: 'autoflow.signal.go', data: { id: 'mailed' }, receivedAt: 2000 },
          { id: 'unsent-1', subject: 'r~2', type: 'autoflow.signal.stop', data: { id: 'unsent-1' }, receivedAt: 2000 },
          { id: 'unsent-2', subject: 'r~2', type: 'autoflow.signal.go', data: { id: 'unsent-2' }, receivedAt: 2000 },
        ],
      );
      // Addressed to the successor, whose signal waits look them up; no trigger sees them again.
      assert.deepEqual(
        (await store.listUnroutedEvents(100)).filter((event) => event.subject === 'r~2'),
        [],
      );
    });
  });
}
