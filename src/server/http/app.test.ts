import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WorkflowView } from '../../app/operations.js';
import { createFakeOperations, createMemoryLogger } from '../testing/fake-operations.js';
import { call } from '../testing/request.js';
import { createApp } from './app.js';

function setup() {
  const operations = createFakeOperations({ workflows: { hello: (input) => ({ hello: input }) } });
  const logger = createMemoryLogger();
  return { operations, logger, app: createApp({ operations, logger }) };
}

describe('health', () => {
  test('GET /healthz needs no token', async () => {
    const { app } = setup();
    const response = await call(app, 'GET', '/healthz', { token: null });
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { ok: true, store: 'fake', workflows: 1 });
  });

  test('an unhealthy node answers 503', async () => {
    const { operations, logger } = setup();
    const app = createApp({
      operations: { ...operations, health: () => Promise.resolve({ ok: false, store: 'sqlite', workflows: 0 }) },
      logger,
    });
    assert.equal((await call(app, 'GET', '/healthz')).status, 503);
  });
});

describe('authentication', () => {
  test('a missing token is a 401 with the error shape', async () => {
    const { app } = setup();
    const response = await call(app, 'GET', '/api/v1/workflows', { token: null });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer');
    assert.equal(response.body.error.code, 'unauthorized');
    assert.match(response.body.error.message, /Authorization: Bearer <token>/);
  });

  test('a wrong token is a 401', async () => {
    const { app } = setup();
    const response = await call(app, 'GET', '/api/v1/runs', { token: 'guess' });
    assert.equal(response.status, 401);
    assert.equal(response.body.error.code, 'unauthorized');
    assert.match(response.body.error.message, /not valid/);
  });

  test('a malformed header is a 401', async () => {
    const { app } = setup();
    const response = await call(app, 'GET', '/api/v1/runs', { token: null, headers: { authorization: 'Basic dXNlcjpwdw==' } });
    assert.equal(response.status, 401);
  });

  test('the right token passes', async () => {
    const { app } = setup();
    const response = await call<{ workflows: WorkflowView[] }>(app, 'GET', '/api/v1/workflows');
    assert.equal(response.status, 200);
    assert.deepEqual(
      response.body.workflows.map((workflow) => workflow.name),
      ['hello'],
    );
  });
});

