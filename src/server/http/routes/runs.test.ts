import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallView, RunView } from '../../../app/operations.js';
import type { HistoryEvent, LogRecord } from '../../../core/model.js';
import { createFakeOperations, createMemoryLogger } from '../../testing/fake-operations.js';
import { call } from '../../testing/request.js';
import { createApp } from '../app.js';

type RunPage = { runs: RunView[]; nextCursor: string | null };

function setup(runMs = 30) {
  const operations = createFakeOperations({
    runMs,
    workflows: {
      hello: (input, log) => {
        log('saying hello');
        return { hello: input };
      },
      boom: () => {
        throw new Error('it broke');
      },
    },
  });
  return { operations, app: createApp({ operations, logger: createMemoryLogger() }) };
}

describe('POST /api/v1/runs', () => {
  test('201 with the run when created, 200 with the same run when the id existed', async () => {
    const { app } = setup();
    const first = await call<RunView>(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', input: { name: 'Ada' }, id: 'order-1' } });
    assert.equal(first.status, 201);
    assert.equal(first.body.id, 'order-1');
    assert.equal(first.body.status, 'running');
    assert.deepEqual(first.body.input, { name: 'Ada' });
    const again = await call<RunView>(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', input: { name: 'Ada' }, id: 'order-1' } });
    assert.equal(again.status, 200);
    assert.deepEqual([again.body.id, again.body.createdAt], [first.body.id, first.body.createdAt], 'the existing run, not a new one');
  });

  test('without an id the server chooses one', async () => {
    const { app } = setup();
    const response = await call<RunView>(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello' } });
    assert.equal(response.status, 201);
    assert.equal(typeof response.body.id, 'string');
  });

  test('an unknown workflow is a 404', async () => {
    const { app } = setup();
    const response = await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'nope' } });
    assert.equal(response.status, 404);
    assert.equal(response.body.error.message, "workflow 'nope' does not exist; deployed: boom, hello");
    assert.deepEqual(response.body.error.details, { what: 'workflow', id: 'nope', hint: 'deployed: boom, hello' });
  });

  test('schema violations are a 400 listing each issue', async () => {
    const { app } = setup();
    const response = await call(app, 'POST', '/api/v1/runs', { body: { workflow: '', id: 7, inputs: {} } });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'invalid');
    assert.deepEqual(response.body.error.issues?.sort(), [
      '(root): Unrecognized key: "inputs"',
      'id: a run id',
      'workflow: a workflow name',
    ]);
    assert.match(response.body.error.message, /^invalid request body: /);
  });

  test('an empty body says what is expected', async () => {
    const { app } = setup();
    const response = await call(app, 'POST', '/api/v1/runs');
    assert.equal(response.status, 400);
    assert.deepEqual(response.body.error.issues, ['(root): a JSON object { workflow, input?, id? }']);
  });
});

describe('GET /api/v1/runs', () => {
  test('filters and pages, newest first, nextCursor null on the last page', async () => {
    const { app } = setup(10_000);
    for (const id of ['a', 'b', 'c']) await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id } });
    await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'boom', id: 'd' } });
    const first = await call<RunPage>(app, 'GET', '/api/v1/runs?workflow=hello&status=running&limit=2');
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.body.runs.map((run) => run.id),
      ['c', 'b'],
    );
    assert.equal(typeof first.body.nextCursor, 'string');
    const second = await call<RunPage>(app, 'GET', `/api/v1/runs?workflow=hello&limit=2&cursor=${String(first.body.nextCursor)}`);
    assert.deepEqual(
      second.body.runs.map((run) => run.id),
      ['a'],
    );
    assert.equal(second.body.nextCursor, null);
  });

  test('invalid query parameters are a 400 naming them', async () => {
    const { app } = setup();
    const response = await call(app, 'GET', '/api/v1/runs?status=sleeping&limit=0&version=f409');
    assert.equal(response.status, 400);
    assert.deepEqual(response.body.error.issues?.sort(), [
      'limit: an integer from 1 to 500',
      'status: one of queued, running, completed, failed, cancelled, continued, stuck',
      'version: a workflow version or its start: 6 to 64 hex digits, as `autoflow runs` and `autoflow workflows` print it',
    ]);
  });
});

