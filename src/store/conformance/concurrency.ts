import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError } from '../../core/errors.js';
import type { NewRun, RunConcurrency, RunStatus } from '../../core/model.js';
import type { RunRetry, Store } from '../../core/ports.js';
import { cloudEvent, commit, events, isReady, newRun, OWNER, stuckRun } from './fixtures.js';
import type { ConformanceContext } from './store-conformance.js';

const DEPLOY: RunConcurrency = { group: 'deploy:production', limit: 1 };

function grouped(id: string, createdAt: number, concurrency: RunConcurrency = DEPLOY, overrides: Partial<NewRun> = {}): NewRun {
  return newRun(id, { createdAt, concurrency, ...overrides });
}

async function statuses(store: Store, ...ids: string[]): Promise<Record<string, RunStatus | undefined>> {
  const found: Record<string, RunStatus | undefined> = {};
  for (const id of ids) found[id] = (await store.getRun(id))?.status;
  return found;
}

/** Ends the run (history length 0, not leased) in one task with `status`. */
async function end(store: Store, id: string, status: 'completed' | 'failed' | 'cancelled' = 'completed', at = 5000): Promise<void> {
  const ending = status === 'failed' ? { status, error: { name: 'Error', message: 'broke' } } : { status };
  const result = await store.commitTask(commit(id, 0, at, { status: ending }));
  assert.equal(result.ok, true, `ending run ${id}`);
}

