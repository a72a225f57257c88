import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError } from '../core/errors.js';
import type { HistoryEvent } from '../core/model.js';
import { createApp } from '../server/http/app.js';
import { serve, type RunningServer } from '../server/serve.js';
import { createFakeOperations, createMemoryLogger } from '../server/testing/fake-operations.js';
import { ApiError, createClient, ServerSilentError, ServerUnreachableError } from './client.js';

const operations = createFakeOperations({ workflows: { hello: () => 'hi', slow: () => null }, delays: { slow: 60_000 } });
let server: RunningServer;

before(async () => {
  server = await serve(createApp({ operations, logger: createMemoryLogger() }), { port: 0, host: '127.0.0.1', shutdownGraceMs: 0 });
});
after(() => server.close());

test('created is true for 201 and false for 200; waitForRun resolves when the run ends', async () => {
  const client = createClient({ url: `${server.url}/`, token: 'test-token' });
  const first = await client.startRun({ workflow: 'hello', id: 'c-1' });
  assert.equal(first.created, true);
  assert.equal((await client.startRun({ workflow: 'hello', id: 'c-1' })).created, false);
  const ended = await client.waitForRun('c-1', 5000);
  assert.equal(ended.status, 'completed');
  assert.equal(ended.result, 'hi');
});

test('waitForRun returns the running run once its time is up', async () => {
  const client = createClient({ url: server.url, token: 'test-token' });
  await client.startRun({ workflow: 'slow', id: 'c-slow' });
  assert.equal((await client.waitForRun('c-slow', 100)).status, 'running');
});

test('error responses become the typed errors they started as', async () => {
  const client = createClient({ url: server.url, token: 'test-token' });
  const missing = await client.getRun('nope').catch((error: unknown) => error);
  assert.ok(missing instanceof NotFoundError);
  assert.equal(missing.message, "run 'nope' does not exist");
  const unknown = await client.startRun({ workflow: 'nope' }).catch((error: unknown) => error);
  assert.ok(unknown instanceof NotFoundError);
  assert.equal(unknown.message, "workflow 'nope' does not exist; deployed: hello, slow");
  await assert.rejects(client.listRuns({ limit: 0 }), ValidationError);
  await client.startRun({ workflow: 'slow', id: 'c-cancel' });
  await client.cancelRun('c-cancel');
  await assert.rejects(client.cancelRun('c-cancel'), ConflictError);
  await assert.rejects(createClient({ url: server.url }).listWorkflows(), UnauthorizedError);
});

test('an answer that is not AutoFlow JSON is an ApiError naming the status', async () => {
  const proxy = createServer((_request, response) => response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>'));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const error = await createClient({ url })
    .listWorkflows()
    .catch((caught: unknown) => caught);
  proxy.close();
  assert.ok(error instanceof ApiError);
  assert.equal(error.status, 502);
  assert.equal(error.message, `${url} answered 502 Bad Gateway; is that an AutoFlow server?`);
});

test("a server older than the CLI, without the route of a run's calls, gives no calls rather than an error", async () => {
  const older = createServer((_request, response) =>
    response
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: { code: 'not_found', message: 'no route GET /api/v1/runs/r1/calls; the API lives under /api/v1' } })),
  );
  await new Promise<void>((resolve) => older.listen(0, '127.0.0.1', resolve));
  const client = createClient({ url: `http://127.0.0.1:${(older.address() as AddressInfo).port}`, token: 'test-token' });
  try {
    assert.deepEqual(await client.listCalls('r1'), []);
  } finally {
    older.close();
  }
  const missing = await createClient({ url: server.url, token: 'test-token' })
    .listCalls('nope')
    .catch((error: unknown) => error);
  assert.ok(missing instanceof NotFoundError, 'a missing run is still an error');
});

test("a run's history comes page after page, each from where the last ended; a server without pages sends it whole", async () => {
  const event = (seq: number): HistoryEvent => ({ seq, at: 0, type: 'workflow_task', time: seq });
  const asked: string[] = [];
  const pages = new Map<string, unknown>([
    ['', { events: [event(0), event(1)], next: 1 }],
    ['1', { events: [event(2), event(3)], next: 3 }],
    ['3', { events: [event(4)], next: null }],
  ]);
  const paging = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    asked.push(url.search);
    const body = url.pathname === '/api/v1/runs/r1/history' ? pages.get(url.searchParams.get('after') ?? '') : undefined;
    response.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
  });
  const older = createServer((_request, response) =>
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ events: [event(0), event(1), event(2)] })),
  );
  for (const server of [paging, older]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const clientOf = (server: typeof paging) =>
    createClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' });
  try {
    assert.deepEqual(await clientOf(paging).getHistory('r1'), [0, 1, 2, 3, 4].map(event));
    assert.deepEqual(asked, ['?limit=10000', '?after=1&limit=10000', '?after=3&limit=10000']);
    assert.deepEqual(await clientOf(older).getHistory('r1'), [0, 1, 2].map(event));
  } finally {
    paging.close();
    older.close();
  }
});

test('a server that is not there is a ServerUnreachableError', async () => {
  await assert.rejects(createClient({ url: 'http://127.0.0.1:9' }).listWorkflows(), ServerUnreachableError);
});

test('a server that takes the connection and never answers is a ServerSilentError after the timeout, not a hang', async () => {
  const silent = createNetServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const error = await createClient({ url, answerTimeoutMs: 200 })
      .listWorkflows()
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    assert.ok(error instanceof ServerSilentError, String(error));
    assert.equal(
      error.message,
      `AutoFlow at ${url} took the request but did not answer within 0.2 s; it may be stuck or overloaded: see its /livez and its logs`,
    );
  } finally {
    silent.close();
  }
});

test("'.' and '..' name no run: they are refused, not sent to another route", async () => {
  const client = createClient({ url: server.url, token: 'test-token' });
  for (const id of ['.', '..']) await assert.rejects(client.getRun(id), { name: 'NotFoundError', message: `run '${id}' does not exist` });
  await assert.rejects(client.retireWorkflow('..'), { name: 'NotFoundError' });
});

test('an id too long for a URL is refused as the usage error it is, not blamed on the server', async () => {
  const client = createClient({ url: server.url, token: 'test-token' });
  await assert.rejects(client.getRun('x'.repeat(20_000)), (error: unknown) => {
    assert.ok(error instanceof ValidationError, String(error));
    assert.match(error.message, /refused the request: its URL or headers are too large/);
    return true;
  });
});