describe('GET /api/v1/runs/:id', () => {
  test('returns the run; ?wait long-polls until it ends', async () => {
    const { app } = setup(100);
    await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id: 'w', input: 1 } });
    assert.equal((await call<RunView>(app, 'GET', '/api/v1/runs/w')).body.status, 'running');
    const started = Date.now();
    const waited = await call<RunView>(app, 'GET', '/api/v1/runs/w?wait=5');
    assert.equal(waited.status, 200);
    assert.equal(waited.body.status, 'completed');
    assert.deepEqual(waited.body.result, { hello: 1 });
    assert.ok(Date.now() - started < 4000, 'answered when the run ended, not at the timeout');
  });

  test('?wait returns the running run when the time is up', async () => {
    const { app } = setup(10_000);
    await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id: 'slow' } });
    const response = await call<RunView>(app, 'GET', '/api/v1/runs/slow?wait=0.05');
    assert.equal(response.body.status, 'running');
  });

  test('?wait is validated: 0 to 60 seconds', async () => {
    const { app } = setup();
    await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id: 'v' } });
    for (const bad of ['-1', '61', 'soon']) {
      const response = await call(app, 'GET', `/api/v1/runs/v?wait=${bad}`);
      assert.equal(response.status, 400, bad);
      assert.deepEqual(response.body.error.issues, ['wait: a number of seconds from 0 to 60']);
    }
    assert.equal((await call(app, 'GET', '/api/v1/runs/v?wait=0')).status, 200);
  });

  test('a failed run carries its error', async () => {
    const { app } = setup(1);
    await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'boom', id: 'f' } });
    const response = await call<RunView>(app, 'GET', '/api/v1/runs/f?wait=5');
    assert.equal(response.body.status, 'failed');
    assert.equal(response.body.error?.message, 'it broke');
  });
});

