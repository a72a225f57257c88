import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capabilityContext } from '../../test/helpers/capability-context.js';
import { CapabilityError } from '../core/errors.js';
import type { CloudEvent } from '../core/model.js';
import { createEmitCapability } from './emit.js';

const context = capabilityContext();

/** `chains`: how many emits led to each run's trigger event, as the app layer reads it from the store (0 for others). */
function capability(chains: Record<string, number> = {}) {
  const stored: CloudEvent[] = [];
  const emit = createEmitCapability(
    (event) => {
      stored.push(event);
      return Promise.resolve({ seq: stored.length, duplicate: false });
    },
    { chainOf: (runId) => Promise.resolve(chains[runId] ?? 0) },
  );
  return { emit, stored };
}

test("the host refuses a type with '*' or spaces, as the events API does, for good and saying that globs belong in triggers", async () => {
  const { emit, stored } = capability();
  for (const type of ['com.example.*', 'com.example.order created', 'com.example.x\n']) {
    const error = await emit.invoke('emit', { type, data: null }, context).catch((caught: unknown) => caught);
    assert.ok(error instanceof CapabilityError && !error.retryable, String(error));
    assert.equal(error.code, 'invalid_arguments');
    assert.match(error.message, /type: must be one exact event type, without '\*' or spaces.*globs belong in a workflow's triggers/);
  }
  assert.equal(stored.length, 0);
  assert.deepEqual(await emit.invoke('emit', { type: 'com.example.order.created', data: { id: 1 } }, context), { id: 'r1:1', seq: 1 });
  assert.equal(stored[0]?.type, 'com.example.order.created');
});

test('data that nests too deep is refused for good, before it reaches the inbox', async () => {
  const { emit, stored } = capability();
  let data: unknown = 1;
  for (let i = 0; i < 1_500; i++) data = [data];
  const error = await emit.invoke('emit', { type: 'com.example.deep', data: data as never }, context).catch((caught: unknown) => caught);
  assert.ok(error instanceof CapabilityError && !error.retryable, String(error));
  assert.match(error.message, /emit\('com\.example\.deep'\): data: nests arrays and objects more than 128 levels deep/);
  assert.equal(stored.length, 0);
});

test('an emitted event carries one more emit in its chain than the event that started the run (autoflowchain)', async () => {
  const { emit, stored } = capability({ r1: 3 });
  await emit.invoke('emit', { type: 'com.example.next' }, context);
  await emit.invoke('emit', { type: 'com.example.next' }, capabilityContext({ runId: 'by-hand', idempotencyKey: 'by-hand:1' }));
  assert.deepEqual(
    stored.map((event) => [event.id, (event as CloudEvent & { autoflowchain?: number }).autoflowchain]),
    [
      ['r1:1', 4],
      ['by-hand:1', 1],
    ],
  );
});

test('a type or subject holding text no store can keep is refused for good, naming the field', async () => {
  const { emit, stored } = capability();
  for (const [args, field] of [
    [{ type: 'com.example.a\u0000b', data: null }, 'type'],
    [{ type: 'com.example.ok', data: null, subject: 'half \ud800 of a pair' }, 'subject'],
  ] as const) {
    const error = await emit.invoke('emit', args, context).catch((caught: unknown) => caught);
    assert.ok(error instanceof CapabilityError && !error.retryable, String(error));
    assert.match(error.message, new RegExp(`${field}: a (NUL character|lone surrogate)`));
  }
  assert.equal(stored.length, 0);
});
