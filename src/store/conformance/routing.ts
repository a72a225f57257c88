import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashedWaitIndexEntry } from '../../core/correlation.js';
import { NotFoundError } from '../../core/errors.js';
import { cloudEvent, commit, isReady, newRun, OTHER, OWNER, startRun, timer, wait } from './fixtures.js';
import type { WaitRecord } from '../../core/model.js';
import type { ConformanceContext } from './store-conformance.js';

const sortShapes = (shapes: string[][]) => shapes.map((s) => JSON.stringify(s)).sort();

export function describeRouting(context: ConformanceContext): void {
  describe('routing', () => {
    it('creates the runs of an event once, however often it is routed', async () => {
      const store = context.store;
      const { seq } = await store.insertEvent(cloudEvent('e1'), 'k1', 100);
      const routing = {
        eventSeq: seq,
        newRuns: [newRun('r1', { triggerEventSeq: seq, createdAt: 100 })],
        deliveries: [],
        markRouted: true,
      };
      assert.deepEqual(await store.routeEvent(routing), { createdRunIds: ['r1'], deliveredRunIds: [], markedRouted: true });
      assert.deepEqual(
        await store.routeEvent(routing),
        { createdRunIds: [], deliveredRunIds: [], markedRouted: false },
        'routed again (another node raced): nothing new, and not marked a second time',
      );
      const run = await store.getRun('r1');
      assert.equal(run?.status, 'running');
      assert.equal(run?.triggerEventSeq, seq);
      assert.equal(await isReady(store, 'r1'), true);
      assert.deepEqual(await store.listUnroutedEvents(10), []);
    });

    it('creates the runs of a routing with a lease leased to its owner, whom only the lease holder claims until it passes', async () => {
      const store = context.store;
      const [first, second] = [await store.insertEvent(cloudEvent('e1'), 'k1', 100), await store.insertEvent(cloudEvent('e2'), 'k2', 100)];
      const routingOf = (seq: number, runId: string) => ({
        eventSeq: seq,
        newRuns: [newRun(runId, { triggerEventSeq: seq, createdAt: 100 })],
        deliveries: [],
        markRouted: true,
      });
      const results = await store.routeEvents([
        { ...routingOf(first.seq, 'leased'), lease: { owner: OWNER, until: 5000 } },
        routingOf(second.seq, 'free'),
      ]);
      assert.deepEqual(
        results.map((result) => result.createdRunIds),
        [['leased'], ['free']],
      );
      assert.deepEqual(await store.claimReadyRuns(OTHER, 4999, 60_000, 10), ['free'], 'only the run created without a lease is free');
      assert.deepEqual(await store.claimReadyRuns(OWNER, 4999, 60_000, 10), ['leased']);
    });

    it('lists the waits whose lookback is not recorded, oldest first, in pages, until it is recorded or the wait is satisfied', async () => {
      const store = context.store;
      await startRun(store, 'r1', {
        waits: [wait('r1', 1, '["a"]', { registeredAt: 1000 }), wait('r1', 2, '["b"]', { registeredAt: 1000 })],
      });
      await startRun(store, 'r2', { waits: [wait('r2', 1, '["c"]', { registeredAt: 900 })] });
      await startRun(store, 'r3', { waits: [wait('r3', 1, '["d"]', { registeredAt: 2000 })] });
      const listed = async (until: number, limit = 10, after?: WaitRecord) =>
        (await store.listWaitsToLookBack(until, limit, after)).map((w) => `${w.runId}:${w.step}`);
      assert.deepEqual(await listed(1000), ['r2:1', 'r1:1', 'r1:2'], 'registered at or before 1000, by time, run and step');
      const [first] = await store.listWaitsToLookBack(1000, 1);
      assert.deepEqual(first, wait('r2', 1, '["c"]', { registeredAt: 900 }), 'the whole wait');
      assert.deepEqual(await listed(1000, 1, first), ['r1:1'], 'the page after the first');
      assert.deepEqual(await listed(5000, 10, wait('r1', 1, '["a"]', { registeredAt: 1000 })), ['r1:2', 'r3:1']);

      await store.markWaitsLookedBack([
        { runId: 'r1', step: 1 },
        { runId: 'r2', step: 1 },
        { runId: 'gone', step: 7 },
      ]);
      assert.deepEqual(await listed(5000), ['r1:2', 'r3:1']);
      const { seq } = await store.insertEvent(cloudEvent('x1'), 'k1', 2000);
      await store.routeEvent({ eventSeq: seq, newRuns: [], deliveries: [{ runId: 'r1', step: 2 }], markRouted: true });
      assert.deepEqual(await listed(5000), ['r3:1'], 'a satisfied wait is gone');
      assert.deepEqual((await store.findWaits('com.example.thing', '["a"]')).length, 1, 'a wait looked back for is still a wait');
    });

    it('routes a batch of events in order: a wait the first one satisfied is not there for the second', async () => {
      const store = context.store;
      await startRun(store, 'r1', { waits: [wait('r1', 1)] });
      const first = await store.insertEvent(cloudEvent('x1'), 'k1', 2000);
      const second = await store.insertEvent(cloudEvent('x2'), 'k2', 2001);
      const routing = (eventSeq: number, newRuns: ReturnType<typeof newRun>[] = []) => ({
        eventSeq,
        newRuns,
        deliveries: [{ runId: 'r1', step: 1 }],
        markRouted: true,
      });
      const results = await store.routeEvents([routing(first.seq), routing(second.seq, [newRun('r2', { triggerEventSeq: second.seq })])]);
      assert.deepEqual(results, [
        { createdRunIds: [], deliveredRunIds: ['r1'], markedRouted: true },
        { createdRunIds: ['r2'], deliveredRunIds: [], markedRouted: true },
      ]);
      assert.deepEqual(
        (await store.loadPending('r1')).map((p) => (p.resolution.kind === 'wait' ? p.resolution.event?.id : p.resolution.kind)),
        ['x1'],
      );
      assert.deepEqual(await store.listUnroutedEvents(10), []);
    });

    it('applies a batch of routings all or none', async () => {
      const store = context.store;
      const { seq } = await store.insertEvent(cloudEvent('e1'), 'k1', 100);
      const batch = [
        { eventSeq: seq, newRuns: [newRun('r1', { triggerEventSeq: seq })], deliveries: [], markRouted: true },
        { eventSeq: seq + 1000, newRuns: [], deliveries: [], markRouted: true },
      ];
      await assert.rejects(store.routeEvents(batch), NotFoundError);
      assert.equal(await store.getRun('r1'), undefined);
      assert.deepEqual(
        (await store.listUnroutedEvents(10)).map((e) => e.id),
        ['e1'],
      );
    });

    it('delivers to a wait once: deletes the wait and its timeout, appends the event, makes the run ready', async () => {
      const store = context.store;
      await startRun(store, 'r1', { waits: [wait('r1', 1, '["x"]', { timeoutAt: 5000 })], timers: [timer('r1', 1, 5000, 'wait_timeout')] });
      assert.equal(await isReady(store, 'r1'), false);
      const event = cloudEvent('x');
      const { seq } = await store.insertEvent(event, 'k', 2000);
      const routing = { eventSeq: seq, newRuns: [], deliveries: [{ runId: 'r1', step: 1 }], markRouted: true };

      assert.deepEqual(await store.routeEvent(routing), { createdRunIds: [], deliveredRunIds: ['r1'], markedRouted: true });
      assert.deepEqual(await store.findWaits('com.example.thing', '["x"]'), []);
      assert.equal(await store.nextDueAt(), undefined, 'the timeout timer is gone');
      const pending = await store.loadPending('r1');
      assert.deepEqual(
        pending.map((p) => [p.resolution, p.at]),
        [[{ kind: 'wait', step: 1, event }, 2000]],
      );
      assert.equal(await isReady(store, 'r1'), true);

      assert.deepEqual(await store.routeEvent(routing), { createdRunIds: [], deliveredRunIds: [], markedRouted: false });
      assert.equal((await store.loadPending('r1')).length, 1);
    });

    it('routing reaches every wait of a run parked on the event; a lookback never brings a run an event it received', async () => {
      const store = context.store;
      // Wait 3 has another key: routing does not list it; only the lookbacks below do.
      await startRun(store, 'r1', { waits: [wait('r1', 1), wait('r1', 2), wait('r1', 3, '["y"]')] });
      const e1 = await store.insertEvent(cloudEvent('x1'), 'k1', 2000);
      const e2 = await store.insertEvent(cloudEvent('x2'), 'k2', 2001);
      const both = [
        { runId: 'r1', step: 1 },
        { runId: 'r1', step: 2 },
      ];

      // Both waits are parked when x1 is routed (say, an abandoned branch of a race and the current
      // wait): both receive it, so the abandoned one cannot swallow it.
      assert.deepEqual((await store.routeEvent({ eventSeq: e1.seq, newRuns: [], deliveries: both, markRouted: true })).deliveredRunIds, [
        'r1',
      ]);
      assert.equal((await store.findWaits('com.example.thing', '["x"]')).length, 0);
      const lookback = (eventSeq: number) =>
        store.routeEvent({ eventSeq, newRuns: [], deliveries: [{ runId: 'r1', step: 3 }], markRouted: false });
      assert.deepEqual((await lookback(e1.seq)).deliveredRunIds, [], 'a lookback never re-delivers what the run received');
      assert.deepEqual((await lookback(e2.seq)).deliveredRunIds, ['r1']);
      const received = (await store.loadPending('r1')).map((p) => p.resolution);
      assert.deepEqual(
        received.map((r) => (r.kind === 'wait' ? [r.step, r.event?.id] : r.kind)),
        [
          [1, 'x1'],
          [2, 'x1'],
          [3, 'x2'],
        ],
      );
    });

    it('a lookback brings an event to every wait of the run it lists, unless the run received the event before', async () => {
      const store = context.store;
      // Two waits registered together after the event arrived (Promise.all of two waitFor): both get it, as routing would.
      const { seq } = await store.insertEvent(cloudEvent('x'), 'k', 1000);
      await startRun(store, 'r1', { waits: [wait('r1', 1), wait('r1', 2)] });
      const lookback = (steps: number[]) =>
        store.routeEvent({ eventSeq: seq, newRuns: [], deliveries: steps.map((step) => ({ runId: 'r1', step })), markRouted: false });
      assert.deepEqual((await lookback([1, 2])).deliveredRunIds, ['r1']);
      assert.deepEqual(
        (await store.loadPending('r1')).map((p) =>
          p.resolution.kind === 'wait' ? [p.resolution.step, p.resolution.event?.id] : p.resolution.kind,
        ),
        [
          [1, 'x'],
          [2, 'x'],
        ],
      );
      // Waits registered after the run received it (a later task) do not get it again, together or alone.
      assert.ok((await store.commitTask(commit('r1', 2, 2000, { waits: [wait('r1', 3), wait('r1', 4)] }))).ok);
      assert.deepEqual((await lookback([3, 4])).deliveredRunIds, []);
      assert.deepEqual((await lookback([4])).deliveredRunIds, []);
      assert.equal((await store.findWaits('com.example.thing', '["x"]')).length, 2);
    });

    it('summarizes what routing did with events: the runs each started and reached', async () => {
      const store = context.store;
      const { seq } = await store.insertEvent(cloudEvent('e1'), 'k1', 100);
      const quiet = (await store.insertEvent(cloudEvent('e2'), 'k2', 100)).seq;
      await startRun(store, 'w2', { waits: [wait('w2', 1)] });
      await startRun(store, 'w1', { waits: [wait('w1', 1)] });
      await store.routeEvent({
        eventSeq: seq,
        newRuns: [newRun('s2', { triggerEventSeq: seq }), newRun('s1', { triggerEventSeq: seq })],
        deliveries: [
          { runId: 'w2', step: 1 },
          { runId: 'w1', step: 1 },
        ],
        markRouted: true,
      });
      const runIds = ['s1', 's2', 'w1', 'nobody'];
      assert.deepEqual(await store.summarizeRouting({ seqs: [seq, quiet, 999], runIds }), [
        { seq, started: ['s1', 's2'], delivered: ['w1', 'w2'] },
      ]);
      // A run the event started also consumed it: outside the candidates it shows as reached.
      assert.deepEqual(await store.summarizeRouting({ seqs: [seq], runIds: ['s1'] }), [
        { seq, started: ['s1'], delivered: ['s2', 'w1', 'w2'] },
      ]);
      await store.commitTask(commit('w1', 2, 2000, { status: { status: 'completed', result: null } }));
      assert.deepEqual(
        await store.summarizeRouting({ seqs: [seq], runIds }),
        [{ seq, started: ['s1', 's2'], delivered: ['w2'] }],
        'an ended run’s deliveries are gone',
      );
      assert.deepEqual(await store.summarizeRouting({ seqs: [], runIds: [] }), []);
    });

    it('never delivers the event that started a run to that run', async () => {
      const store = context.store;
      const { seq } = await store.insertEvent(cloudEvent('start'), 'k', 100);
      await store.routeEvent({ eventSeq: seq, newRuns: [newRun('r1', { triggerEventSeq: seq })], deliveries: [], markRouted: true });
      assert.ok((await store.commitTask(commit('r1', 0, 1000, { waits: [wait('r1', 1)] }))).ok);
      const lookback = await store.routeEvent({ eventSeq: seq, newRuns: [], deliveries: [{ runId: 'r1', step: 1 }], markRouted: false });
      assert.deepEqual(lookback.deliveredRunIds, []);
      assert.equal((await store.findWaits('com.example.thing', '["x"]')).length, 1);
    });

    it('delivers an event to a wait registered after it (lookback) without changing its routed flag', async () => {
      const store = context.store;
      const early = await store.insertEvent(cloudEvent('early'), 'k1', 100);
      await store.routeEvent({ eventSeq: early.seq, newRuns: [], deliveries: [], markRouted: true });
      const queued = await store.insertEvent(cloudEvent('queued'), 'k2', 200);
      await startRun(store, 'r1', { waits: [wait('r1', 1), wait('r1', 2)] });
      for (const [seq, step] of [
        [early.seq, 1],
        [queued.seq, 2],
      ] as const) {
        const lookback = await store.routeEvent({ eventSeq: seq, newRuns: [], deliveries: [{ runId: 'r1', step }], markRouted: false });
        assert.deepEqual(lookback.deliveredRunIds, ['r1']);
      }
      assert.deepEqual(
        (await store.listUnroutedEvents(10)).map((e) => e.id),
        ['queued'],
        'its own routing is still to come',
      );
      await store.routeEvent({ eventSeq: queued.seq, newRuns: [], deliveries: [{ runId: 'r1', step: 2 }], markRouted: true });
      assert.deepEqual(await store.listUnroutedEvents(10), []);
      assert.equal((await store.loadPending('r1')).length, 2, 'the routing proper does not deliver it again');
    });

    it('does not deliver to a run that has ended', async () => {
      const store = context.store;
      await startRun(store, 'r1', { waits: [wait('r1', 1)] });
      await store.commitTask(commit('r1', 2, 1500, { status: { status: 'cancelled' } }));
      const { seq } = await store.insertEvent(cloudEvent('x'), 'k', 2000);
      const result = await store.routeEvent({ eventSeq: seq, newRuns: [], deliveries: [{ runId: 'r1', step: 1 }], markRouted: true });
      assert.deepEqual(result.deliveredRunIds, []);
      assert.deepEqual(await store.loadPending('r1'), []);
    });

    it('refuses to route an event that is not in the inbox', async () => {
      await assert.rejects(context.store.routeEvent({ eventSeq: 999, newRuns: [], deliveries: [], markRouted: true }), NotFoundError);
    });

    it('lists the distinct wait shapes of a type and finds waits by correlation key', async () => {
      const store = context.store;
      await startRun(store, 'r1', {
        waits: [
          wait('r1', 1, '["x"]'),
          wait('r1', 2, '["y"]'),
          wait('r1', 3, '["x",1]', { paths: ['data.a', 'data.b'] }),
          wait('r1', 4, '["x"]', { eventType: 'other', paths: ['data.c'] }),
        ],
      });
      await startRun(store, 'r2', { waits: [wait('r2', 1, '["x"]')] });
      assert.deepEqual(sortShapes(await store.listWaitShapes('com.example.thing')), sortShapes([['data.id'], ['data.a', 'data.b']]));
      assert.deepEqual(await store.listWaitShapes('nothing'), []);
      const found = await store.findWaits('com.example.thing', '["x"]');
      assert.deepEqual(
        found.sort((a, b) => a.runId.localeCompare(b.runId)),
        [wait('r1', 1, '["x"]'), wait('r2', 1, '["x"]')],
      );
    });

    it('keeps a hashed shape (a wait on a secret) apart from the plain shape of its paths, as it was given', async () => {
      const store = context.store;
      // Both wait for data.id = 'x': the router looks each up by the key it computes for its shape.
      const { paths, key } = hashedWaitIndexEntry({ 'data.id': 'x' }, (text) => createHash('sha256').update(text).digest('hex'));
      const hashed = wait('r1', 2, key, { paths });
      await startRun(store, 'r1', { waits: [wait('r1', 1, '["x"]'), hashed] });
      assert.deepEqual(sortShapes(await store.listWaitShapes('com.example.thing')), sortShapes([['data.id'], paths]));
      assert.deepEqual(await store.findWaits('com.example.thing', hashed.key), [hashed]);
      assert.deepEqual(await store.findWaits('com.example.thing', '["x"]'), [wait('r1', 1, '["x"]')]);
    });
  });
}