describe('errors', () => {
  test('an unknown route is a JSON 404', async () => {
    const { app } = setup();
    const response = await call(app, 'GET', '/api/v1/nothing');
    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, 'not_found');
    assert.match(response.body.error.message, /no route GET \/api\/v1\/nothing/);
  });

  test('a wrong method on an API route is a JSON 405 with the methods it answers in Allow', async () => {
    const { app } = setup();
    for (const [method, path, allow] of [
      ['DELETE', '/api/v1/runs/x', 'GET, HEAD'],
      ['PUT', '/api/v1/runs', 'GET, HEAD, POST'],
      ['GET', '/api/v1/runs/x/cancel', 'POST'],
      ['POST', '/api/v1/workflows', 'GET, HEAD'],
    ] as const) {
      const response = await call(app, method, path);
      assert.equal(response.status, 405, `${method} ${path}`);
      assert.equal(response.headers.get('allow'), allow);
      assert.equal(response.body.error.code, 'method_not_allowed');
      assert.equal(response.body.error.message, `${method} is not allowed on ${path}; it answers ${allow}`);
    }
    assert.equal((await call(app, 'DELETE', '/api/v1/runs/x', { token: null })).status, 401, 'the token is checked first');
    assert.equal((await call(app, 'DELETE', '/api/v1/nothing')).status, 404, 'no route at all is still a 404');
  });

  test('a path with a trailing slash is the path without it', async () => {
    const { app } = setup();
    const runs = await call<{ runs: unknown[] }>(app, 'GET', '/api/v1/runs/');
    assert.equal(runs.status, 200);
    assert.ok(Array.isArray(runs.body.runs));
    assert.equal((await call(app, 'GET', '/api/v1/workflows/')).status, 200);
    assert.equal((await call(app, 'POST', '/api/v1/runs/', { body: { workflow: 'hello' } })).status, 201);
    assert.equal((await call(app, 'PUT', '/api/v1/runs/')).headers.get('allow'), 'GET, HEAD, POST');
  });

  test('a known path outside /api answers a wrong method with a 405 too: the webhooks and the probes', async () => {
    const { app } = setup();
    for (const [method, path, allow] of [
      ['GET', '/webhooks/gitlab', 'POST'],
      ['PUT', '/webhooks/gitlab', 'POST'],
      ['POST', '/healthz', 'GET, HEAD'],
    ] as const) {
      const response = await call(app, method, path, { token: null });
      assert.equal(response.status, 405, `${method} ${path}`);
      assert.equal(response.headers.get('allow'), allow);
      assert.equal(response.body.error.message, `${method} is not allowed on ${path}; it answers ${allow}`);
    }
    assert.equal((await call(app, 'GET', '/webhooks/github', { token: null })).status, 404);
  });

  test('a 404 inside /api/v1 names the routes of the resource instead of pointing to /api/v1', async () => {
    const { app } = setup();
    const event = await call(app, 'GET', '/api/v1/events/24');
    assert.equal(event.status, 404);
    assert.equal(event.body.error.message, 'no route GET /api/v1/events/24; the routes there are GET /api/v1/events, POST /api/v1/events');
    const nothing = await call(app, 'GET', '/api/v1/nothing');
    assert.equal(
      nothing.body.error.message,
      'no route GET /api/v1/nothing: the API has no such path (README.md lists its routes, under "HTTP API")',
    );
    const outside = await call(app, 'GET', '/v1/runs', { token: null });
    assert.equal(outside.status, 404);
    assert.equal(outside.body.error.message, 'no route GET /v1/runs; the API lives under /api/v1');
  });

  test('wait above 60 s is a 400 naming the range, as README says', async () => {
    const { app, operations } = setup();
    await operations.startRun({ workflow: 'hello', id: 'waited' });
    const response = await call(app, 'GET', '/api/v1/runs/waited?wait=999');
    assert.equal(response.status, 400);
    assert.match(JSON.stringify(response.body), /wait: a number of seconds from 0 to 60/);
    assert.equal((await call(app, 'GET', '/api/v1/runs/waited?wait=60')).status, 200);
  });

  test('a typed error keeps its code, message and details', async () => {
    const { app } = setup();
    const response = await call(app, 'GET', '/api/v1/runs/missing');
    assert.equal(response.status, 404);
    assert.deepEqual(response.body, {
      error: { code: 'not_found', message: "run 'missing' does not exist", details: { what: 'run', id: 'missing' } },
    });
  });

  test('any other error is a 500 that does not leak internals, and is logged with the error', async () => {
    const { operations, logger } = setup();
    const failing = { ...operations, listWorkflows: () => Promise.reject(new Error('SQLITE_CORRUPT at /var/lib/secret.db')) };
    const app = createApp({ operations: failing, logger });
    const response = await call(app, 'GET', '/api/v1/workflows');
    assert.equal(response.status, 500);
    assert.equal(response.body.error.code, 'internal');
    assert.doesNotMatch(JSON.stringify(response.body), /SQLITE|secret/);
    const requestId = response.headers.get('x-request-id');
    assert.ok(requestId && response.body.error.message.includes(requestId), 'the message names the request id to look for in the log');
    const logged = logger.entries.find((entry) => entry.level === 'error');
    assert.ok(logged);
    assert.match(String((logged.data as { err: Error }).err.message), /SQLITE_CORRUPT/);
    assert.equal((logged.data as { requestId: string }).requestId, requestId);
  });

  test('malformed JSON is a 400 invalid_json', async () => {
    const { app } = setup();
    const response = await call(app, 'POST', '/api/v1/runs', { body: '{"workflow": "hello",' });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'invalid_json');
    assert.match(response.body.error.message, /^request body is not valid JSON: /);
  });

  test('a body that is not UTF-8 is a 400 invalid_json, not an input with U+FFFD where its bytes were', async () => {
    const { app, operations } = setup();
    const bytes = Buffer.concat([
      Buffer.from('{"workflow":"hello","id":"latin1","input":{"s":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}}'),
    ]);
    const response = await call(app, 'POST', '/api/v1/runs', { body: new Uint8Array(bytes) });
    assert.equal(response.status, 400);
    assert.deepEqual(response.body.error, { code: 'invalid_json', message: 'request body is not valid UTF-8: send JSON encoded as UTF-8' });
    await assert.rejects(operations.getRun('latin1'), /does not exist/, 'nothing was started');
  });

  test('a route without query parameters refuses one, as the others do', async () => {
    const { app, operations } = setup();
    await operations.startRun({ workflow: 'hello', id: 'q1' });
    for (const route of ['calls', 'retries']) {
      const response = await call(app, 'GET', `/api/v1/runs/q1/${route}?status=failed`);
      assert.equal(response.status, 400, route);
      assert.match(response.body.error.message, /status: not a parameter of this route, which takes none/);
    }
  });

  test('a body over the limit is a 413 with a clear message', async () => {
    const { app } = setup();
    const big = JSON.stringify({ workflow: 'hello', input: 'x'.repeat(1024 * 1024) });
    const response = await call(app, 'POST', '/api/v1/runs', { body: big });
    assert.equal(response.status, 413);
    assert.deepEqual(response.body, {
      error: { code: 'payload_too_large', message: 'request body is larger than the limit of 1048576 bytes' },
    });
  });

  test('the limit is configurable and checked against Content-Length too', async () => {
    const { operations, logger } = setup();
    const app = createApp({ operations, logger, maxBodyBytes: 10 });
    const body = JSON.stringify({ workflow: 'hello' });
    const response = await call(app, 'POST', '/api/v1/runs', { body, headers: { 'content-length': String(body.length) } });
    assert.equal(response.status, 413);
  });
});

test('every request is logged with method, path, status and duration', async () => {
  const { app, logger } = setup();
  await call(app, 'GET', '/api/v1/runs/nope');
  const line = logger.entries.find((entry) => entry.message === 'request');
  assert.ok(line);
  assert.equal(line.level, 'info');
  const data = line.data as Record<string, unknown>;
  assert.deepEqual([data.method, data.path, data.status], ['GET', '/api/v1/runs/nope', 404]);
  assert.equal(typeof data.ms, 'number');
  assert.equal(typeof data.requestId, 'string');
});
