import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SubscriberLeaseGrant } from '../../core/ports.js';
import { OTHER, OWNER } from './fixtures.js';
import type { ConformanceContext } from './store-conformance.js';

const KEY = 'subscriber:https://hooks.example.com/a';

function tokenOf(grant: SubscriberLeaseGrant): number {
  assert.ok(grant.acquired, `the lease was refused: ${JSON.stringify(grant)}`);
  return grant.token;
}

/** What delivery to one outgoing subscriber by one node at a time relies on (src/app/subscribers.ts). */
export function describeSubscriberLeases(context: ConformanceContext): void {
  describe('subscriber leases', () => {
    it('grants the lease to one node at a time, and to another once it lapsed', async () => {
      const store = context.store;
      const first = tokenOf(await store.acquireSubscriberLease(KEY, OWNER, 1000, 31_000));
      assert.deepEqual(await store.acquireSubscriberLease(KEY, OTHER, 30_999, 60_999), { acquired: false, owner: OWNER, until: 31_000 });
      const second = tokenOf(await store.acquireSubscriberLease(KEY, OTHER, 31_000, 61_000));
      assert.ok(second > first, 'each grant has a higher token');
      assert.deepEqual(await store.acquireSubscriberLease(KEY, OWNER, 31_001, 61_001), { acquired: false, owner: OTHER, until: 61_000 });
      tokenOf(await store.acquireSubscriberLease('subscriber:https://hooks.example.com/b', OWNER, 31_001, 61_001));
    });

    it('renews only the current grant, which then holds for longer', async () => {
      const store = context.store;
      const token = tokenOf(await store.acquireSubscriberLease(KEY, OWNER, 1000, 31_000));
      assert.equal(await store.renewSubscriberLease(KEY, token, 50_000), true);
      assert.deepEqual(await store.acquireSubscriberLease(KEY, OTHER, 40_000, 70_000), { acquired: false, owner: OWNER, until: 50_000 });
      const taken = tokenOf(await store.acquireSubscriberLease(KEY, OTHER, 50_000, 80_000));
      assert.equal(await store.renewSubscriberLease(KEY, token, 90_000), false, 'the stale node cannot take it back by renewing');
      assert.deepEqual(await store.acquireSubscriberLease(KEY, OWNER, 79_999, 90_000), { acquired: false, owner: OTHER, until: 80_000 });
      assert.equal(await store.renewSubscriberLease(KEY, taken, 90_000), true);
    });

    it('moves the mark only under the current grant, and only forward', async () => {
      const store = context.store;
      const stale = tokenOf(await store.acquireSubscriberLease(KEY, OWNER, 1000, 31_000));
      assert.equal(await store.getScheduleTick(KEY), undefined);
      assert.equal(await store.advanceSubscriberMark(KEY, stale, 4), true, 'an absent mark is created');
      assert.equal(await store.getScheduleTick(KEY), 4);
      assert.equal(await store.advanceSubscriberMark(KEY, stale, 4), false, 'not above the mark');
      assert.equal(await store.advanceSubscriberMark(KEY, stale, 3), false, 'never back');
      const current = tokenOf(await store.acquireSubscriberLease(KEY, OTHER, 31_000, 61_000));
      assert.equal(await store.advanceSubscriberMark(KEY, stale, 9), false, 'a node that lost the lease cannot move the mark');
      assert.equal(await store.getScheduleTick(KEY), 4);
      assert.equal(await store.advanceSubscriberMark(KEY, current, 7), true);
      assert.equal(await store.getScheduleTick(KEY), 7);
      assert.equal(await store.advanceScheduleTick(KEY, 12), true, 'an operator may still move the mark past an event');
      assert.equal(await store.advanceSubscriberMark(KEY, current, 8), false, 'and the holder does not move it back');
      assert.equal(await store.getScheduleTick(KEY), 12);
    });

    it('a grant taken again by its own node fences the earlier one', async () => {
      const store = context.store;
      const earlier = tokenOf(await store.acquireSubscriberLease(KEY, OWNER, 1000, 31_000));
      const later = tokenOf(await store.acquireSubscriberLease(KEY, OWNER, 2000, 32_000));
      assert.ok(later > earlier);
      assert.equal(await store.advanceSubscriberMark(KEY, earlier, 1), false);
      assert.equal(await store.renewSubscriberLease(KEY, earlier, 40_000), false);
      assert.equal(await store.advanceSubscriberMark(KEY, later, 1), true);
    });

    it('a lease handed back is free at once, and its grant can do nothing more', async () => {
      const store = context.store;
      const released = tokenOf(await store.acquireSubscriberLease(KEY, OWNER, 1000, 31_000));
      await store.releaseSubscriberLease(KEY, released);
      assert.equal(await store.advanceSubscriberMark(KEY, released, 1), false);
      assert.equal(await store.renewSubscriberLease(KEY, released, 40_000), false);
      const taken = tokenOf(await store.acquireSubscriberLease(KEY, OTHER, 1001, 31_001));
      await store.releaseSubscriberLease(KEY, released);
      assert.deepEqual(
        await store.acquireSubscriberLease(KEY, OWNER, 1002, 31_002),
        { acquired: false, owner: OTHER, until: 31_001 },
        'a stale release frees nothing',
      );
      assert.equal(await store.advanceSubscriberMark(KEY, taken, 1), true);
    });
  });
}
