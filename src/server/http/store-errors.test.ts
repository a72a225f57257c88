import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StoreError } from '../../core/errors.js';
import { createFakeOperations, createMemoryLogger } from '../testing/fake-operations.js';
import { call } from '../testing/request.js';
import { createApp } from './app.js';

const outage = () =>
  new StoreError('PostgreSQL at postgres://autoflow:****@db.internal:5432/autoflow did not answer a query within postgres.queryTimeoutMs');

function appWhoseStoreIsDown() {
  const operations = createFakeOperations({ workflows: { hello: (input) => ({ hello: input }) } });
  const logger = createMemoryLogger();
  const app = createApp({
    logger,
    operations: {
      ...operations,
      startRun: () => Promise.reject(outage()),
      ingestEvent: () => Promise.reject(outage()),
      health: () =>
        Promise.resolve({ ok: false, store: 'postgres', workflows: 1, reason: 'the postgres store did not answer within 2000 ms' }),
    },
  });
  return { app, logger };
}

describe('writes while the database is unavailable', () => {
  test('POST /api/v1/runs answers 503 with Retry-After, and does not show the database to the client', async () => {
    const { app } = appWhoseStoreIsDown();
    const response = await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', input: {} } });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
    assert.equal(response.body.error.code, 'store_unavailable');
    assert.match(response.body.error.message, /try again in a few seconds \(request [^)]+: the server log has the details\)/);
    assert.doesNotMatch(response.body.error.message, /db\.internal/);
  });

  test('POST /api/v1/events answers 503 with Retry-After, and the log has the store error', async () => {
    const { app, logger } = appWhoseStoreIsDown();
    const event = { specversion: '1.0', id: 'e-1', source: 'test', type: 'com.example.thing' };
    const response = await call(app, 'POST', '/api/v1/events', { body: event });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
    assert.ok(logger.entries.some((entry) => entry.level === 'error' && /answered 503/.test(entry.message ?? '')));
  });
});

describe('probes', () => {
  test('/livez answers 200 while /healthz reports the store down with a reason', async () => {
    const { app } = appWhoseStoreIsDown();
    const live = await call<{ ok: boolean }>(app, 'GET', '/livez', { token: null });
    assert.equal(live.status, 200);
    assert.deepEqual(live.body, { ok: true });
    const health = await call<{ ok: boolean; reason: string }>(app, 'GET', '/healthz', { token: null });
    assert.equal(health.status, 503);
    assert.match(health.body.reason, /did not answer within 2000 ms/);
  });
});
