import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import type { CloudEvent } from '../core/model.js';
import type { Store } from '../core/ports.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import { memoryLogger } from '../../test/helpers/memory-logger.js';
import { VirtualClock } from './clocks.js';
import { createMetrics } from './metrics.js';
import { subscriberName } from './subscriber-name.js';
import { SubscriberDispatcher, type Subscriber } from './subscribers.js';

const URL = 'https://hooks.example.com/autoflow?token=t0p';
const NAME = 'https://hooks.example.com/…#8dde8f';
const KEY = `subscriber:${URL}`;

async function emit(store: Store, id: string, type = 'com.example.done'): Promise<number> {
  const event: CloudEvent = { specversion: '1.0', id, source: 'autoflow:workflow/wf/r1', type, data: { id } };
  return (await store.insertEvent(event, `autoflow:workflow/wf/r1\n${id}`, Date.UTC(2026, 0, 5, 9))).seq;
}

const idOf = (init: RequestInit | undefined): string => (JSON.parse(init!.body as string) as CloudEvent).id;

/** A dispatcher to one subscriber answered by `answer`, on `store` (a new one, migrated, by default). */
async function setup(answer: (id: string) => Promise<Response>, subscriber: Partial<Subscriber> = {}, given?: Store) {
  const store = given ?? createMemoryStore();
  if (!given) await store.migrate();
  const clock = new VirtualClock();
  const logger = memoryLogger();
  const metrics = createMetrics({ store, clock, logger, nodeId: 'local', processMetrics: false });
  const received: string[] = [];
  const dispatcher = new SubscriberDispatcher({
    store,
    clock,
    logger,
    subscribers: [{ url: URL, secret: 's', ...subscriber }],
    random: () => 0,
    fetch: async (_url, init) => {
      const response = await answer(idOf(init));
      if (response.ok) received.push(idOf(init));
      return response;
    },
    onAttempt: (name, status) => metrics.subscriberAttempt(name, status),
  });
  metrics.attachSubscribers(() => dispatcher.backlog());
  await dispatcher.start();
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await dispatcher.whenIdle();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { store, clock, logger, metrics, received, dispatcher, settle };
}

