import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { CloudEvent } from '../core/model.js';
import type { Store } from '../core/ports.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import { createPostgresStore } from '../store/postgres/postgres-store.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import { testOnPostgres } from '../../test/helpers/postgres.js';
import { memoryLogger } from '../../test/helpers/memory-logger.js';
import { VirtualClock } from './clocks.js';
import { SubscriberDispatcher, type DispatcherDeps } from './subscribers.js';

const URL = 'https://hooks.example.com/autoflow';
const dir = mkdtempSync(join(tmpdir(), 'autoflow-subscribers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let eventCount = 0;
/** Stores an event a workflow emitted (or, with `source`, one that came from outside). */
async function emitted(store: Store, type = 'com.example.done', source = 'autoflow:workflow/wf/r1'): Promise<string> {
  const id = `e${++eventCount}`;
  const event: CloudEvent = { specversion: '1.0', id, source, type, data: { id } };
  await store.insertEvent(event, `${source}\n${id}`, Date.UTC(2026, 0, 5, 9));
  return id;
}

interface Delivery {
  node: string;
  id: string;
}

/** A receiver that accepts everything, answering after a turn of the event loop (so that nodes interleave). */
function receiver(received: Delivery[], node: string): typeof fetch {
  return async (_url, init) => {
    await new Promise((resolve) => setImmediate(resolve));
    received.push({ node, id: (JSON.parse(init!.body as string) as CloudEvent).id });
    return new Response(null, { status: 204 });
  };
}

function dispatcher(store: Store, clock: VirtualClock, nodeId: string, parts: Partial<DispatcherDeps> = {}): SubscriberDispatcher {
  return new SubscriberDispatcher({
    store,
    clock,
    logger: memoryLogger(),
    subscribers: [{ url: URL, secret: 's' }],
    nodeId,
    random: () => 0,
    ...parts,
  });
}

async function settle(...dispatchers: SubscriberDispatcher[]): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.all(dispatchers.map((d) => d.whenIdle()));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Moves the clock in heartbeat-sized steps, letting each heartbeat's work finish. */
async function advance(clock: VirtualClock, ms: number, ...dispatchers: SubscriberDispatcher[]): Promise<void> {
  for (let left = ms; left > 0; left -= 1000) {
    clock.advance(Math.min(1000, left));
    await settle(...dispatchers);
  }
}

/**
 * Two nodes on one store: the first holds the lease, the second only looks; then the first stops and
 * the second takes over at once. Every event reaches the subscriber once, in inbox order.
 */
async function oneDeliveryPerEvent(storeOfA: Store, storeOfB: Store): Promise<void> {
  const clock = new VirtualClock();
  const received: Delivery[] = [];
  const a = dispatcher(storeOfA, clock, 'node-a', { fetch: receiver(received, 'node-a') });
  const b = dispatcher(storeOfB, clock, 'node-b', { fetch: receiver(received, 'node-b') });
  await a.start();
  await b.start();
  const ids: string[] = [];
  for (let burst = 0; burst < 10; burst++) {
    for (let i = 0; i < 10; i++) ids.push(await emitted(i % 2 ? storeOfA : storeOfB));
    await emitted(storeOfA, 'com.gitlab.events.push', 'https://gitlab.example.com');
    a.notify();
    b.notify();
    if (burst % 3 === 0) await advance(clock, 1000, a, b);
  }
  await settle(a, b);
  await a.stop();
  for (let i = 0; i < 20; i++) ids.push(await emitted(storeOfB));
  b.notify();
  await advance(clock, 1000, b);
  await settle(b);
  await b.stop();
  assert.deepEqual(
    received.map((delivery) => delivery.id),
    ids,
    'each event once, in inbox order',
  );
  assert.ok(
    received.slice(0, 100).every((delivery) => delivery.node === 'node-a'),
    'the lease holder delivered while it ran',
  );
  assert.ok(
    received.slice(100).every((delivery) => delivery.node === 'node-b'),
    'the other node took over once the lease was handed back',
  );
}

describe('subscribers on several nodes', () => {
  test('two dispatchers on one memory store deliver each event once, in inbox order', async () => {
    const store = createMemoryStore();
    await store.migrate();
    await oneDeliveryPerEvent(store, store);
  });

  test('two dispatchers on one SQLite database deliver each event once, in inbox order', async () => {
    const path = join(dir, 'two-nodes.db');
    const [first, second] = [createSqliteStore({ path }), createSqliteStore({ path })];
    await first.migrate();
    await second.migrate();
    try {
      await oneDeliveryPerEvent(first, second);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('a node that froze mid-POST is taken over once its lease lapses, and cannot move the mark afterwards', async () => {
    const store = createMemoryStore();
    await store.migrate();
    // Each node has its own clock: the frozen node's stands still, so it renews nothing.
    const clockOfA = new VirtualClock();
    const clockOfB = new VirtualClock();
    const received: Delivery[] = [];
    let unfreeze: (() => void) | undefined;
    const accept = receiver(received, 'node-a');
    const fetchOfA: typeof fetch = async (url, init) => {
      if ((JSON.parse(init!.body as string) as CloudEvent).id === third) await new Promise<void>((resolve) => (unfreeze = resolve));
      return accept(url, init);
    };
    const loggerOfA = memoryLogger();
    const a = dispatcher(store, clockOfA, 'node-a', { fetch: fetchOfA, logger: loggerOfA });
    const b = dispatcher(store, clockOfB, 'node-b', { fetch: receiver(received, 'node-b') });
    await a.start();
    await b.start();
    const [first, second, third] = [await emitted(store), await emitted(store), await emitted(store)];
    a.notify();
    b.notify();
    await new Promise((resolve) => setImmediate(resolve));
    await settle(b);
    assert.ok(unfreeze, 'node A is in the middle of the third POST');
    assert.deepEqual(received, [
      { node: 'node-a', id: first },
      { node: 'node-a', id: second },
    ]);

    await advance(clockOfB, 29_000, b);
    assert.equal(received.length, 2, 'node B waits while the lease of node A runs');
    await advance(clockOfB, 2000, b);
    const fourth = await emitted(store);
    b.notify();
    await settle(b);
    assert.deepEqual(received.slice(2), [
      { node: 'node-b', id: third },
      { node: 'node-b', id: fourth },
    ]);

    // Node A wakes up: its POST completes, but the mark is no longer its to move.
    unfreeze();
    await settle(a);
    assert.equal(await store.getScheduleTick(`subscriber:${URL}`), 4);
    assert.ok(
      loggerOfA.entries.some((entry) => entry.level === 'warn' && entry.message.includes('this node stopped delivering to subscriber')),
    );
    const fifth = await emitted(store);
    a.notify();
    b.notify();
    await settle(a, b);
    assert.deepEqual(
      received.filter((delivery) => delivery.id !== third).map((delivery) => delivery.id),
      [first, second, fourth, fifth],
      'every other event once, in order',
    );
    assert.deepEqual(
      received.filter((delivery) => delivery.id === third).map((delivery) => delivery.node),
      ['node-b', 'node-a'],
      'only the event in flight when node A froze came twice',
    );
    assert.equal(received.at(-1)?.node, 'node-b', 'node A delivered nothing after it lost the lease');
    await a.stop();
    await b.stop();
  });
});

test('a subscriber new to the database is told to start at the end of the inbox, once; a changed URL makes a new one', async () => {
  const store = createMemoryStore();
  await store.migrate();
  const clock = new VirtualClock();
  const newSubscriberLines = (logger: ReturnType<typeof memoryLogger>) =>
    logger.entries.filter((entry) => entry.message.includes('is new to this database')).map((entry) => [entry.level, entry.message]);
  const told = (name: string, seq: number) => [
    'info',
    `subscriber ${name} is new to this database: it is sent the events emitted from now on, after inbox event ${seq}. ` +
      "A subscriber is known by its url: if this one's url was changed, the events its old url had not been sent stay behind " +
      '(docs/deploy.md#outgoing-subscribers says how to carry its place over)',
  ];
  const startWith = async (url: string) => {
    const logger = memoryLogger();
    const node = dispatcher(store, clock, 'local', { logger, subscribers: [{ url, secret: 's' }], fetch: receiver([], 'local') });
    await node.start();
    return { node, logger };
  };

  await emitted(store);
  const first = await startWith('http://127.0.0.1:18450/hook');
  assert.deepEqual(newSubscriberLines(first.logger), [told('http://127.0.0.1:18450/…#6fc2d0', 1)]);
  await first.node.stop();

  await emitted(store);
  const restarted = await startWith('http://127.0.0.1:18450/hook');
  assert.deepEqual(newSubscriberLines(restarted.logger), [], 'its mark is there: it resumes, and nothing is said');
  await restarted.node.stop();

  const moved = await startWith('http://localhost:18450/hook');
  assert.deepEqual(newSubscriberLines(moved.logger), [told('http://localhost:18450/…#6fc2d0', 2)]);
  await moved.node.stop();
});

test('a subscriber URL with credentials is delivered to, the credentials sent as Basic authorization and not in the URL', async () => {
  const requests: Array<{ url: string | undefined; authorization: string | undefined }> = [];
  const server = createServer((request, response) => {
    requests.push({ url: request.url, authorization: request.headers.authorization });
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const store = createMemoryStore();
    await store.migrate();
    const clock = new VirtualClock();
    const node = dispatcher(store, clock, 'local', {
      subscribers: [{ url: `http://hooks%40ci:p%3Ass@127.0.0.1:${port}/in?team=a`, secret: 's' }],
    });
    await node.start();
    await emitted(store);
    node.notify();
    await settle(node);
    assert.deepEqual(requests, [{ url: '/in?team=a', authorization: `Basic ${Buffer.from('hooks@ci:p:ss').toString('base64')}` }]);
    await node.stop();
  } finally {
    server.close();
  }
});

await testOnPostgres('two dispatchers on one PostgreSQL database deliver each event once, in inbox order', async (url) => {
  const [first, second] = [createPostgresStore({ url }), createPostgresStore({ url })];
  try {
    await first.migrate();
    await second.migrate();
    await oneDeliveryPerEvent(first, second);
  } finally {
    await first.close();
    await second.close();
  }
});
