import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call, commit, newRun, OTHER, OWNER, startRun } from './fixtures.js';
import type { ConformanceContext } from './store-conformance.js';

const ok = (step: number) => ({ kind: 'call' as const, step, ok: true as const, value: { step } });
const failure = { name: 'CapabilityError', message: '503' };

/** What several nodes on one store rely on: heartbeats, fenced call writes, leases handed back, the ready queue. */
export function describeLeases(context: ConformanceContext): void {
  describe('leases across nodes', () => {
    it('a heartbeat extends the run and call leases its owner still holds, and no others', async () => {
      const store = context.store;
      await startRun(store, 'r1', { calls: [{ ...call('r1', 1, 1000), leaseUntil: 5000 }] });
      await store.createRun(newRun('r2'));
      assert.deepEqual(await store.claimReadyRuns(OWNER, 1000, 5000, 10), ['r2']);
      assert.deepEqual(await store.renewLeases(OWNER, ['r2'], 20_000, [{ runId: 'r1', step: 1 }], 20_000), { runs: 1, lostCalls: [] });
      assert.deepEqual(await store.claimReadyRuns(OTHER, 19_999, 30_000, 10), [], 'the renewed run lease holds');
      assert.deepEqual(await store.claimDueCalls(OTHER, 19_999, 30_000, 10), [], 'the renewed call lease holds');
      assert.equal(await store.nextDueAt(), 20_000);
      // Past the renewed leases another node takes both over; the old owner's heartbeat renews nothing.
      assert.deepEqual(await store.claimReadyRuns(OTHER, 20_000, 40_000, 10), ['r2']);
      assert.deepEqual(
        (await store.claimDueCalls(OTHER, 20_000, 40_000, 10)).map((c) => c.step),
        [1],
      );
      assert.deepEqual(await store.renewLeases(OWNER, ['r2'], 90_000, [{ runId: 'r1', step: 1 }], 90_000), {
        runs: 0,
        lostCalls: [{ runId: 'r1', step: 1 }],
      });
      assert.deepEqual(await store.claimReadyRuns(OWNER, 40_000, 90_000, 10), ['r2'], 'the lease was not extended to 90 000');
    });

    it('a heartbeat reports as lost the calls of a run that ended, and keeps those of a run that goes on', async () => {
      const store = context.store;
      await startRun(store, 'ended', { calls: [{ ...call('ended', 1, 1000), leaseUntil: 5000 }] });
      await startRun(store, 'going', { calls: [{ ...call('going', 1, 1000), leaseUntil: 5000 }] });
      assert.ok((await store.commitTask(commit('ended', 2, 1500, { status: { status: 'cancelled' } }))).ok);
      const held = [
        { runId: 'ended', step: 1 },
        { runId: 'going', step: 1 },
      ];
      assert.deepEqual(await store.renewLeases(OWNER, [], 20_000, held, 20_000), { runs: 0, lostCalls: [{ runId: 'ended', step: 1 }] });
    });

    it('refuses a stale node`s call result and reschedule once another node holds the call', async () => {
      const store = context.store;
      await startRun(store, 'r1', {
        calls: [
          { ...call('r1', 1, 1000), leaseUntil: 5000 },
          { ...call('r1', 2, 1000), leaseUntil: 5000 },
        ],
      });
      assert.equal((await store.claimDueCalls(OTHER, 5000, 60_000, 10)).length, 2);
      assert.equal(await store.resolveCall('r1', 1, ok(1), 1, 6000, OWNER), false);
      assert.equal(await store.rescheduleCall('r1', 2, 1, 9000, failure, OWNER), false);
      assert.deepEqual(
        (await store.listCalls('r1')).map((c) => [c.step, c.attempts]),
        [
          [1, 1],
          [2, 1],
        ],
        'nothing changed since the claim (which counted the attempts the lapsed leases may have lost)',
      );
      assert.deepEqual(await store.loadPending('r1'), []);
      assert.equal(await store.rescheduleCall('r1', 2, 1, 9000, failure, OTHER), true);
      assert.equal(await store.resolveCall('r1', 1, ok(1), 1, 6000, OTHER), true);
      assert.deepEqual(
        (await store.loadPending('r1')).map((p) => p.resolution),
        [ok(1)],
      );
      assert.equal(await store.rescheduleCall('r1', 1, 2, 9000, failure, OTHER), false, 'a resolved call is gone');
    });

    it('hands leases back on shutdown: the runs and calls are claimable by others at once', async () => {
      const store = context.store;
      await startRun(store, 'r1', { calls: [{ ...call('r1', 1, 1000), leaseUntil: 60_000 }] });
      await store.createRun(newRun('r2'));
      await store.createRun(newRun('r3'));
      assert.deepEqual(await store.claimReadyRuns(OWNER, 1000, 60_000, 10), ['r2', 'r3']);
      await store.releaseLeases(OWNER, ['r2']);
      assert.deepEqual(await store.claimReadyRuns(OTHER, 2000, 60_000, 10), ['r2'], 'r3 was not handed back');
      assert.deepEqual(
        (await store.claimDueCalls(OTHER, 2000, 60_000, 10)).map((c) => c.step),
        [1],
      );
    });

    it('seizeRun leases a running or stuck run to a node whoever held it, fenced on history length; the old holder can commit no more', async () => {
      const store = context.store;
      await store.createRun(newRun('r1'), { owner: OTHER, until: 60_000 });
      assert.ok((await store.commitTask({ ...commit('r1', 0, 1000), owner: OTHER })).ok);
      assert.deepEqual(await store.commitTask(commit('r1', 1, 1500)), { ok: false, reason: 'fenced' }, 'OTHER holds the run');
      assert.equal(await store.seizeRun('r1', OWNER, 90_000, 2), false, 'not at that history length');
      assert.equal(await store.seizeRun('missing', OWNER, 90_000, 0), false);
      assert.equal(await store.seizeRun('r1', OWNER, 90_000, 1), true);
      assert.deepEqual(await store.commitTask({ ...commit('r1', 1, 1600), owner: OTHER }), { ok: false, reason: 'fenced' });
      assert.deepEqual(await store.renewLeases(OTHER, ['r1'], 120_000, [], 120_000), { runs: 0, lostCalls: [] });
      assert.ok((await store.commitTask(commit('r1', 1, 1700, { status: { status: 'cancelled' } }))).ok);
      assert.deepEqual(await store.commitTask({ ...commit('r1', 1, 1800), owner: OTHER }), { ok: false, reason: 'fenced' });
      assert.equal(await store.seizeRun('r1', OTHER, 120_000, 2), false, 'an ended run is not seized');

      await startRun(store, 'parked', { status: { status: 'stuck', error: { name: 'NondeterminismError', message: 'diverged' } } });
      assert.equal(await store.seizeRun('parked', OTHER, 90_000, 2), true, 'a stuck run is');
    });

    it('counts the ready runs and tells since when the oldest waits', async () => {
      const store = context.store;
      assert.deepEqual(await store.queueStats(), { readyRuns: 0, oldestReadyAt: undefined, byWorkflow: [] });
      await store.createRun(newRun('r1', { createdAt: 3000 }));
      await store.createRun(newRun('r2', { createdAt: 2000 }));
      await startRun(store, 'r3');
      const queued = { readyRuns: 2, oldestReadyAt: 2000, byWorkflow: [{ workflow: 'wf', readyRuns: 2, oldestReadyAt: 2000 }] };
      assert.deepEqual(await store.queueStats(), queued);
      await store.claimReadyRuns(OWNER, 4000, 9000, 10);
      assert.deepEqual(await store.queueStats(), queued, 'a claimed run still waits for its task');
    });

    it('counts the ready runs by workflow, totals their sum; a workflow whose queue emptied is not listed', async () => {
      const store = context.store;
      await store.createRun(newRun('b1', { workflow: 'build', createdAt: 3000 }));
      await store.createRun(newRun('b2', { workflow: 'build', createdAt: 2000 }));
      await store.createRun(newRun('b3', { workflow: 'build', createdAt: 4000 }));
      await store.createRun(newRun('d1', { workflow: 'deploy', createdAt: 6000 }));
      await startRun(store, 'd2', {}, { workflow: 'deploy' });
      await startRun(store, 'ended', { status: { status: 'cancelled' } }, { workflow: 'lint' });
      // Asked to cancel: claimed before the others, and still one of its workflow's ready runs.
      await startRun(store, 'c1', {}, { workflow: 'Release' });
      assert.equal(await store.addPending('c1', { kind: 'cancel', reason: 'user' }, 5000), true);
      const build = { workflow: 'build', readyRuns: 3, oldestReadyAt: 2000 };
      const release = { workflow: 'Release', readyRuns: 1, oldestReadyAt: 5000 };
      const all = {
        readyRuns: 5,
        oldestReadyAt: 2000,
        byWorkflow: [release, build, { workflow: 'deploy', readyRuns: 1, oldestReadyAt: 6000 }],
      };
      assert.deepEqual(await store.queueStats(), all, 'by code unit: "R" before "b"; no waiting or ended run counted');
      assert.equal((await store.claimReadyRuns(OWNER, 7000, 60_000, 10)).length, 5);
      assert.deepEqual(await store.queueStats(), all, 'claimed runs still wait for their tasks');

      assert.ok((await store.commitTask(commit('d1', 0, 7000))).ok);
      assert.deepEqual(await store.queueStats(), { readyRuns: 4, oldestReadyAt: 2000, byWorkflow: [release, build] });
      for (const id of ['b1', 'b2', 'b3']) assert.ok((await store.commitTask(commit(id, 0, 7000))).ok);
      assert.deepEqual(await store.queueStats(), { readyRuns: 1, oldestReadyAt: 5000, byWorkflow: [release] });
    });
  });
}
