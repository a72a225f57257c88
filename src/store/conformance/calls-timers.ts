import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call, isReady, OTHER, OWNER, startRun, timer, wait } from './fixtures.js';
import type { ConformanceContext } from './store-conformance.js';

const ok = (step: number) => ({ kind: 'call' as const, step, ok: true as const, value: { step } });

export function describeCallsAndTimers(context: ConformanceContext): void {
  describe('calls', () => {
    it('claims due calls with a lease that keeps others off until it passes', async () => {
      const store = context.store;
      await startRun(store, 'r1', { calls: [call('r1', 1, 2000), call('r1', 2, 3000)] });
      assert.deepEqual(await store.claimDueCalls(OWNER, 1999, 10_000, 10), []);
      assert.deepEqual(await store.claimDueCalls(OWNER, 2000, 10_000, 10), [call('r1', 1, 2000)]);
      assert.deepEqual(await store.claimDueCalls(OTHER, 5000, 10_000, 10), [call('r1', 2, 3000)]);
      assert.deepEqual(await store.claimDueCalls('node-c', 9999, 20_000, 10), []);
      assert.deepEqual(
        (await store.claimDueCalls('node-c', 10_000, 20_000, 1)).map((c) => c.step),
        [1],
      );
    });

    it('lets the lease owner reclaim its own leased calls at once (a node restarting under its id)', async () => {
      const store = context.store;
      await startRun(store, 'r1', {
        calls: [
          { ...call('r1', 1, 1000), leaseUntil: 20_000 },
          { ...call('r1', 2, 1200), leaseUntil: 10_000 },
          call('r1', 3, 1500),
          { ...call('r1', 4, 50_000), leaseUntil: 70_000 },
          { ...call('r1', 5, 1000), leaseUntil: 30_000 },
        ],
      });
      assert.deepEqual(
        (await store.claimDueCalls(OWNER, 2000, 30_000, 10)).map((c) => c.step),
        [3],
        'claiming due calls leaves the leased ones alone, even the owner’s',
      );
      assert.deepEqual(await store.reclaimOwnCalls(OTHER, 2000, 30_000, 10), [], 'nobody else reclaims them');
      assert.deepEqual(
        (await store.reclaimOwnCalls(OWNER, 2000, 30_000, 1)).map((c) => c.step),
        [2],
        'oldest lease end first; a call not due yet (step 4) is not reclaimed',
      );
      assert.deepEqual(
        (await store.reclaimOwnCalls(OWNER, 2000, 30_000, 10)).map((c) => c.step),
        [1],
        'each once: a reclaimed call, and one leased as long already (step 5), ends its lease at 30,000',
      );
      assert.deepEqual(await store.claimDueCalls(OTHER, 29_999, 40_000, 10), [], 'the new lease holds against others');
      assert.equal(await store.nextDueAt(), 30_000);
    });

    it('does not let anyone claim a call the committing node leased until that lease passes', async () => {
      const store = context.store;
      await startRun(store, 'r1', { calls: [{ ...call('r1', 1, 1000), leaseUntil: 31_000 }] });
      assert.deepEqual(await store.claimDueCalls(OTHER, 30_999, 60_000, 10), []);
      assert.deepEqual(
        (await store.claimDueCalls(OTHER, 31_000, 60_000, 10)).map((c) => c.step),
        [1],
      );
    });

    it('lists each call with the lease a node holds on it, and says whose lease a claim took over', async () => {
      const store = context.store;
      await startRun(store, 'r1', { calls: [{ ...call('r1', 1, 1000), leaseUntil: 31_000 }, call('r1', 2, 5000)] });
      assert.deepEqual(await store.listCalls('r1'), [
        { ...call('r1', 1, 1000), lease: { owner: OWNER, until: 31_000 } },
        call('r1', 2, 5000),
      ]);
      assert.deepEqual(
        await store.claimDueCalls(OTHER, 31_500, 60_000, 10),
        [call('r1', 2, 5000), { ...call('r1', 1, 1000), attempts: 1, previousLease: { owner: OWNER, until: 31_000 } }],
        'oldest due first: step 1 was due when its lease passed, at 31,000',
      );
      const leased = { owner: OTHER, until: 60_000 };
      assert.deepEqual(await store.listCalls('r1'), [
        { ...call('r1', 1, 1000), attempts: 1, lease: leased },
        { ...call('r1', 2, 5000), lease: leased },
      ]);
      assert.deepEqual(
        (await store.reclaimOwnCalls(OTHER, 31_600, 70_000, 10)).map((c) => [c.step, c.previousLease]),
        [
          [1, leased],
          [2, leased],
        ],
        'a node restarting under its id takes back its own lease',
      );
      await store.rescheduleCall('r1', 1, 2, 80_000, { name: 'Error', message: 'boom' }, OTHER);
      assert.equal((await store.listCalls('r1'))[0]!.lease, undefined, 'a call waiting for its next attempt has no lease');
    });

    it('resolves a call once: deletes it, appends the result with attempts, makes the run ready', async () => {
      const store = context.store;
      await startRun(store, 'r1', { calls: [call('r1', 1)] });
      assert.equal(await store.resolveCall('r1', 1, ok(1), 3, 2500), true);
      assert.equal(await store.resolveCall('r1', 1, ok(1), 4, 2600), false);
      assert.deepEqual(await store.listCalls('r1'), []);
      const pending = await store.loadPending('r1');
      assert.deepEqual(
        pending.map(({ resolution, at, attempts }) => ({ resolution, at, attempts })),
        [{ resolution: ok(1), at: 2500, attempts: 3 }],
      );
      assert.equal(await isReady(store, 'r1'), true);
      assert.equal(await store.resolveCall('nope', 1, ok(1), 1, 2500), false);
    });

    it('reschedules a failed attempt: records it and frees the lease until the next attempt is due', async () => {
      const store = context.store;
      await startRun(store, 'r1', { calls: [call('r1', 1, 1000)] });
      await store.claimDueCalls(OWNER, 1000, 60_000, 10);
      const lastError = { name: 'CapabilityError', message: '503 from GitLab' };
      await store.rescheduleCall('r1', 1, 1, 5000, lastError);
      assert.deepEqual(await store.listCalls('r1'), [{ ...call('r1', 1, 5000), attempts: 1, lastError }]);
      assert.equal(await store.nextDueAt(), 5000);
      assert.deepEqual(await store.claimDueCalls(OTHER, 4999, 60_000, 10), []);
      assert.deepEqual(
        (await store.claimDueCalls(OTHER, 5000, 60_000, 10)).map((c) => c.attempts),
        [1],
      );
    });
  });

  describe('attempts', () => {
    it('counts an attempt whose lease lapsed unrecorded when the call is claimed again', async () => {
      // The node that held it may have made the attempt and stopped before recording it.
      const store = context.store;
      await startRun(store, 'r1', { calls: [{ ...call('r1', 1, 1000), leaseUntil: 5000 }, call('r1', 2, 1000)] });
      const attemptsOf = async (calls: Promise<Array<{ step: number; attempts: number }>>) =>
        (await calls).map((c) => [c.step, c.attempts]);
      assert.deepEqual(
        await attemptsOf(store.claimDueCalls(OTHER, 5000, 10_000, 10)),
        [
          [2, 0],
          [1, 1],
        ],
        'the call its committing node leased lost an attempt; the unleased one did not',
      );
      assert.deepEqual(
        await attemptsOf(store.listCalls('r1')),
        [
          [1, 1],
          [2, 0],
        ],
        'as stored',
      );
      assert.equal(await store.rescheduleCall('r1', 1, 2, 12_000, { name: 'CapabilityError', message: '503' }, OTHER), true);
      assert.deepEqual(
        await attemptsOf(store.claimDueCalls(OWNER, 12_000, 20_000, 10)),
        [
          [2, 1],
          [1, 2],
        ],
        'an attempt recorded (call 1) freed its lease and counts once; one whose lease lapsed (call 2) counts too',
      );
      assert.deepEqual(
        await attemptsOf(store.reclaimOwnCalls(OWNER, 12_000, 30_000, 10)),
        [
          [1, 3],
          [2, 2],
        ],
        'a node restarting under its id lost its attempts too',
      );
    });
  });

  describe('timers', () => {
    it('tells when the next timer or call is due, a leased call once its lease passes', async () => {
      const store = context.store;
      assert.equal(await store.nextDueAt(), undefined);
      await startRun(store, 'r1', { timers: [timer('r1', 1, 3000)], calls: [{ ...call('r1', 2, 1000), leaseUntil: 9000 }] });
      assert.equal(await store.nextDueAt(), 3000);
      await startRun(store, 'r2', { calls: [call('r2', 1, 2000)] });
      assert.equal(await store.nextDueAt(), 2000);
      await store.claimDueCalls(OWNER, 2000, 4000, 10);
      assert.equal(await store.nextDueAt(), 3000);
      await store.fireDueTimers(3000, 10);
      assert.equal(await store.nextDueAt(), 4000);
    });

    it('fires due sleep timers once, appending a timer resolution', async () => {
      const store = context.store;
      await startRun(store, 'a', { timers: [timer('a', 1, 2000), timer('a', 2, 2100)] });
      await startRun(store, 'b', { timers: [timer('b', 1, 3000)] });
      await startRun(store, 'c', { timers: [timer('c', 1, 2050)] });
      assert.deepEqual(await store.fireDueTimers(1999, 10), []);
      assert.deepEqual(await store.fireDueTimers(2500, 2), ['a', 'c']);
      assert.deepEqual(await store.fireDueTimers(2500, 10), ['a']);
      assert.deepEqual(await store.fireDueTimers(2500, 10), []);
      assert.deepEqual(
        (await store.loadPending('a')).map((p) => [p.resolution, p.at]),
        [
          [{ kind: 'timer', step: 1 }, 2500],
          [{ kind: 'timer', step: 2 }, 2500],
        ],
      );
      assert.equal(await isReady(store, 'a'), true);
      assert.equal(await isReady(store, 'b'), false);
      assert.equal(await store.nextDueAt(), 3000);
    });

    it('times out a wait that is still there, and yields nothing for one already gone', async () => {
      const store = context.store;
      await startRun(store, 'r1', { waits: [wait('r1', 1)], timers: [timer('r1', 1, 2000, 'wait_timeout')] });
      await startRun(store, 'r2', { timers: [timer('r2', 1, 2000, 'wait_timeout')] });
      assert.deepEqual(await store.fireDueTimers(2000, 10), ['r1']);
      assert.deepEqual(await store.findWaits('com.example.thing', '["x"]'), []);
      assert.deepEqual(
        (await store.loadPending('r1')).map((p) => p.resolution),
        [{ kind: 'wait', step: 1, event: null }],
      );
      assert.deepEqual(await store.loadPending('r2'), []);
      assert.equal(await isReady(store, 'r2'), false);
      assert.equal(await store.nextDueAt(), undefined);
    });
  });
}
