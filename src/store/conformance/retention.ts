import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NewRun, RunStatus } from '../../core/model.js';
import type { Store } from '../../core/ports.js';
import { cloudEvent, commit, definition, startRun } from './fixtures.js';
import type { ConformanceContext } from './store-conformance.js';

/** A run started at 1000 that logged a line and ended with `status` at `endedAt`. */
async function endedRun(store: Store, id: string, status: RunStatus, endedAt: number, run: Partial<NewRun> = {}): Promise<void> {
  await startRun(store, id, {}, run);
  const end = commit(id, 2, endedAt, {
    logs: [{ runId: id, index: 2000, at: endedAt, level: 'info', message: `${id} ends` }],
    status: status === 'failed' ? { status, error: { name: 'Error', message: 'boom' } } : { status, result: null },
  });
  const result = await store.commitTask(end);
  if (!result.ok) throw new Error(`could not end run ${id}: ${result.reason}`);
}

async function routedEvent(store: Store, id: string, receivedAt: number, routed = true): Promise<number> {
  const { seq } = await store.insertEvent(cloudEvent(id), id, receivedAt);
  if (routed) await store.routeEvent({ eventSeq: seq, newRuns: [], deliveries: [], markRouted: true });
  return seq;
}

export function describeRetention(context: ConformanceContext): void {
  describe('retention', () => {
    it('deletes the runs that ended before the cutoff with their history, logs and human tasks, and nothing else', async () => {
      const store = context.store;
      await endedRun(store, 'done-long-ago', 'completed', 2000);
      await endedRun(store, 'failed-long-ago', 'failed', 2500);
      await endedRun(store, 'cancelled-long-ago', 'cancelled', 3000);
      await endedRun(store, 'done-lately', 'completed', 9000);
      await startRun(store, 'still-running');
      const task = (id: string, runId: string) => ({
        id,
        runId,
        workflow: 'wf',
        kind: 'form' as const,
        title: id,
        spec: { title: id, assignees: ['alice'], fields: [{ name: 'x', label: 'X', type: 'text' as const }] },
        eligible: ['alice'],
        status: 'submitted' as const,
        decisions: [],
        createdAt: 1500,
        revision: 0,
      });
      await store.createHumanTask(task('tk_gone', 'done-long-ago'));
      await store.createHumanTask({ ...task('tk_kept', 'still-running'), status: 'open' });

      assert.equal(await store.deleteEndedRuns(5000, 100), 3);

      for (const id of ['done-long-ago', 'failed-long-ago', 'cancelled-long-ago']) {
        assert.equal(await store.getRun(id), undefined, id);
        assert.deepEqual(await store.loadHistory(id), [], id);
        assert.deepEqual(await store.listLogs(id), [], id);
      }
      assert.equal(await store.getHumanTask('tk_gone'), undefined);
      assert.deepEqual(
        (await store.listHumanTasks({ eligible: 'alice' })).tasks.map((t) => t.id),
        ['tk_kept'],
      );
      assert.equal((await store.getRun('done-lately'))?.status, 'completed');
      assert.equal((await store.getRun('still-running'))?.status, 'running');
      assert.equal((await store.loadHistory('done-lately')).length, 3);
      assert.deepEqual(
        (await store.listLogs('done-lately')).map((l) => l.message),
        ['done-lately ends'],
      );
      assert.deepEqual(await store.countRunsByStatus(), { completed: 1, running: 1 });
      assert.equal(await store.deleteEndedRuns(5000, 100), 0);
    });

    it('keeps an ended run while a run refers to it: its child, or the successor it continued as; then deletes them in turn', async () => {
      const store = context.store;
      await endedRun(store, 'parent', 'completed', 2000);
      await startRun(store, 'parent.1', {}, { parentId: 'parent', parentStep: 1 });
      await startRun(store, 'chain');
      const continued = await store.commitTask(
        commit('chain', 2, 2000, { status: { status: 'continued', result: { continuedAs: 'chain~2' } } }),
      );
      assert.ok(continued.ok);
      await startRun(store, 'chain~2');

      assert.equal(await store.deleteEndedRuns(5000, 100), 0, 'the child and the successor still run');
      for (const id of ['parent.1', 'chain~2']) {
        const end = await store.commitTask(commit(id, 2, 3000, { status: { status: 'completed', result: null } }));
        assert.ok(end.ok, id);
      }
      // The child and the successor go first; the runs they referred to in the same sweep or a later one.
      let deleted = await store.deleteEndedRuns(5000, 100);
      assert.ok(deleted >= 2, `the child and the successor, which nothing refers to (${deleted})`);
      assert.deepEqual([await store.getRun('parent.1'), await store.getRun('chain~2')], [undefined, undefined]);
      for (let sweep = 0; sweep < 2; sweep++) deleted += await store.deleteEndedRuns(5000, 100);
      assert.equal(deleted, 4, 'then the parent and the run that continued');
      assert.deepEqual(await store.countRunsByStatus(), {});
    });

    it('deletes a run’s retries with the run', async () => {
      const store = context.store;
      await endedRun(store, 'retried', 'failed', 2000);
      const retry = { runId: 'retried', expectedHistoryLength: 3, expectedUpdatedAt: 2000, keepHistoryLength: 0, version: 'v1', at: 2500 };
      assert.equal(await store.retryRun({ ...retry, pending: [], calls: [], timers: [], waits: [] }), true);
      assert.deepEqual(await store.claimReadyRuns('node-a', 2500, 60_000, 10), ['retried']);
      assert.equal(
        (await store.commitTask(commit('retried', 0, 3000, { owner: 'node-a', status: { status: 'completed', result: null } }))).ok,
        true,
      );
      assert.equal((await store.listRunRetries('retried')).length, 1);
      assert.equal(await store.deleteEndedRuns(5000, 100), 1);
      assert.deepEqual(await store.listRunRetries('retried'), []);
    });

    it('counts a run from its end, not its start, and never deletes one still running, however old', async () => {
      const store = context.store;
      await endedRun(store, 'long-run', 'completed', 8000);
      await startRun(store, 'forgotten');
      assert.equal(await store.deleteEndedRuns(5000, 100), 0);
      assert.equal(await store.deleteEndedRuns(8001, 100), 1);
      assert.equal((await store.getRun('forgotten'))?.status, 'running');
    });

    it('deletes at most `limit` runs a call', async () => {
      const store = context.store;
      for (const id of ['a', 'b', 'c']) await endedRun(store, id, 'completed', 2000);
      assert.deepEqual(
        [await store.deleteEndedRuns(5000, 2), await store.deleteEndedRuns(5000, 2), await store.deleteEndedRuns(5000, 2)],
        [2, 1, 0],
      );
    });

    it('deletes the definition versions deployed before the cutoff that are not active and that no run uses', async () => {
      const store = context.store;
      await store.deployDefinition(definition('wf', 'wf-old', 1000));
      await store.deployDefinition(definition('wf', 'wf-new', 2000));
      await store.deployDefinition(definition('other', 'other-used', 1000));
      await store.deployDefinition(definition('other', 'other-active', 1500));
      await endedRun(store, 'uses-other', 'completed', 2000, { workflow: 'other', version: 'other-used' });
      await store.deployDefinition(definition('late', 'late-1', 6000));
      await store.deployDefinition(definition('late', 'late-2', 7000));

      assert.equal(await store.deleteUnusedDefinitions(5000, 100), 1);
      assert.equal(await store.getDefinition('wf-old'), undefined);
      assert.deepEqual(
        (await store.listDefinitionVersions('wf')).map((d) => d.version),
        ['wf-new'],
      );
      for (const version of ['wf-new', 'other-used', 'other-active', 'late-1', 'late-2'])
        assert.ok(await store.getDefinition(version), version);

      // Once the last run that used it has gone, so does the version.
      assert.equal(await store.deleteEndedRuns(5000, 100), 1);
      assert.equal(await store.deleteUnusedDefinitions(5000, 100), 1);
      assert.equal(await store.getDefinition('other-used'), undefined);
      assert.deepEqual(
        (await store.listActiveDefinitions()).map((d) => d.version),
        ['late-2', 'other-active', 'wf-new'],
      );
    });

    it('deletes routed events received before the cutoff, oldest first, up to the first recent one', async () => {
      const store = context.store;
      const e1 = await routedEvent(store, 'e1', 100);
      const e2 = await routedEvent(store, 'e2', 200);
      const unrouted = await routedEvent(store, 'e3', 300, false);
      const e4 = await routedEvent(store, 'e4', 400);
      const recent = await routedEvent(store, 'e5', 6000);
      // Received before the cutoff, but after a recent one in inbox order (a clock step back): kept.
      const behind = await routedEvent(store, 'e6', 500);

      assert.equal(await store.deleteOldEvents(5000, Number.MAX_SAFE_INTEGER, 100), 3);
      for (const seq of [e1, e2, e4]) assert.equal(await store.getEvent(seq), undefined);
      for (const seq of [unrouted, recent, behind]) assert.ok(await store.getEvent(seq), `event ${seq} is kept`);
      assert.deepEqual(
        (await store.listUnroutedEvents(10)).map((e) => e.seq),
        [unrouted],
      );
      assert.equal(await store.deleteOldEvents(5000, Number.MAX_SAFE_INTEGER, 100), 0);
    });

    it('deletes no event above `throughSeq` and looks at no more than `limit` events', async () => {
      const store = context.store;
      const seqs = [];
      for (const id of ['e1', 'e2', 'e3', 'e4']) seqs.push(await routedEvent(store, id, 100));
      assert.equal(await store.deleteOldEvents(5000, seqs[0]!, 100), 1);
      assert.equal(await store.deleteOldEvents(5000, Number.MAX_SAFE_INTEGER, 2), 2);
      assert.deepEqual(
        (await store.listEvents({ limit: 10 })).map((e) => e.seq),
        [seqs[3]],
      );
    });

    it('never gives a deleted event’s seq to a new event', async () => {
      const store = context.store;
      const first = await routedEvent(store, 'e1', 100);
      const second = await routedEvent(store, 'e2', 100);
      assert.equal(await store.deleteOldEvents(5000, Number.MAX_SAFE_INTEGER, 100), 2);
      const { seq, duplicate } = await store.insertEvent(cloudEvent('e1'), 'e1', 6000);
      assert.equal(duplicate, false);
      assert.ok(seq > Math.max(first, second), `new seq ${seq} after ${second}`);
    });
  });
}
