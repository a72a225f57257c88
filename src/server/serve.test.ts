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

test(
  'close() cuts a long poll at once, and lets any other request in flight answer: it may have stored what it was sent',
  { timeout: 10_000 },
  async () => {
    const operations = createFakeOperations({ workflows: { slow: () => null }, runMs: 60_000 });
    const server = await serve(createApp({ operations, logger: createMemoryLogger() }), {
      port: 0,
      host: '127.0.0.1',
      shutdownGraceMs: 60_000,
    });
    const headers = { authorization: 'Bearer test-token', 'content-type': 'application/json' };
    await operations.startRun({ workflow: 'slow', id: 'polled' });
    const polling = new Promise<void>((resolve) => {
      const waitForRun = operations.waitForRun.bind(operations);
      operations.waitForRun = (id, timeoutMs) => {
        resolve();
        return waitForRun(id, timeoutMs);
      };
    });
    let release = (): void => {};
    const storing = new Promise<void>((resolve) => {
      const startRun = operations.startRun.bind(operations);
      operations.startRun = async (request) => {
        resolve();
        await new Promise<void>((released) => (release = released));
        return startRun(request);
      };
    });
    const poll = fetch(`${server.url}/api/v1/runs/polled?wait=60`, { headers }).catch((error: unknown) => error);
    const post = fetch(`${server.url}/api/v1/runs`, { method: 'POST', headers, body: JSON.stringify({ workflow: 'slow', id: 'stored' }) });
    await Promise.all([polling, storing]);

    const closed = server.close();
    assert.ok((await poll) instanceof Error, 'the long poll was cut off at once');
    release();
    const answer = await post;
    assert.equal(answer.status, 201, 'the run it stored is answered');
    await closed;
    await operations.cancelRun('polled');
    await operations.cancelRun('stored');
  },
);
