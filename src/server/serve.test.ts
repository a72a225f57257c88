import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createApp } from './http/app.js';
import { serve } from './serve.js';
import { createFakeOperations, createMemoryLogger } from './testing/fake-operations.js';

test('serves on a free port with port 0, and close() ends even a long poll in flight', async () => {
  const operations = createFakeOperations({ workflows: { slow: () => null }, runMs: 60_000 });
  const server = await serve(createApp({ operations, logger: createMemoryLogger() }), { port: 0, host: '127.0.0.1', shutdownGraceMs: 50 });
  assert.ok(server.port > 0);
  assert.equal(server.url, `http://127.0.0.1:${server.port}`);
  assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { ok: true, store: 'fake', workflows: 1 });

  await operations.startRun({ workflow: 'slow', id: 'held' });
  // Told when the server is holding the request: the long poll is then in flight.
  const held = new Promise<void>((resolve) => {
    const waitForRun = operations.waitForRun.bind(operations);
    operations.waitForRun = (id, timeoutMs) => {
      resolve();
      return waitForRun(id, timeoutMs);
    };
  });
  const poll = fetch(`${server.url}/api/v1/runs/held?wait=60`, { headers: { authorization: 'Bearer test-token' } }).catch(
    (error: unknown) => error,
  );
  await held;
  const started = Date.now();
  await server.close();
  assert.ok(Date.now() - started < 2000, 'close did not wait for the long poll to end');
  assert.ok((await poll) instanceof Error, 'the long poll was cut off');
  await assert.rejects(fetch(`${server.url}/healthz`));
  // The cut-off request's wait is still pending in this process; ending the run releases its timer.
  await operations.cancelRun('held');
});

test('a port in use is an error, not a hang', async () => {
  const app = createApp({ operations: createFakeOperations(), logger: createMemoryLogger() });
  const first = await serve(app, { port: 0, host: '127.0.0.1' });
  await assert.rejects(serve(app, { port: first.port, host: '127.0.0.1' }), /EADDRINUSE/);
  await first.close();
});
