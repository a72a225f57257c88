import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ConflictError, ValidationError } from '../../src/core/errors.js';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/** A client that retries a signal it is not sure arrived (a timeout, a dropped connection) sends it under one key. */
const folder = workflowFolder({
  'collect.ts': `import { signal, workflow } from 'autoflow';
export default workflow({
  name: 'collect',
  async run() {
    const got = [];
    for (let item = await signal('item', { timeout: '1h' }); item !== null; item = await signal('item', { timeout: '1h' })) got.push(item);
    return got;
  },
});`,
});
after(() => folder.remove());

test('a signal sent again under its idempotency key is delivered once, and the resend says where the first went', async () => {
  const env = await createTestEnv({ workflows: [folder.path('collect.ts')] });
  try {
    const id = await env.start('collect');
    assert.deepEqual(await env.operations.signalRun(id, 'item', 'a', { idempotencyKey: 'k-1' }), { runId: id, duplicate: false });
    assert.deepEqual(await env.operations.signalRun(id, 'item', 'a', { idempotencyKey: 'k-1' }), { runId: id, duplicate: true });
    // Two at once: one is stored first, the other is its duplicate.
    const both = await Promise.all([1, 2].map(() => env.operations.signalRun(id, 'item', 'b', { idempotencyKey: 'k-2' })));
    assert.deepEqual(both.map((delivery) => delivery.duplicate).sort(), [false, true]);
    // A key belongs to one signal name: the same key under another name is another signal.
    await env.operations.signalRun(id, 'other', 'x', { idempotencyKey: 'k-1' });
    await env.operations.signalRun(id, 'item', 'c');
    await env.operations.signalRun(id, 'item', 'c');
    await env.advance('2h');
    const run = await env.result(id);
    assert.deepEqual([run.status, run.result], ['completed', ['a', 'b', 'c', 'c']], 'unkeyed signals are each delivered');

    // The client's retry may come after the run ended: it hears that its signal was delivered, not a 409.
    assert.deepEqual(await env.operations.signalRun(id, 'item', 'a', { idempotencyKey: 'k-1' }), { runId: id, duplicate: true });
    await assert.rejects(
      env.operations.signalRun(id, 'item', 'a', { idempotencyKey: 'k-3' }),
      /is completed; only running, queued or stuck runs receive signals/,
    );
  } finally {
    await env.close();
  }
});

test('a key used again with another payload is refused, and a key that no header could carry is refused', async () => {
  const env = await createTestEnv({ workflows: [folder.path('collect.ts')] });
  try {
    const id = await env.start('collect');
    await env.operations.signalRun(id, 'item', { n: 1 }, { idempotencyKey: 'order-7' });
    await assert.rejects(
      env.operations.signalRun(id, 'item', { n: 2 }, { idempotencyKey: 'order-7' }),
      (error: unknown) =>
        error instanceof ConflictError &&
        error.message ===
          `Idempotency-Key 'order-7' was used before for signal 'item' to run ${id}, with another payload; send a new signal under a new key`,
    );
    for (const key of ['', 'has space', 'x'.repeat(256), 'naïve']) {
      await assert.rejects(
        env.operations.signalRun(id, 'item', 1, { idempotencyKey: key }),
        (error: unknown) => error instanceof ValidationError && /1–255 visible ASCII characters/.test(JSON.stringify(error)),
        JSON.stringify(key),
      );
    }
    await env.advance('2h');
    assert.deepEqual((await env.result(id)).result, [{ n: 1 }], 'neither the refused resend nor a refused key delivered anything');
  } finally {
    await env.close();
  }
});
