/** Waits whose match holds a secret's value: stored with a hashed key (task.ts, correlation.ts), routed by it (router.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSecretSource } from '../capabilities/secrets.js';
import { cloudEvent, startRun } from '../store/conformance/fixtures.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import { isHashedShape, waitIndexEntry } from './correlation.js';
import type { Command, Json, StoredEvent } from './model.js';
import type { Logger, SecretSource } from './ports.js';
import { lookBack, planRouting } from './router.js';
import { holdsSecretValue } from './secrets.js';
import { waitRowsOf } from './task.js';

const TOKEN = 'cb-7d41f0c2a9e84b6f';
const secrets: SecretSource = createSecretSource({ CALLBACK_TOKEN: TOKEN });
const none: SecretSource = createSecretSource({});
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

const waitFor = (match: Record<string, Json>): Extract<Command, { kind: 'wait' }> => ({
  kind: 'wait',
  step: 1,
  eventType: 'com.example.thing',
  match,
  timeoutAt: 9000,
});

describe('holdsSecretValue', () => {
  test("is whether redaction would change the value: a secret's value anywhere in a string or a key", () => {
    assert.equal(holdsSecretValue([TOKEN], secrets), true);
    assert.equal(holdsSecretValue({ header: `Bearer ${TOKEN}` }, secrets), true);
    assert.equal(holdsSecretValue({ [TOKEN]: 1 }, secrets), true);
    assert.equal(holdsSecretValue(['cb-7d41f0c2', '{{secret:CALLBACK_TOKEN}}', 42, null], secrets), false);
    assert.equal(holdsSecretValue([TOKEN], none), false);
  });
});

describe('waitRowsOf', () => {
  test("a match that holds a secret's value is stored hashed: no value in the row, the same timeout", () => {
    for (const match of [{ 'data.token': TOKEN }, { 'data.auth': `Bearer ${TOKEN}`, 'data.id': 7 }] as Record<string, Json>[]) {
      const rows = waitRowsOf('r1', waitFor(match), 1000, secrets);
      assert.ok(isHashedShape(rows.wait.paths));
      assert.equal(JSON.stringify(rows).includes(TOKEN), false, JSON.stringify(rows));
      assert.deepEqual(rows.timeout, { runId: 'r1', step: 1, kind: 'wait_timeout', fireAt: 9000 });
    }
  });

  test('any other match is stored as before: its plain entry', () => {
    const match = { 'data.token': 'public', 'data.ref': '{{secret:CALLBACK_TOKEN}}' };
    for (const source of [secrets, none]) {
      const { wait } = waitRowsOf('r1', waitFor(match), 1000, source);
      assert.deepEqual({ paths: wait.paths, key: wait.key }, waitIndexEntry(match));
    }
    assert.deepEqual(waitRowsOf('r1', waitFor({ 'data.token': TOKEN }), 1000, none).wait.key, `["${TOKEN}"]`);
  });
});

describe('routing to a wait on a secret', () => {
  const parked = async (match: Record<string, Json>) => {
    const store = createMemoryStore();
    const { wait } = waitRowsOf('r1', waitFor(match), 1000, secrets);
    await startRun(store, 'r1', { waits: [wait] });
    return { store, wait };
  };
  const stored = async (store: ReturnType<typeof createMemoryStore>, id: string, data: Json): Promise<StoredEvent> => {
    const { seq } = await store.insertEvent(cloudEvent(id, 'com.example.thing', data), id, 2000);
    return { ...cloudEvent(id, 'com.example.thing', data), seq, receivedAt: 2000 };
  };

  test('reaches it with the event that carries the value, and with no other', async () => {
    const { store } = await parked({ 'data.token': TOKEN, 'data.id': 7 });
    const deliveries = async (data: Json) =>
      (
        await planRouting(store, await stored(store, JSON.stringify(data), data), [], 2000, {
          fingerprint: (text) => secrets.fingerprint(text),
        })
      ).deliveries;
    assert.deepEqual(await deliveries({ token: '{{secret:CALLBACK_TOKEN}}', id: 7 }), [], 'a reference typed by anyone');
    assert.deepEqual(await deliveries({ token: `${TOKEN}x`, id: 7 }), []);
    assert.deepEqual(await deliveries({ token: TOKEN, id: 8 }), []);
    assert.deepEqual(await deliveries({ token: TOKEN, id: 7, more: true }), [{ runId: 'r1', step: 1 }]);
  });

  test('a look back brings it the event that carried the value before it was registered', async () => {
    const { store, wait } = await parked({ 'data.token': TOKEN });
    await stored(store, 'other', { token: 'other' });
    await stored(store, 'carries', { token: TOKEN });
    const run = (await store.getRun('r1'))!;
    assert.equal(await lookBack(store, silent, run, [{ wait, from: 0 }], (text) => secrets.fingerprint(text)), true);
    assert.deepEqual(
      (await store.loadPending('r1')).map((pending) => pending.resolution),
      [{ kind: 'wait', step: 1, event: cloudEvent('carries', 'com.example.thing', { token: TOKEN }) }],
    );
  });
});