/** The value of one series of the exposition, found by its name and one label. */
function sample(text: string, name: string, label: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('a subscriber that refuses an event', () => {
  test('each failed attempt is logged with the event, status and next attempt, counted, and the lag shows; a mark moved by hand gets past it', async () => {
    const { store, clock, logger, metrics, received, dispatcher, settle } = await setup(async (id) =>
      id === 'poison' ? new Response('unknown tenant\n', { status: 404 }) : new Response(null, { status: 204 }),
    );
    await emit(store, 'fine');
    const poisoned = await emit(store, 'poison');
    await emit(store, 'later');
    dispatcher.notify();
    await settle();
    assert.deepEqual(received, ['fine']);
    clock.advance(500);
    await settle();
    assert.deepEqual(received, ['fine'], 'retried, and the later event waits');

    const failures = logger.entries.filter((entry) => entry.level === 'warn');
    assert.equal(failures.length, 2);
    const start = Date.UTC(2026, 0, 5, 9);
    const next = [new Date(start + 500).toISOString(), new Date(start + 500 + 1000).toISOString()];
    for (const [i, entry] of failures.entries()) {
      assert.deepEqual(entry.data, {
        subscriber: NAME,
        event: { seq: poisoned, type: 'com.example.done', id: 'poison' },
        failure: '404',
        attempt: i + 1,
        nextAttemptAt: next[i],
      });
      assert.equal(
        entry.message,
        `subscriber ${NAME} did not accept event ${poisoned} (com.example.done, id poison): HTTP 404 "unknown tenant"; attempt ${i + 1}, ` +
          `next at ${next[i]}. Its later events wait until this one is accepted (docs/deploy.md#outgoing-subscribers)`,
      );
    }
    assert.ok(!JSON.stringify(logger.entries).includes('t0p'), 'the query of the URL, which may hold a secret, is not logged');

    clock.advance(60_000);
    await settle();
    let text = await metrics.render();
    assert.equal(sample(text, 'autoflow_subscriber_delivery_failures_total', 'status="404"'), 3);
    assert.equal(sample(text, 'autoflow_subscriber_deliveries_total', `subscriber="${NAME}"`), 1);
    assert.equal(sample(text, 'autoflow_subscriber_lag_events', `subscriber="${NAME}"`), 2);
    assert.equal(sample(text, 'autoflow_subscriber_lag_seconds', `subscriber="${NAME}"`), 60.5);
    assert.equal(sample(text, 'autoflow_subscriber_lease_held', `subscriber="${NAME}"`), 1);

    // What docs/deploy.md tells an operator to do: move the mark past the event; the next attempt reads it.
    assert.equal(await store.advanceScheduleTick(KEY, poisoned), true);
    clock.advance(300_000);
    await settle();
    assert.deepEqual(received, ['fine', 'later']);
    text = await metrics.render();
    assert.equal(sample(text, 'autoflow_subscriber_lag_events', `subscriber="${NAME}"`), 0);
    assert.equal(sample(text, 'autoflow_subscriber_lag_seconds', `subscriber="${NAME}"`), 0);
    await dispatcher.stop();
  });

  test("a receiver's Retry-After is honoured: the next attempt waits that long, not the shorter back-off", async () => {
    let busy = true;
    const { store, clock, logger, received, dispatcher, settle } = await setup(async () =>
      busy ? new Response('slow down', { status: 429, headers: { 'retry-after': '120' } }) : new Response(null, { status: 204 }),
    );
    await emit(store, 'e1');
    dispatcher.notify();
    await settle();
    const [refused] = logger.entries.filter((entry) => entry.level === 'warn');
    assert.equal(refused!.data.nextAttemptAt, new Date(Date.UTC(2026, 0, 5, 9) + 120_000).toISOString());
    busy = false;
    clock.advance(60_000);
    await settle();
    assert.deepEqual(received, [], 'not before the two minutes it asked for');
    clock.advance(60_000);
    await settle();
    assert.deepEqual(received, ['e1']);
    await dispatcher.stop();
  });

  test('a connection that fails is logged with its root cause; a timeout says so', async () => {
    let failure: Error = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    const { store, clock, logger, metrics, dispatcher, settle } = await setup(() => Promise.reject(failure));
    const seq = await emit(store, 'e1');
    dispatcher.notify();
    await settle();
    failure = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    clock.advance(500);
    await settle();
    const [refused, timedOut] = logger.entries.filter((entry) => entry.level === 'warn');
    assert.match(
      refused!.message,
      new RegExp(`did not accept event ${seq} \\(com.example.done, id e1\\): fetch failed \\(connect ECONNREFUSED 127.0.0.1:9\\);`),
    );
    assert.equal(refused!.data.failure, 'network');
    assert.match(timedOut!.message, /: no answer within 10 s \(its timeoutMs\), so it is sent again: .*; attempt 2/);
    assert.equal(timedOut!.data.failure, 'timeout');
    const text = await metrics.render();
    assert.equal(sample(text, 'autoflow_subscriber_delivery_failures_total', 'status="network"'), 1);
    assert.equal(sample(text, 'autoflow_subscriber_delivery_failures_total', 'status="timeout"'), 1);
    await dispatcher.stop();
  });
});

test('a subscriber`s types are matched as triggers match theirs: exact, or a glob with *', async () => {
  const { store, received, dispatcher, settle } = await setup(() => Promise.resolve(new Response(null, { status: 204 })), {
    types: ['com.example.*', 'org.exact'],
  });
  await emit(store, 'a', 'com.example.released');
  await emit(store, 'b', 'com.example.build.failed');
  await emit(store, 'c', 'org.exact');
  await emit(store, 'd', 'org.exactly');
  await emit(store, 'e', 'com.other.released');
  dispatcher.notify();
  await settle();
  assert.deepEqual(received, ['a', 'b', 'c']);
  assert.equal(await store.getScheduleTick(KEY), 5, 'the events it has no use for are passed');
  await dispatcher.stop();
});

test("a Slack webhook's secret path is on neither /metrics nor the log, and its mark, under its URL, is where delivery goes on", async () => {
  const slack = 'https://hooks.slack.com/services/T0001/B0002/XyZsecret';
  const store = createMemoryStore();
  await store.migrate();
  // A mark an earlier version of the server left: the subscriber's place in the inbox, keyed by its URL as configured.
  await emit(store, 'sent-before');
  await store.advanceScheduleTick(`subscriber:${slack}`, await emit(store, 'sent-before-too'));
  await emit(store, 'new');
  const { logger, metrics, received, dispatcher, settle } = await setup(
    () => Promise.resolve(new Response(null, { status: 200 })),
    { url: slack },
    store,
  );
  dispatcher.notify();
  await settle();
  assert.deepEqual(received, ['new']);
  const text = await metrics.render();
  assert.equal(sample(text, 'autoflow_subscriber_deliveries_total', 'subscriber="https://hooks.slack.com/…#6b003e"'), 1);
  assert.ok(!text.includes('XyZsecret') && !text.includes('/services/'), 'the path is not on /metrics');
  assert.deepEqual(
    logger.entries.map((entry) => entry.message),
    ['this node delivers to subscriber https://hooks.slack.com/…#6b003e'],
  );
  assert.ok(!JSON.stringify(logger.entries).includes('XyZsecret'), 'nor in the log');
  await dispatcher.stop();
});

test('a subscriber is named by its scheme, host and port and a hash of its path, never its path, credentials, query or fragment, unless it is given a name', () => {
  const url = 'https://user:pw@hooks.example.com:8443/in/x?token=1#f';
  assert.equal(subscriberName({ url }), 'https://hooks.example.com:8443/…#950158');
  assert.equal(subscriberName({ url: 'https://hooks.example.com:8443/in/y' }), 'https://hooks.example.com:8443/…#539f08');
  assert.equal(subscriberName({ url: 'https://hooks.example.com/' }), 'https://hooks.example.com');
  assert.equal(subscriberName({ url, name: 'team-a' }), 'team-a');
});

interface HeldRequest {
  method: string;
  url: string;
  id: string | undefined;
  answer: (status: number, headers?: Record<string, string>) => void;
}

/**
 * A receiver on loopback whose requests to /hook wait for the test to answer them (any other path is accepted at once),
 * and a dispatcher that delivers to its /hook with the real fetch.
 */
async function loopbackSetup(subscriber: Partial<Subscriber> = {}) {
  const requests: HeldRequest[] = [];
  const arrivals: Array<() => void> = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const answer = (status: number, headers: Record<string, string> = {}): void => void response.writeHead(status, headers).end();
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        id: body === '' ? undefined : (JSON.parse(body) as CloudEvent).id,
        answer,
      });
      if (request.url !== '/hook') answer(204);
      arrivals.shift()?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store = createMemoryStore();
  await store.migrate();
  const clock = new VirtualClock();
  const logger = memoryLogger();
  const dispatcher = new SubscriberDispatcher({
    store,
    clock,
    logger,
    subscribers: [{ url: `${base}/hook`, secret: 's', ...subscriber }],
    random: () => 0,
  });
  await dispatcher.start();
  return {
    base,
    store,
    clock,
    logger,
    dispatcher,
    requests,
    /** Resolves once the receiver has had `count` requests in all. */
    received: (count: number) =>
      requests.length >= count ? Promise.resolve() : new Promise<void>((resolve) => arrivals.push(resolve)).then(() => undefined),
    settle: async () => {
      for (let i = 0; i < 3; i++) {
        await dispatcher.whenIdle();
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    close: async () => {
      await dispatcher.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a receiver on loopback', () => {
  test('a redirect is a failed attempt, logged with where it points, and not followed: the event is POSTed again, never sent on as a GET', async () => {
    const { base, store, clock, logger, dispatcher, requests, received, settle, close } = await loopbackSetup();
    try {
      const seq = await emit(store, 'e1');
      dispatcher.notify();
      await received(1);
      requests[0]!.answer(301, { location: '/moved?token=t0p' });
      await settle();
      assert.deepEqual(
        requests.map(({ method, url, id }) => [method, url, id]),
        [['POST', '/hook', 'e1']],
      );
      assert.equal(await store.getScheduleTick(`subscriber:${base}/hook`), seq - 1, 'the event is not counted delivered');
      const [refused] = logger.entries.filter((entry) => entry.level === 'warn');
      assert.equal(refused?.data.failure, '301');
      assert.match(
        refused?.message ?? '',
        new RegExp(
          `did not accept event ${seq} \\(com.example.done, id e1\\): HTTP 301 redirecting to ${base}/…#719091: redirects are not followed, set the subscriber's url to where it points; attempt 1`,
        ),
      );
      assert.doesNotMatch(refused?.message ?? '', /t0p/, 'the query of the Location, which may carry a secret along, is not logged');

      clock.advance(1000);
      await received(2);
      requests[1]!.answer(204);
      await settle();
      assert.deepEqual(
        requests.map(({ method, url, id }) => [method, url, id]),
        [
          ['POST', '/hook', 'e1'],
          ['POST', '/hook', 'e1'],
        ],
      );
      assert.equal(await store.getScheduleTick(`subscriber:${base}/hook`), seq);
    } finally {
      await close();
    }
  });

  test("an answer slower than the subscriber's timeoutMs is a failed attempt, and the event is POSTed again", async () => {
    const { clock, logger, dispatcher, store, requests, received, settle, close } = await loopbackSetup({ timeoutMs: 30_000 });
    try {
      await emit(store, 'e1');
      dispatcher.notify();
      await received(1);
      clock.advance(29_000);
      // Not settle(): it waits for the delivery, which waits for the receiver.
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        logger.entries.filter((entry) => entry.level === 'warn'),
        [],
        'within its timeoutMs, the receiver is waited for',
      );
      clock.advance(1000);
      await settle();
      const [timedOut] = logger.entries.filter((entry) => entry.level === 'warn');
      assert.equal(timedOut?.data.failure, 'timeout');
      assert.match(
        timedOut?.message ?? '',
        /: no answer within 30 s \(its timeoutMs\), so it is sent again: a receiver that accepted it late gets it twice; attempt 1/,
      );

      // The receiver finishes with the first POST too late; the second one comes all the same.
      requests[0]!.answer(204);
      clock.advance(1000);
      await received(2);
      requests[1]!.answer(204);
      await settle();
      assert.deepEqual(
        requests.map(({ id }) => id),
        ['e1', 'e1'],
      );
      assert.equal(logger.entries.filter((entry) => entry.level === 'warn').length, 1);
    } finally {
      await close();
    }
  });
});