export function describeConcurrency(context: ConformanceContext): void {
  describe('concurrency groups', () => {
    it('creates a run queued, neither ready nor leased, while its group has `limit` running runs; other groups are not counted', async () => {
      const store = context.store;
      await store.createRun(grouped('a', 1000));
      const lease = { owner: OWNER, until: 99_000 };
      const queued = await store.createRun(grouped('b', 1001), lease);
      assert.equal(queued.created, true);
      assert.equal(queued.run.status, 'queued');
      assert.deepEqual(queued.run.concurrency, DEPLOY);
      await store.createRun(grouped('other-env', 1002, { group: 'deploy:staging', limit: 1 }));
      await store.createRun(newRun('ungrouped', { createdAt: 1003 }));
      assert.deepEqual(await statuses(store, 'a', 'b', 'other-env', 'ungrouped'), {
        a: 'running',
        b: 'queued',
        'other-env': 'running',
        ungrouped: 'running',
      });
      assert.equal(await isReady(store, 'b'), false);
      assert.equal(await store.countGroupSlotsTaken('deploy:production'), 1);
      assert.equal(await store.countGroupSlotsTaken('nobody'), 0);
      assert.deepEqual(
        (await store.listRuns({ status: 'queued' })).runs.map((run) => run.id),
        ['b'],
      );
      assert.equal((await store.countRunsByStatus()).queued, 1);
      // A signal for it waits in its mailbox; it does not make the run claimable.
      assert.equal(await store.addPending('b', { kind: 'wait', step: 1, event: cloudEvent('go') }, 1500), true);
      assert.equal(await isReady(store, 'b'), false);
    });

    it('starts the oldest queued run of the group when a running one ends (first created first), as many as the limit allows', async () => {
      const store = context.store;
      const two = { group: 'builds', limit: 2 };
      await store.createRun(grouped('r1', 1000, two));
      await store.createRun(grouped('r2', 1001, two));
      await store.createRun(grouped('q-late', 1003, two));
      await store.createRun(grouped('q-b', 1002, two));
      await store.createRun(grouped('q-a', 1002, two));
      assert.deepEqual(await statuses(store, 'q-a', 'q-b', 'q-late'), { 'q-a': 'queued', 'q-b': 'queued', 'q-late': 'queued' });

      // q-b and q-a were created in the same millisecond, q-b first: it goes first, whatever the ids' order.
      await end(store, 'r1', 'failed');
      assert.deepEqual(await statuses(store, 'q-a', 'q-b', 'q-late'), { 'q-a': 'queued', 'q-b': 'running', 'q-late': 'queued' });
      assert.equal(await isReady(store, 'q-b'), true);
      await end(store, 'r2', 'cancelled');
      assert.deepEqual(await statuses(store, 'q-a', 'q-late'), { 'q-a': 'running', 'q-late': 'queued' });
      assert.equal(await isReady(store, 'q-late'), false);
    });

    it('keeps first come, first served when a deploy raised the limit: newer runs wait behind older ones, and start with them', async () => {
      const store = context.store;
      const before = { group: 'lim', limit: 1 };
      const raised = { group: 'lim', limit: 2 };
      await store.createRun(grouped('old-1', 1000, before));
      await store.createRun(grouped('old-2', 1001, before));
      const newer = await store.createRun(grouped('new-1', 2000, raised));
      assert.equal(newer.run.status, 'queued', 'a free slot by its own limit, but an older run waits');
      await end(store, 'old-1');
      // old-2 takes the slot its limit of 1 allows; with it running, new-1's limit of 2 still has room.
      assert.deepEqual(await statuses(store, 'old-2', 'new-1'), { 'old-2': 'running', 'new-1': 'running' });
      assert.equal((await store.createRun(grouped('new-2', 3000, raised))).run.status, 'queued');
    });

    it("with queue 'latest', a run that queues cancels the runs queued before it, which become claimable to end", async () => {
      const store = context.store;
      const latest: RunConcurrency = { group: 'deploy:production', limit: 1, queue: 'latest' };
      await store.createRun(grouped('holder', 1000, latest));
      const v2 = await store.createRun(grouped('v2', 1001, latest));
      assert.deepEqual(v2.run.concurrency, latest);
      assert.equal(v2.run.status, 'queued');
      await store.createRun(grouped('v3', 1002, latest));
      assert.deepEqual(await statuses(store, 'holder', 'v2', 'v3'), { holder: 'running', v2: 'running', v3: 'queued' });
      assert.equal(await store.cancelRequestedAt('v2'), 1002);
      const [cancel] = await store.loadPending('v2');
      assert.deepEqual(cancel?.resolution, {
        kind: 'cancel',
        reason: "superseded by run v3, queued after it (concurrency queue: 'latest')",
      });
      assert.equal(await isReady(store, 'v2'), true);
      await end(store, 'v2', 'cancelled');
      // v2 never held the holder's slot: v3 still waits for the holder.
      assert.equal((await store.getRun('v3'))?.status, 'queued');
      await end(store, 'holder');
      assert.equal((await store.getRun('v3'))?.status, 'running');
    });

    it('with cancelInProgress, a new run asks the older runs to cancel, running or queued, and starts once the running one ended', async () => {
      const store = context.store;
      const newest: RunConcurrency = { group: 'preview:mr-7', limit: 1, cancelInProgress: true };
      const superseded = (by: string) => ({
        kind: 'cancel',
        reason: `superseded by run ${by} of the same concurrency group (concurrency cancelInProgress)`,
      });
      const first = await store.createRun(grouped('first', 1000, newest));
      assert.equal(first.run.status, 'running');
      const second = await store.createRun(grouped('second', 1001, newest));
      assert.deepEqual(second.run.concurrency, newest);
      assert.equal(second.run.status, 'queued');
      assert.equal(await store.cancelRequestedAt('first'), 1001);
      assert.deepEqual(
        (await store.loadPending('first')).map((item) => item.resolution),
        [superseded('second')],
      );
      assert.equal(await isReady(store, 'first'), true);

      // A client's second request for the same run changes nothing (it exists: the insert is skipped).
      assert.equal((await store.createRun(grouped('second', 1001, newest))).created, false);
      assert.deepEqual(await statuses(store, 'first', 'second'), { first: 'running', second: 'queued' });
      assert.equal(await store.cancelRequestedAt('second'), undefined);

      // A third, while the first still cleans up: the first is not asked again; the queued second is superseded.
      await store.createRun(grouped('third', 1002, newest));
      assert.equal((await store.loadPending('first')).length, 1);
      assert.equal(await store.cancelRequestedAt('second'), 1002);
      assert.deepEqual(
        (await store.loadPending('second')).map((item) => item.resolution),
        [superseded('third')],
      );
      assert.deepEqual(await statuses(store, 'first', 'second', 'third'), { first: 'running', second: 'running', third: 'queued' });
      await end(store, 'second', 'cancelled');
      assert.equal((await store.getRun('third'))?.status, 'queued', 'the first still holds the slot while its cleanup runs');
      await end(store, 'first', 'cancelled');
      assert.equal((await store.getRun('third'))?.status, 'running');
      assert.equal(await store.cancelRequestedAt('third'), undefined);
    });

    it("with queue 'latest', a client's second request for a queued run changes nothing", async () => {
      const store = context.store;
      const latest: RunConcurrency = { group: 'sync', limit: 1, queue: 'latest' };
      await store.createRun(grouped('holder', 1000, latest));
      await store.createRun(grouped('waiting', 1001, latest));
      assert.equal((await store.createRun(grouped('waiting', 1001, latest))).created, false);
      assert.deepEqual(await statuses(store, 'holder', 'waiting'), { holder: 'running', waiting: 'queued' });
      assert.equal(await store.cancelRequestedAt('waiting'), undefined);
      assert.deepEqual(await store.loadPending('waiting'), []);
    });

    it('with cancelInProgress and a limit of 3, the newest 3 run: each new run cancels the oldest others it must, never a stuck one', async () => {
      const store = context.store;
      const three: RunConcurrency = { group: 'docs', limit: 3, cancelInProgress: true };
      await store.createRun(grouped('stuck', 1000, three));
      const stuck = await store.commitTask({ ...commit('stuck', 0, 1500, { history: [] }), at: 1500, status: { status: 'stuck' } });
      assert.equal(stuck.ok, true);
      await store.createRun(grouped('old', 1001, three));
      await store.createRun(grouped('other-group', 1001, { ...three, group: 'docs:other' }));
      const roomy = await store.createRun(grouped('mid', 1002, three));
      assert.equal(roomy.run.status, 'running', 'a free slot: nobody is cancelled');
      assert.equal(await store.cancelRequestedAt('old'), undefined);

      const newer = await store.createRun(grouped('new', 1003, three));
      assert.equal(newer.run.status, 'queued');
      const asked = async (...ids: string[]): Promise<Record<string, number | undefined>> =>
        Object.fromEntries(
          await Promise.all(ids.map(async (id): Promise<[string, number | undefined]> => [id, await store.cancelRequestedAt(id)])),
        );
      assert.deepEqual(await asked('stuck', 'old', 'mid'), { stuck: undefined, old: 1003, mid: undefined });
      assert.equal(await store.cancelRequestedAt('other-group'), undefined);
      // What the queued run waits for, oldest first, with those on their way out; a limit cuts the list.
      const holder = (id: string, status: RunStatus, cancelling = false) => ({ id, workflow: newRun(id).workflow, status, cancelling });
      assert.deepEqual(await store.listGroupSlotHolders('docs', 10), [
        holder('stuck', 'stuck'),
        holder('old', 'running', true),
        holder('mid', 'running'),
      ]);
      assert.deepEqual(await store.listGroupSlotHolders('docs', 2), [holder('stuck', 'stuck'), holder('old', 'running', true)]);
      assert.deepEqual(await store.listGroupSlotHolders('nobody', 10), []);

      // One more: the stuck one stays, the queued 'new' is among the newest 3, so the running 'mid' goes.
      const newest = await store.createRun(grouped('newest', 1004, three));
      assert.equal(newest.run.status, 'queued');
      assert.deepEqual(await asked('stuck', 'mid', 'new'), { stuck: undefined, mid: 1004, new: undefined });
      await end(store, 'old', 'cancelled');
      assert.deepEqual(await statuses(store, 'new', 'newest'), { new: 'running', newest: 'queued' });
      await end(store, 'mid', 'cancelled');
      assert.deepEqual(await statuses(store, 'stuck', 'new', 'newest'), { stuck: 'stuck', new: 'running', newest: 'running' });
    });

    it('keeps the slot along a continue-as-new chain, and holds it while a run is stuck', async () => {
      const store = context.store;
      await store.createRun(grouped('loop', 1000));
      await store.createRun(grouped('waiting', 1001));
      const successor = grouped('loop~2', 4000);
      const continued = await store.commitTask(
        commit('loop', 0, 4000, { status: { status: 'continued', result: { continuedAs: 'loop~2' } }, successor }),
      );
      assert.equal(continued.ok, true);
      assert.deepEqual(await statuses(store, 'loop~2', 'waiting'), { 'loop~2': 'running', waiting: 'queued' });

      const stuck = await store.commitTask({ ...commit('loop~2', 0, 5000, { history: [] }), at: 5000, status: { status: 'stuck' } });
      assert.equal(stuck.ok, true);
      assert.equal((await store.getRun('waiting'))?.status, 'queued');
      assert.equal(await store.countGroupSlotsTaken(DEPLOY.group), 1, 'a stuck run holds its slot');
      const ended = await store.commitTask(
        commit('loop~2', 0, 6000, { history: events(0, 6000, { type: 'run_cancelled' }), status: { status: 'cancelled' } }),
      );
      assert.equal(ended.ok, true);
      assert.equal((await store.getRun('waiting'))?.status, 'running');
      // Ready from when it got the slot: the time it waited for one is no lag of the ready queue.
      assert.equal((await store.queueStats()).oldestReadyAt, 6000);
    });

    it('lets a queued run that is asked to cancel be claimed at once, to end without its code, starting no other', async () => {
      const store = context.store;
      await store.createRun(grouped('holder', 1000));
      await store.createRun(grouped('cancel-me', 1001));
      await store.createRun(grouped('next', 1002));
      assert.equal(await store.addPending('cancel-me', { kind: 'cancel', reason: 'not needed' }, 2000), true);
      assert.equal((await store.getRun('cancel-me'))?.status, 'running');
      assert.equal(await store.cancelRequestedAt('cancel-me'), 2000);
      assert.equal(await isReady(store, 'cancel-me'), true);
      await end(store, 'cancel-me', 'cancelled');
      // The holder still runs: the one slot is taken, so the next run waits.
      assert.deepEqual(await statuses(store, 'holder', 'next'), { holder: 'running', next: 'queued' });
      await end(store, 'holder');
      assert.equal((await store.getRun('next'))?.status, 'running');
    });

    it('ends a queued run seized without its code (terminate) and starts no other in its place', async () => {
      const store = context.store;
      await store.createRun(grouped('holder', 1000));
      await store.createRun(grouped('stale', 1001));
      await store.createRun(grouped('next', 1002));
      assert.equal(await store.seizeRun('stale', OWNER, 99_000, 0), true);
      await end(store, 'stale', 'cancelled');
      assert.deepEqual(await statuses(store, 'holder', 'stale', 'next'), { holder: 'running', stale: 'cancelled', next: 'queued' });
    });

    it('queues the children a task starts and the runs an event starts, even when the routing leases them', async () => {
      const store = context.store;
      await store.createRun(grouped('holder', 1000));
      await store.createRun(newRun('parent', { createdAt: 1000 }));
      const child = grouped('parent.1', 2000, DEPLOY, { parentId: 'parent', parentStep: 1 });
      assert.equal((await store.commitTask(commit('parent', 0, 2000, { children: [child] }))).ok, true);
      assert.equal((await store.getRun('parent.1'))?.status, 'queued');

      const { seq } = await store.insertEvent(cloudEvent('e1'), 'e1', 3000);
      const started = grouped('from-event', 3000, DEPLOY, { triggerEventSeq: seq });
      const routed = await store.routeEvent({
        eventSeq: seq,
        newRuns: [started],
        lease: { owner: OWNER, until: 99_000 },
        deliveries: [],
        markRouted: true,
      });
      assert.deepEqual(routed.createdRunIds, ['from-event']);
      assert.equal((await store.getRun('from-event'))?.status, 'queued');
      assert.equal(await isReady(store, 'from-event'), false);
    });

    it('refuses to retry a failed run while its group is full, changing nothing, and retries it once a slot is free', async () => {
      const store = context.store;
      await store.createRun(grouped('g-failed', 1000));
      await end(store, 'g-failed', 'failed', 3000);
      await store.createRun(grouped('g-holder', 4000));
      const groupRetry: RunRetry = {
        runId: 'g-failed',
        expectedHistoryLength: 1,
        expectedUpdatedAt: 3000,
        keepHistoryLength: 0,
        version: 'v1',
        at: 5000,
        pending: [],
        calls: [],
        timers: [],
        waits: [],
      };
      await assert.rejects(store.retryRun(groupRetry), (error: unknown) => {
        assert.ok(error instanceof ConflictError);
        assert.match(error.message, /concurrency group 'deploy:production'/);
        assert.equal((error.details as { code?: string }).code, 'concurrency_group_full');
        return true;
      });
      assert.equal((await store.getRun('g-failed'))?.status, 'failed');
      assert.deepEqual(await store.listRunRetries('g-failed'), []);
      await end(store, 'g-holder');
      assert.equal(await store.retryRun(groupRetry), true);
      assert.equal((await store.getRun('g-failed'))?.status, 'running');
    });

    it('retries a stuck run of a group that is full: it kept its slot', async () => {
      const store = context.store;
      await store.createRun(grouped('g-stuck', 1000));
      const retry = await stuckRun(store, 'g-stuck', 0, 2000);
      // A newer version of the workflow allows two: a run of it starts beside the stuck one.
      await store.createRun(grouped('g-newer', 3000, { ...DEPLOY, limit: 2 }));
      assert.deepEqual(await statuses(store, 'g-stuck', 'g-newer'), { 'g-stuck': 'stuck', 'g-newer': 'running' });
      assert.equal(await store.retryRun(retry), true);
      assert.deepEqual(await statuses(store, 'g-stuck', 'g-newer'), { 'g-stuck': 'running', 'g-newer': 'running' });
    });

    it('admits exactly `limit` runs of many created at once', async () => {
      const store = context.store;
      const three = { group: 'rush', limit: 3 };
      await Promise.all(Array.from({ length: 24 }, (_, i) => store.createRun(grouped(`rush-${i}`, 1000 + i, three))));
      const counts = await store.countRunsByStatus();
      assert.deepEqual({ running: counts.running, queued: counts.queued }, { running: 3, queued: 21 });
      // Ending them one by one starts each queued run once, never more than three at a time.
      const started: string[] = [];
      for (let round = 0; round < 24; round++) {
        const running = (await store.listRuns({ status: 'running', limit: 100 })).runs.map((run) => run.id);
        assert.ok(running.length <= 3, `round ${round}: ${running.length} running`);
        const next = running.sort()[0];
        if (next === undefined) break;
        started.push(next);
        await end(store, next, 'completed', 5000 + round);
      }
      assert.equal(started.length, 24);
      assert.equal((await store.countRunsByStatus()).queued ?? 0, 0);
    });
  });
}
