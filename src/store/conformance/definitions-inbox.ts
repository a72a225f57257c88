import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cloudEvent, definition } from './fixtures.js';
import type { ConformanceContext } from './store-conformance.js';

export function describeDefinitionsAndInbox(context: ConformanceContext): void {
  describe('migrate', () => {
    it('can run again on a migrated store without losing data', async () => {
      const store = context.store;
      await store.insertEvent(cloudEvent('e1'), 'k1', 100);
      await store.migrate();
      assert.equal((await store.getEvent(1))?.id, 'e1');
    });
  });

  describe('definitions', () => {
    it('stores a version once and makes the latest deploy of a name active', async () => {
      const store = context.store;
      const a1 = definition('alpha', 'a1', 100);
      const a2 = definition('alpha', 'a2', 200);
      const b1 = definition('beta', 'b1', 150);
      b1.sourceMap = '{"version":3}';
      for (const def of [a1, a2, b1]) await store.deployDefinition(def);
      await store.deployDefinition({ ...a2, deployedAt: 999 });

      assert.deepEqual(await store.getDefinition('a2'), a2, 'redeploying a version keeps the stored one');
      assert.deepEqual(await store.getDefinition('b1'), b1);
      assert.equal(await store.getDefinition('nope'), undefined);
      // Each active one with when it became active: a redeploy of the active version (at 999) keeps it.
      assert.deepEqual(await store.listActiveDefinitions(), [
        { ...a2, activatedAt: 200 },
        { ...b1, activatedAt: 150 },
      ]);
      assert.deepEqual(await store.listDefinitionVersions('alpha'), [
        { version: 'a2', name: 'alpha', deployedAt: 200, active: true },
        { version: 'a1', name: 'alpha', deployedAt: 100, active: false },
      ]);
      assert.deepEqual(await store.listDefinitionVersions('nope'), []);
    });

    it('makes an older version active again when it is redeployed (rollback)', async () => {
      const store = context.store;
      await store.deployDefinition(definition('alpha', 'a1', 100));
      await store.deployDefinition(definition('alpha', 'a2', 200));
      await store.deployDefinition(definition('alpha', 'a1', 300));
      assert.deepEqual(
        (await store.listActiveDefinitions()).map((d) => d.version),
        ['a1'],
      );
      const [active] = await store.listActiveDefinitions();
      assert.deepEqual(
        { deployedAt: active?.deployedAt, activatedAt: active?.activatedAt },
        { deployedAt: 100, activatedAt: 300 },
        'the rollback shows as when a1 became active again; a1 was first stored at 100',
      );
    });

    it('retires a name: no active version, its versions kept for the runs using them, and a later deploy activates it again', async () => {
      const store = context.store;
      await store.deployDefinition(definition('alpha', 'a1', 100));
      await store.deployDefinition(definition('beta', 'b1', 100));
      assert.equal(await store.retireDefinition('alpha'), true);
      assert.equal(await store.retireDefinition('alpha'), false, 'already retired');
      assert.equal(await store.retireDefinition('nope'), false);
      assert.deepEqual(
        (await store.listActiveDefinitions()).map((d) => d.name),
        ['beta'],
      );
      assert.equal((await store.getDefinition('a1'))?.name, 'alpha', 'the version stays');
      assert.deepEqual(await store.listDefinitionVersions('alpha'), [{ version: 'a1', name: 'alpha', deployedAt: 100, active: false }]);
      await store.deployDefinition(definition('alpha', 'a1', 300));
      assert.deepEqual(
        (await store.listActiveDefinitions()).map((d) => d.name),
        ['alpha', 'beta'],
      );
    });
  });

  describe('inbox', () => {
    it('dedupes by key and returns the seq of the stored event for a duplicate', async () => {
      const store = context.store;
      const first = await store.insertEvent(cloudEvent('e1'), 'gitlab:1', 100);
      const second = await store.insertEvent(cloudEvent('e2'), 'gitlab:2', 110);
      const again = await store.insertEvent(cloudEvent('e1-redelivered'), 'gitlab:1', 120);
      assert.equal(first.duplicate, false);
      assert.ok(second.seq > first.seq);
      assert.deepEqual(again, { seq: first.seq, duplicate: true });
      assert.equal((await store.listEvents({ limit: 10 })).length, 2);
      assert.equal((await store.getEvent(first.seq))?.id, 'e1', 'the duplicate does not overwrite');
    });

    it('dedupes concurrent inserts of one key', async () => {
      const store = context.store;
      const results = await Promise.all([1, 2, 3].map((n) => store.insertEvent(cloudEvent(`e${n}`), 'same', 100 + n)));
      assert.equal(new Set(results.map((r) => r.seq)).size, 1);
      assert.deepEqual(
        results.map((r) => r.duplicate),
        [false, true, true],
      );
    });

    it('returns stored events with seq and receivedAt', async () => {
      const store = context.store;
      const event = cloudEvent('e1', 'com.example.thing', { nested: { list: [1, 'two', null] } });
      event.subject = 'issue/1';
      const { seq } = await store.insertEvent(event, 'k', 123);
      assert.deepEqual(await store.getEvent(seq), { ...event, seq, receivedAt: 123 });
      assert.equal(await store.getEvent(seq + 100), undefined);
    });

    it('finds an event by its dedupe key', async () => {
      const store = context.store;
      const { seq } = await store.insertEvent(cloudEvent('e1', 'com.example.thing', { n: 1 }), 'key-1', 5);
      await store.insertEvent(cloudEvent('e2', 'com.example.thing', { n: 2 }), 'key-2', 6);
      assert.deepEqual(await store.findEvent('key-1'), { ...cloudEvent('e1', 'com.example.thing', { n: 1 }), seq, receivedAt: 5 });
      assert.equal((await store.findEvent('key-2'))?.id, 'e2');
      assert.equal(await store.findEvent('key-3'), undefined);
    });

    it('lists unrouted events oldest first until they are routed', async () => {
      const store = context.store;
      const seqs: number[] = [];
      for (const n of [1, 2, 3]) seqs.push((await store.insertEvent(cloudEvent(`e${n}`), `k${n}`, 100 * n)).seq);
      assert.deepEqual(
        (await store.listUnroutedEvents(2)).map((e) => e.id),
        ['e1', 'e2'],
      );
      await store.routeEvent({ eventSeq: seqs[1]!, newRuns: [], deliveries: [], markRouted: true });
      assert.deepEqual(
        (await store.listUnroutedEvents(10)).map((e) => e.id),
        ['e1', 'e3'],
      );
    });

    it('lists the events after a seq in inbox order, for subscribers', async () => {
      const store = context.store;
      const seqs = [];
      for (const id of ['e1', 'e2', 'e3']) seqs.push((await store.insertEvent(cloudEvent(id, 'A'), id, 100)).seq);
      assert.deepEqual(
        (await store.listEventsAfter(seqs[0]!, 10)).map((e) => e.id),
        ['e2', 'e3'],
      );
      assert.deepEqual(
        (await store.listEventsAfter(0, 1)).map((e) => e.id),
        ['e1'],
      );
      assert.deepEqual(await store.listEventsAfter(seqs[2]!, 10), []);
    });

    it('lists recent events of a type since a time, oldest first', async () => {
      const store = context.store;
      await store.insertEvent(cloudEvent('a1', 'A'), 'a1', 100);
      await store.insertEvent(cloudEvent('b1', 'B'), 'b1', 200);
      await store.insertEvent(cloudEvent('a2', 'A'), 'a2', 300);
      await store.insertEvent(cloudEvent('a3', 'A'), 'a3', 200);
      assert.deepEqual(
        (await store.listRecentEvents('A', 200, 10)).map((e) => e.id),
        ['a3', 'a2'],
      );
      assert.deepEqual(
        (await store.listRecentEvents('A', 0, 1)).map((e) => e.id),
        ['a1'],
      );
      assert.deepEqual(await store.listRecentEvents('C', 0, 10), []);
      // Pages follow the last event seen, also among events received at the same time.
      const [first, second] = await store.listRecentEvents('A', 0, 2);
      assert.deepEqual(
        (await store.listRecentEvents('A', 0, 10, { receivedAt: first!.receivedAt, seq: first!.seq })).map((e) => e.id),
        ['a3', 'a2'],
      );
      assert.deepEqual(
        (await store.listRecentEvents('A', 200, 10, { receivedAt: second!.receivedAt, seq: second!.seq })).map((e) => e.id),
        ['a2'],
      );
      await store.insertEvent(cloudEvent('a4', 'A'), 'a4', 200);
      assert.deepEqual(
        (await store.listRecentEvents('A', 0, 10, { receivedAt: 200, seq: second!.seq })).map((e) => e.id),
        ['a4', 'a2'],
        'received at the same time as the last one seen, but after it in the inbox',
      );
    });

    it('lists events newest first, paging backwards by seq and filtering by type', async () => {
      const store = context.store;
      const seqs: number[] = [];
      for (const [n, type] of [
        [1, 'A'],
        [2, 'B'],
        [3, 'A'],
        [4, 'A'],
      ] as const) {
        seqs.push((await store.insertEvent(cloudEvent(`e${n}`, type), `k${n}`, n)).seq);
      }
      assert.deepEqual(
        (await store.listEvents({ limit: 2 })).map((e) => e.id),
        ['e4', 'e3'],
      );
      assert.deepEqual(
        (await store.listEvents({ limit: 10, beforeSeq: seqs[2]! })).map((e) => e.id),
        ['e2', 'e1'],
      );
      assert.deepEqual(
        (await store.listEvents({ limit: 10, type: 'A', beforeSeq: seqs[3]! })).map((e) => e.id),
        ['e3', 'e1'],
      );
    });
  });

  describe('schedules and API tokens', () => {
    it('advances a schedule tick only forwards', async () => {
      const store = context.store;
      assert.equal(await store.getScheduleTick('wf:0 * * * *'), undefined);
      assert.equal(await store.advanceScheduleTick('wf:0 * * * *', 100), true);
      assert.equal(await store.advanceScheduleTick('wf:0 * * * *', 100), false);
      assert.equal(await store.advanceScheduleTick('wf:0 * * * *', 50), false);
      assert.equal(await store.advanceScheduleTick('wf:0 * * * *', 200), true);
      assert.equal(await store.advanceScheduleTick('other', 10), true);
      assert.equal(await store.getScheduleTick('wf:0 * * * *'), 200);
    });

    it('stores the first API token only: a later one is refused and not accepted', async () => {
      const store = context.store;
      assert.equal(await store.countApiTokens(), 0);
      assert.equal(await store.addFirstApiToken('hash-1', 'admin', 100), true);
      assert.equal(await store.addFirstApiToken('hash-2', 'admin', 200), false);
      assert.equal(await store.countApiTokens(), 1);
      assert.equal(await store.hasApiToken('hash-1'), true);
      assert.equal(await store.hasApiToken('hash-2'), false);
    });

    it('replaces every stored API token with a new one (a rotation): the old ones are refused at once', async () => {
      const store = context.store;
      assert.equal(await store.replaceApiTokens('hash-a', 'admin', 100), 0);
      assert.equal(await store.replaceApiTokens('hash-b', 'admin', 200), 1);
      assert.equal(await store.hasApiToken('hash-a'), false);
      assert.equal(await store.hasApiToken('hash-b'), true);
      assert.equal(await store.countApiTokens(), 1);
      assert.equal(await store.addFirstApiToken('hash-c', 'admin', 300), false, 'a start after a rotation makes no token of its own');
    });

    it('revokes web UI sessions until they expire, and forgets them after', async () => {
      const store = context.store;
      assert.equal(await store.isSessionRevoked('s1', 100), false);
      await store.revokeSession('s1', 1000, 100);
      await store.revokeSession('s2', 500, 100);
      await store.revokeSession('s1', 900, 100);
      assert.equal(await store.isSessionRevoked('s1', 999), true, 'a later revocation never shortens one');
      assert.equal(await store.isSessionRevoked('s1', 1000), false, 'expired: the cookie is refused for its age anyway');
      assert.equal(await store.isSessionRevoked('s2', 499), true);
      assert.equal(await store.isSessionRevoked('other', 100), false);
      await store.revokeSession('s3', 2000, 600);
      assert.equal(await store.isSessionRevoked('s2', 0), false, 'the revocations expired by then are deleted');
      assert.equal(await store.isSessionRevoked('s1', 600), true);
      assert.equal(await store.isSessionRevoked('s3', 1999), true);
    });
  });
}
