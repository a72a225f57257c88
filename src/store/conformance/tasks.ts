import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreError } from '../../core/errors.js';
import type { Store } from '../../core/ports.js';
import { call, commit, events, isReady, newRun, OTHER, OWNER, startRun, timer, wait } from './fixtures.js';
import type { ConformanceContext } from './store-conformance.js';

/** Everything a task can change about a run, to show that a refused commit changed none of it. */
async function snapshot(store: Store, runId: string) {
  return {
    run: await store.getRun(runId),
    history: await store.loadHistory(runId),
    pending: await store.loadPending(runId),
    calls: await store.listCalls(runId),
    logs: await store.listLogs(runId),
    nextDueAt: await store.nextDueAt(),
    waits: await store.findWaits('com.example.thing', '["x"]'),
    runs: (await store.listRuns({})).runs.map((r) => r.id),
    events: await store.listEvents({ limit: 100 }),
  };
}

export function describeTasks(context: ConformanceContext): void {
  describe('claiming runs', () => {
    it('leases ready runs: others wait for the lease to pass, the owner may claim again', async () => {
      const store = context.store;
      await store.createRun(newRun('r1'));
      assert.deepEqual(await store.claimReadyRuns(OWNER, 1000, 2000, 10), ['r1']);
      assert.deepEqual(await store.claimReadyRuns(OTHER, 1999, 3000, 10), []);
      assert.deepEqual(await store.claimReadyRuns(OWNER, 1500, 2500, 10), ['r1']);
      assert.deepEqual(await store.claimReadyRuns(OTHER, 2400, 3000, 10), []);
      assert.deepEqual(await store.claimReadyRuns(OTHER, 2500, 3500, 10), ['r1']);
      assert.deepEqual(await store.claimReadyRuns(OWNER, 3000, 4000, 10), []);
    });

    it('creates a run already leased to the node that will advance it; an existing run keeps its lease', async () => {
      const store = context.store;
      const created = await store.createRun(newRun('r1'), { owner: OWNER, until: 2000 });
      assert.equal(created.created, true);
      assert.deepEqual(await store.claimReadyRuns(OTHER, 1999, 3000, 10), [], 'leased to its creator until 2000');
      // Its creator commits its first task under that lease, with no claim in between; no other node may.
      assert.deepEqual(await store.commitTask({ ...commit('r1', 0, 1000), owner: OTHER }), { ok: false, reason: 'fenced' });
      assert.deepEqual(await store.commitTask(commit('r1', 0, 1000)), { ok: true, pending: [] });
      assert.equal(await store.addPending('r1', { kind: 'timer', step: 1 }, 1100), true);
      assert.equal((await store.createRun(newRun('r1'), { owner: OTHER, until: 9000 })).created, false);
      assert.deepEqual(await store.claimReadyRuns(OTHER, 1999, 3000, 10), [], 'a second create took no lease');
      assert.deepEqual(await store.claimReadyRuns(OTHER, 2000, 3000, 10), ['r1'], 'after the lease, like any claimed run');
    });

    it('claims the oldest ready runs first, up to the limit', async () => {
      const store = context.store;
      for (const [id, createdAt] of [
        ['c', 300],
        ['a', 100],
        ['b', 200],
      ] as const)
        await store.createRun(newRun(id, { createdAt }));
      assert.deepEqual(await store.claimReadyRuns(OWNER, 1000, 2000, 2), ['a', 'b']);
      assert.deepEqual(await store.claimReadyRuns(OTHER, 1000, 2000, 2), ['c']);
    });

    it('gives each workflow its turn: a backlog of one takes one place per turn beside the others', async () => {
      const store = context.store;
      for (const [id, workflow, createdAt] of [
        ['f1', 'flood', 100],
        ['f2', 'flood', 200],
        ['f3', 'flood', 300],
        ['f4', 'flood', 400],
        ['f5', 'flood', 500],
        ['b1', 'beta', 800],
        ['a1', 'alpha', 900],
        ['b2', 'beta', 950],
      ] as const)
        await store.createRun(newRun(id, { workflow, createdAt }));
      assert.deepEqual(
        await store.claimReadyRuns(OWNER, 1000, 2000, 4),
        ['f1', 'b1', 'a1', 'f2'],
        'first turn oldest first, then the second',
      );
      assert.deepEqual(
        await store.claimReadyRuns(OTHER, 1000, 2000, 10),
        ['f3', 'b2', 'f4', 'f5'],
        'runs leased to another node are passed over, and the turns count from the runs left',
      );
    });

    it("counts a workflow's turns after the runs of it the claiming node is advancing", async () => {
      const store = context.store;
      for (const [id, workflow, createdAt] of [
        ['f1', 'flood', 100],
        ['f2', 'flood', 200],
        ['a1', 'alpha', 900],
      ] as const)
        await store.createRun(newRun(id, { workflow, createdAt }));
      assert.deepEqual(await store.claimReadyRuns(OWNER, 1000, 2000, 1, new Map([['flood', 1]])), ['a1'], 'one flood run in progress');
      assert.deepEqual(await store.claimReadyRuns(OTHER, 1000, 2000, 10, new Map([['alpha', 5]])), ['f1', 'f2']);
    });

    it('claims a run whose cancel was requested before every turn, so that a cancel overtakes a backlog', async () => {
      const store = context.store;
      for (const [id, createdAt] of [
        ['f1', 100],
        ['f2', 200],
        ['f3', 300],
        ['child', 900],
      ] as const)
        await store.createRun(newRun(id, { workflow: 'flood', createdAt }));
      await store.createRun(newRun('other', { workflow: 'other', createdAt: 950 }));
      assert.equal(await store.addPending('child', { kind: 'cancel', reason: 'parent cancelled' }, 960), true);
      assert.deepEqual(await store.claimReadyRuns(OWNER, 1000, 2000, 1, new Map([['flood', 3]])), ['child']);
      assert.deepEqual(await store.claimReadyRuns(OTHER, 1000, 2000, 10), ['f1', 'other', 'f2', 'f3']);
    });

    it('does not claim a stuck run, however much arrives for it', async () => {
      const store = context.store;
      await store.createRun(newRun('r1'));
      await store.claimReadyRuns(OWNER, 1000, 2000, 10);
      const stuck = commit('r1', 0, 1000, { status: { status: 'stuck', error: { name: 'NondeterminismError', message: 'diverged' } } });
      assert.deepEqual(await store.commitTask({ ...stuck, history: [] }), { ok: true, pending: [] });
      assert.equal(await store.addPending('r1', { kind: 'timer', step: 1 }, 1100), true);
      assert.deepEqual(await store.claimReadyRuns(OWNER, 3000, 4000, 10), []);
      assert.equal((await store.getRun('r1'))?.status, 'stuck');
    });

    it('gives a lease back only for its owner', async () => {
      const store = context.store;
      await store.createRun(newRun('r1'));
      await store.claimReadyRuns(OWNER, 1000, 9000, 10);
      await store.releaseRun('r1', OTHER);
      assert.deepEqual(await store.claimReadyRuns(OTHER, 1000, 9000, 10), []);
      await store.releaseRun('r1', OWNER);
      assert.deepEqual(await store.claimReadyRuns(OTHER, 1000, 9000, 10), ['r1']);
    });
  });

  describe('commitTask', () => {
    it('loads the history from any event on, wherever the task that recorded it begins', async () => {
      const store = context.store;
      await store.createRun(newRun('r1'));
      await store.claimReadyRuns(OWNER, 1000, 60_000, 1);
      const first = events(
        0,
        1000,
        { type: 'run_started', workflow: 'wf', version: 'v1', input: null },
        { type: 'workflow_task', time: 1000 },
        { type: 'call_scheduled', step: 1, capability: 'http', method: 'request', args: {} },
      );
      const second = events(3, 2000, { type: 'call_completed', step: 1, value: 'ok', attempts: 1 }, { type: 'workflow_task', time: 2000 });
      assert.equal((await store.commitTask(commit('r1', 0, 1000, { history: first }))).ok, true);
      assert.equal((await store.commitTask(commit('r1', 3, 2000, { history: second }))).ok, true);
      const all = [...first, ...second];
      for (const from of [0, 1, 2, 3, 4, 5]) assert.deepEqual(await store.loadHistory('r1', from), all.slice(from), `from seq ${from}`);
      for (const from of [0, 1, 2, 3, 4, 5]) {
        for (const limit of [1, 2, 3, 4]) {
          assert.deepEqual(await store.loadHistory('r1', from, limit), all.slice(from, from + limit), `from seq ${from}, ${limit} at most`);
        }
      }
    });

    it('applies history, calls, timers, waits, children and logs together', async () => {
      const store = context.store;
      await store.createRun(newRun('r1'));
      await store.claimReadyRuns(OWNER, 1000, 60_000, 1);
      const history = events(
        0,
        1000,
        { type: 'run_started', workflow: 'wf', version: 'v1', input: { id: 'r1' } },
        { type: 'workflow_task', time: 1000 },
        { type: 'call_scheduled', step: 1, capability: 'http', method: 'request', args: { url: 'https://x/1' } },
      );
      const child = newRun('r1/child', { parentId: 'r1', parentStep: 4, createdAt: 1000 });
      const log = { runId: 'r1', index: 0, at: 1000, level: 'info' as const, message: 'hello' };
      const result = await store.commitTask(
        commit('r1', 0, 1000, {
          history,
          calls: [call('r1', 1, 1000)],
          timers: [timer('r1', 2, 5000)],
          waits: [wait('r1', 3)],
          children: [child],
          logs: [log, { ...log, index: 1, message: 'world' }],
        }),
      );
      assert.deepEqual(result, { ok: true, pending: [] });
      assert.deepEqual(await store.loadHistory('r1'), history);
      assert.deepEqual(await store.loadHistory('r1', 2), history.slice(2));
      const run = await store.getRun('r1');
      assert.equal(run?.historyLength, 3);
      assert.equal(run?.updatedAt, 1000);
      assert.deepEqual(await store.listCalls('r1'), [call('r1', 1, 1000)]);
      assert.deepEqual(await store.findWaits('com.example.thing', '["x"]'), [wait('r1', 3)]);
      assert.equal(await store.nextDueAt(), 1000);
      assert.deepEqual(await store.getRun('r1/child'), { ...child, status: 'running', updatedAt: 1000, historyLength: 0 });
      assert.deepEqual(
        (await store.listLogs('r1')).map((l) => l.message),
        ['hello', 'world'],
      );
      assert.deepEqual(
        (await store.listLogs('r1', { afterIndex: 0 })).map((l) => l.message),
        ['world'],
      );
      assert.deepEqual(
        (await store.listLogs('r1', { limit: 1 })).map((l) => l.message),
        ['hello'],
      );
      assert.equal(await isReady(store, 'r1/child'), true);
      assert.equal(await isReady(store, 'r1'), false);
    });

    it('creates the run whose first task it commits, leased to the committer; a run that exists is left as it is', async () => {
      const store = context.store;
      const history = events(
        0,
        1000,
        { type: 'run_started', workflow: 'wf', version: 'v1', input: { id: 'r1' } },
        { type: 'workflow_task', time: 1000 },
        { type: 'call_scheduled', step: 1, capability: 'http', method: 'request', args: { url: 'https://x/1' } },
      );
      const first = commit('r1', 0, 1000, {
        history,
        calls: [call('r1', 1, 1000)],
        create: { run: newRun('r1'), lease: { owner: OWNER, until: 2000 } },
      });
      assert.deepEqual(await store.commitTask(first), { ok: true, pending: [] });
      assert.deepEqual(await store.getRun('r1'), { ...newRun('r1'), status: 'running', updatedAt: 1000, historyLength: 3 });
      assert.deepEqual(await store.loadHistory('r1'), history);
      assert.deepEqual(await store.listCalls('r1'), [call('r1', 1, 1000)]);
      assert.equal(await isReady(store, 'r1'), false, 'the task left nothing to do but wait for its call');
      assert.equal(await store.addPending('r1', { kind: 'cancel' }, 1100), true);
      assert.deepEqual(await store.claimReadyRuns(OTHER, 1999, 3000, 10), [], 'leased to its creator until 2000');
      assert.deepEqual(await store.claimReadyRuns(OTHER, 2000, 3000, 10), ['r1']);

      const before = await snapshot(store, 'r1');
      const again = commit('r1', 0, 1500, {
        calls: [call('r1', 7)],
        create: { run: newRun('r1', { input: 'other' }), lease: { owner: OWNER, until: 9000 } },
      });
      assert.deepEqual(await store.commitTask(again), { ok: false, reason: 'exists' });
      assert.deepEqual(await snapshot(store, 'r1'), before, 'neither the run nor its lease changed');

      // Created on its own and not started yet: its history length is 0 too, and it is still not taken.
      await store.createRun(newRun('r2'));
      const unstarted = commit('r2', 0, 1500, { create: { run: newRun('r2'), lease: { owner: OWNER, until: 9000 } } });
      assert.deepEqual(await store.commitTask(unstarted), { ok: false, reason: 'exists' });
      assert.equal((await store.getRun('r2'))?.historyLength, 0);
      assert.deepEqual(await store.claimReadyRuns('node-c', 1500, 3000, 10), ['r2'], 'no lease was taken');
    });

    it('creates runs and refuses to create existing ones within one group of concurrent commits', async () => {
      const store = context.store;
      await startRun(store, 'old');
      const create = (id: string) => commit(id, 0, 1000, { create: { run: newRun(id), lease: { owner: OWNER, until: 2000 } } });
      const commits = [create('new-1'), create('old'), create('new-2'), commit('old', 2, 1200)];
      const results = await Promise.all(commits.map((c) => store.commitTask(c)));
      assert.deepEqual(results, [
        { ok: true, pending: [] },
        { ok: false, reason: 'exists' },
        { ok: true, pending: [] },
        { ok: true, pending: [] },
      ]);
      assert.equal((await store.getRun('new-1'))?.historyLength, 1);
      assert.equal((await store.getRun('new-2'))?.historyLength, 1);
      assert.equal((await store.getRun('old'))?.historyLength, 3, 'only its own task was applied to the existing run');
    });

    it('refuses a commit at the wrong history length, or from another lease owner, and changes nothing', async () => {
      const store = context.store;
      await startRun(store, 'r1', { calls: [call('r1', 1)] });
      await store.addPending('r1', { kind: 'cancel' }, 1500);
      const pendingId = (await store.loadPending('r1'))[0]!.id;
      const before = await snapshot(store, 'r1');
      const everything = {
        consumedPending: [pendingId],
        calls: [call('r1', 2)],
        resolvedCalls: [1],
        timers: [timer('r1', 3, 100)],
        waits: [wait('r1', 4)],
        children: [newRun('child')],
        logs: [{ runId: 'r1', index: 0, at: 1, level: 'info' as const, message: 'x' }],
        successor: newRun('next'),
        events: [{ event: { specversion: '1.0' as const, id: 'x', source: '/', type: 't' }, dedupeKey: 'x' }],
        status: { status: 'completed' as const },
      };
      assert.deepEqual(await store.commitTask(commit('r1', 1, 2000, everything)), { ok: false, reason: 'fenced' });
      assert.deepEqual(await store.commitTask(commit('r1', 3, 2000, everything)), { ok: false, reason: 'fenced' });
      await store.claimReadyRuns(OTHER, 1600, 60_000, 10);
      assert.deepEqual(await store.commitTask(commit('r1', 2, 2000, everything)), { ok: false, reason: 'fenced' });
      assert.deepEqual(await snapshot(store, 'r1'), before);
      assert.deepEqual(await store.commitTask(commit('nope', 0, 2000)), { ok: false, reason: 'not_found' });
    });

    it('applies nothing when part of a commit fails', async () => {
      const store = context.store;
      await startRun(store, 'r1', { calls: [call('r1', 1)] });
      await store.addPending('r1', { kind: 'cancel' }, 1500);
      const before = await snapshot(store, 'r1');
      const clash = commit('r1', 2, 2000, {
        consumedPending: before.pending.map((p) => p.id),
        timers: [timer('r1', 5, 100)],
        calls: [call('r1', 2), call('r1', 1)],
        children: [newRun('child')],
      });
      await assert.rejects(store.commitTask(clash), StoreError);
      assert.deepEqual(await snapshot(store, 'r1'), before);
      const gap = commit('r1', 2, 2000);
      gap.history = events(3, 2000, { type: 'workflow_task', time: 2000 });
      await assert.rejects(store.commitTask(gap), StoreError);
      assert.deepEqual(await snapshot(store, 'r1'), before);
    });

    it('leaves the run ready exactly when pending resolutions remain that the task did not consume', async () => {
      const store = context.store;
      await startRun(store, 'r1');
      await store.addPending('r1', { kind: 'timer', step: 1 }, 1100);
      await store.addPending('r1', { kind: 'timer', step: 2 }, 1200);
      const [first, second] = await store.loadPending('r1');
      assert.deepEqual(
        await store.commitTask(commit('r1', 2, 2000, { consumedPending: [first!.id] })),
        { ok: true, pending: [second] },
        'the mailbox the commit left',
      );
      assert.deepEqual(await store.loadPending('r1'), [second]);
      assert.equal(await isReady(store, 'r1'), true);
      assert.deepEqual(await store.commitTask(commit('r1', 3, 3000, { consumedPending: [second!.id] })), { ok: true, pending: [] });
      assert.equal(await isReady(store, 'r1'), false);
    });

    it('deletes calls whose results the task consumed in memory', async () => {
      const store = context.store;
      await startRun(store, 'r1', { calls: [call('r1', 1), call('r1', 2)] });
      assert.ok((await store.commitTask(commit('r1', 2, 2000, { resolvedCalls: [1] }))).ok);
      assert.deepEqual(
        (await store.listCalls('r1')).map((c) => c.step),
        [2],
      );
    });

    it('ends a run: terminal status removes its calls, timers, waits and pending', async () => {
      const store = context.store;
      await startRun(store, 'r1', { calls: [call('r1', 1)], timers: [timer('r1', 2, 5000)], waits: [wait('r1', 3)] });
      await store.addPending('r1', { kind: 'cancel' }, 1500);
      const done = commit('r1', 2, 2000, { status: { status: 'completed', result: [1, 2] }, calls: [call('r1', 4)] });
      assert.ok((await store.commitTask(done)).ok);
      const run = await store.getRun('r1');
      assert.deepEqual([run?.status, run?.result, run?.updatedAt], ['completed', [1, 2], 2000]);
      assert.deepEqual(await store.listCalls('r1'), []);
      assert.equal(await store.nextDueAt(), undefined);
      assert.deepEqual(await store.findWaits('com.example.thing', '["x"]'), []);
      assert.deepEqual(await store.loadPending('r1'), []);
      assert.equal(await isReady(store, 'r1'), false);
      assert.equal(await store.resolveCall('r1', 1, { kind: 'call', step: 1, ok: true, value: 1 }, 1, 3000), false);
    });

    it('keeps outstanding work when the new status is not terminal', async () => {
      const store = context.store;
      await startRun(store, 'r1', { calls: [call('r1', 1)] });
      const error = { name: 'NondeterminismError', message: 'expected call at step 1' };
      assert.ok((await store.commitTask(commit('r1', 2, 2000, { status: { status: 'stuck', error } }))).ok);
      assert.deepEqual((await store.getRun('r1'))?.error, error);
      assert.equal((await store.listCalls('r1')).length, 1);
    });

    it('creates the successor of a run that continues as new', async () => {
      const store = context.store;
      await startRun(store, 'r1');
      const successor = newRun('r1-2', { input: { page: 2 }, createdAt: 2000 });
      const next = commit('r1', 2, 2000, { status: { status: 'continued' }, successor });
      next.history.push(...events(3, 2000, { type: 'run_continued', newRunId: 'r1-2' }));
      assert.ok((await store.commitTask(next)).ok);
      assert.equal((await store.getRun('r1'))?.status, 'continued');
      assert.deepEqual(await store.getRun('r1-2'), { ...successor, status: 'running', updatedAt: 2000, historyLength: 0 });
      assert.equal(await isReady(store, 'r1-2'), true);
    });

    it('notifies a live parent (pending + ready) and not an ended one', async () => {
      const store = context.store;
      await startRun(store, 'parent');
      await startRun(store, 'child', {}, { parentId: 'parent', parentStep: 5 });
      const resolution = { kind: 'child' as const, step: 5, ok: true as const, value: 'done' };
      const finish = commit('child', 2, 2500, {
        status: { status: 'completed', result: 'done' },
        notifyParent: { runId: 'parent', resolution },
      });
      assert.ok((await store.commitTask(finish)).ok);
      assert.deepEqual(
        (await store.loadPending('parent')).map((p) => [p.resolution, p.at]),
        [[resolution, 2500]],
      );
      assert.equal(await isReady(store, 'parent'), true);

      await startRun(store, 'gone');
      await store.commitTask(commit('gone', 2, 2000, { status: { status: 'cancelled' } }));
      await startRun(store, 'orphan', {}, { parentId: 'gone' });
      const late = commit('orphan', 2, 3000, {
        status: { status: 'completed', result: null },
        notifyParent: { runId: 'gone', resolution },
      });
      assert.ok((await store.commitTask(late)).ok);
      assert.deepEqual(await store.loadPending('gone'), []);
    });

    it('cancels the listed children that still run, in the same commit', async () => {
      const store = context.store;
      await startRun(store, 'parent');
      await startRun(store, 'running-child', {}, { parentId: 'parent', parentStep: 3 });
      await startRun(store, 'ended-child', {}, { parentId: 'parent', parentStep: 4 });
      await store.commitTask(commit('ended-child', 2, 2000, { status: { status: 'completed', result: null } }));
      const reason = 'its parent run parent was cancelled';
      const cancelled = commit('parent', 2, 2500, {
        status: { status: 'cancelled' },
        cancelChildren: [
          { runId: 'running-child', reason },
          { runId: 'ended-child', reason },
        ],
      });
      assert.ok((await store.commitTask(cancelled)).ok);
      assert.deepEqual(
        (await store.loadPending('running-child')).map((p) => [p.resolution, p.at]),
        [[{ kind: 'cancel', reason }, 2500]],
      );
      assert.equal(await isReady(store, 'running-child'), true);
      assert.deepEqual(await store.loadPending('ended-child'), [], 'an ended child is left alone');
    });

    it('cancels only runs whose parent is the committing run, whatever the list names', async () => {
      // The list comes from the workflow's sandbox: a workflow that forged it must not reach other runs.
      const store = context.store;
      await startRun(store, 'top');
      await startRun(store, 'parent', {}, { parentId: 'top', parentStep: 1 });
      await startRun(store, 'child', {}, { parentId: 'parent', parentStep: 3 });
      await startRun(store, 'victim-1');
      await startRun(store, 'cousin', {}, { parentId: 'top', parentStep: 2 });
      const untouched = ['top', 'victim-1', 'cousin'];
      const stateOf = async (id: string) => ({ run: await store.getRun(id), pending: await store.loadPending(id) });
      const before = await Promise.all(untouched.map(stateOf));
      const reason = 'its parent run parent was cancelled';
      const cancelled = commit('parent', 2, 2500, {
        status: { status: 'cancelled' },
        cancelChildren: [...untouched, 'no-such-run', 'child'].map((runId) => ({ runId, reason })),
      });
      assert.ok((await store.commitTask(cancelled)).ok);
      assert.deepEqual(
        (await store.loadPending('child')).map((p) => [p.resolution, p.at]),
        [[{ kind: 'cancel', reason }, 2500]],
        'its own child is cancelled',
      );
      const after = await Promise.all(untouched.map(stateOf));
      assert.deepEqual(after, before, 'an unrelated run, its own parent and a sibling of it are left alone');
      for (const id of untouched) assert.equal(await isReady(store, id), false, `${id} is not made ready`);
      assert.equal(await store.getRun('no-such-run'), undefined);
    });

    it('puts events into the inbox with dedupe', async () => {
      const store = context.store;
      await startRun(store, 'a');
      await startRun(store, 'b');
      const finished = {
        event: { specversion: '1.0' as const, id: 'f', source: '/runs', type: 'autoflow.run.finished' },
        dedupeKey: 'finished:x',
      };
      assert.ok((await store.commitTask(commit('a', 2, 2000, { events: [finished] }))).ok);
      assert.ok((await store.commitTask(commit('b', 2, 3000, { events: [finished] }))).ok);
      const inbox = await store.listEvents({ limit: 10, type: 'autoflow.run.finished' });
      assert.deepEqual(
        inbox.map((e) => [e.id, e.receivedAt]),
        [['f', 2000]],
      );
    });

    it('applies concurrent commits independently when one of them is fenced', async () => {
      const store = context.store;
      for (const id of ['a', 'b', 'c']) await startRun(store, id);
      const results = await Promise.all([
        store.commitTask(commit('a', 2, 2000, { calls: [call('a', 1)] })),
        store.commitTask(commit('b', 1, 2000, { calls: [call('b', 1)] })),
        store.commitTask(commit('c', 2, 2000, { calls: [call('c', 1)] })),
      ]);
      assert.deepEqual(results, [
        { ok: true, pending: [] },
        { ok: false, reason: 'fenced' },
        { ok: true, pending: [] },
      ]);
      assert.deepEqual(
        [(await store.listCalls('a')).length, (await store.listCalls('b')).length, (await store.listCalls('c')).length],
        [1, 0, 1],
      );
    });
  });
}