describe('history, logs, cancel, retry, signals', () => {
  test('history and logs of a finished run; ?after pages the logs', async () => {
    const { app } = setup(1);
    await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id: 'h' } });
    await call(app, 'GET', '/api/v1/runs/h?wait=5');
    const history = await call<{ events: HistoryEvent[] }>(app, 'GET', '/api/v1/runs/h/history');
    assert.deepEqual(
      history.body.events.map((event) => event.type),
      ['run_started', 'workflow_task', 'run_completed'],
    );
    const logs = await call<{ logs: LogRecord[] }>(app, 'GET', '/api/v1/runs/h/logs');
    assert.deepEqual(
      logs.body.logs.map((line) => line.message),
      ['saying hello'],
    );
    const [line] = logs.body.logs;
    assert.ok(line);
    assert.deepEqual((await call<{ logs: LogRecord[] }>(app, 'GET', `/api/v1/runs/h/logs?after=${line.index}`)).body.logs, []);
    assert.equal((await call(app, 'GET', '/api/v1/runs/h/logs?after=x')).status, 400);
    assert.equal((await call(app, 'GET', '/api/v1/runs/zzz/history')).status, 404);
  });

  test('?after and ?limit page the history; next is the after of the next page, null on the last', async () => {
    const { app } = setup(1);
    await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id: 'h' } });
    await call(app, 'GET', '/api/v1/runs/h?wait=5');
    const page = (query: string) => call<{ events: HistoryEvent[]; next: number | null }>(app, 'GET', `/api/v1/runs/h/history${query}`);
    const first = await page('?limit=2');
    assert.deepEqual([first.body.events.map((event) => event.type), first.body.next], [['run_started', 'workflow_task'], 1]);
    const last = await page(`?after=${first.body.next}&limit=2`);
    assert.deepEqual([last.body.events.map((event) => event.type), last.body.next], [['run_completed'], null]);
    assert.deepEqual((await page('')).body.next, null, 'a history shorter than a page is one page');
    for (const bad of ['?limit=0', '?limit=10001', '?after=-1', '?limit=two']) {
      const refused = await page(bad);
      assert.equal(refused.status, 400, bad);
    }
  });

  test("a run's open calls: attempts, last error and next attempt of a call being retried", async () => {
    const { operations } = setup();
    const open: CallView = {
      step: 1,
      capability: 'gitlab',
      method: 'issues.get',
      attempts: 3,
      nextAt: '2026-01-02T03:04:05.000Z',
      lastError: { name: 'GitLabUnavailableError', message: 'GET http://127.0.0.1:1/api/v4/user failed before GitLab answered' },
    };
    const app = createApp({
      operations: { ...operations, listCalls: async (id) => (id === 'r' ? [open] : operations.listCalls(id)) },
      logger: createMemoryLogger(),
    });
    assert.deepEqual((await call<{ calls: CallView[] }>(app, 'GET', '/api/v1/runs/r/calls')).body, { calls: [open] });
    assert.equal((await call(app, 'GET', '/api/v1/runs/zzz/calls')).status, 404);
  });

  test('cancel: the run, then 409 once it has ended', async () => {
    const { app } = setup(10_000);
    await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id: 'c' } });
    const cancelled = await call<RunView>(app, 'POST', '/api/v1/runs/c/cancel', { body: { reason: 'not needed' } });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    const again = await call(app, 'POST', '/api/v1/runs/c/cancel');
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'conflict');
    assert.equal((await call(app, 'POST', '/api/v1/runs/c/cancel', { body: { reason: 5 } })).status, 400);
  });

  test('retry: a failed run runs again, on the latest version when asked; 409 for a run that did not fail', async () => {
    const { app, operations } = setup(1);
    await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'boom', id: 'r' } });
    await call(app, 'GET', '/api/v1/runs/r?wait=5');
    const retried = await call<RunView>(app, 'POST', '/api/v1/runs/r/retry', { body: { version: 'latest' } });
    assert.equal(retried.status, 200);
    assert.equal(retried.body.status, 'running');
    assert.equal(retried.body.error, undefined);
    assert.deepEqual(operations.retries, [{ runId: 'r', latest: true }]);
    assert.equal((await call<RunView>(app, 'GET', '/api/v1/runs/r?wait=5')).body.status, 'failed', 'it broke again');
    assert.equal((await call(app, 'POST', '/api/v1/runs/r/retry')).status, 200, 'no body: its own version');
    assert.deepEqual(operations.retries.at(-1), { runId: 'r', latest: false });

    const invalid = await call(app, 'POST', '/api/v1/runs/r/retry', { body: { version: 'newest' } });
    assert.equal(invalid.status, 400);
    assert.deepEqual(invalid.body.error.issues, ["version: 'same' or 'latest'"]);
    await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id: 'ok' } });
    await call(app, 'GET', '/api/v1/runs/ok?wait=5');
    const conflict = await call(app, 'POST', '/api/v1/runs/ok/retry');
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.message, 'run ok is completed; only a failed or stuck run can be retried');
    assert.equal((await call(app, 'POST', '/api/v1/runs/nope/retry')).status, 404);
  });

  test('signals: the body is the payload, 202 with the run that got it', async () => {
    const { app, operations } = setup(10_000);
    await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id: 's' } });
    const response = await call(app, 'POST', '/api/v1/runs/s/signals/approve', { body: { by: 'ada' } });
    assert.deepEqual([response.status, response.body], [202, { runId: 's', duplicate: false }]);
    assert.equal((await call(app, 'POST', '/api/v1/runs/s/signals/ping')).status, 202);
    assert.deepEqual(operations.signals, [
      { runId: 's', name: 'approve', payload: { by: 'ada' } },
      { runId: 's', name: 'ping', payload: undefined },
    ]);
    assert.equal((await call(app, 'POST', '/api/v1/runs/nope/signals/approve')).status, 404);
  });
});
