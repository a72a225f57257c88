import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunView } from '../../../app/operations.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../../app/runtime.js';
import { endedRun } from '../../../store/conformance/fixtures.js';
import { createMemoryLogger } from '../../testing/fake-operations.js';
import { call } from '../../testing/request.js';
import { createApp } from '../app.js';

type RunPage = { runs: RunView[]; nextCursor: string | null };
const HOUR = 3_600_000;

/** `GET /api/v1/runs?order=updated&since=`: the latest failures first, over the real operations and store. */
describe('GET /api/v1/runs by when runs ended', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-runs-since-'));
  const now = Date.now();
  let runtime: Runtime;
  let app: ReturnType<typeof createApp>;

  before(async () => {
    runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: dir, apiToken: 'test-token' }));
    await runtime.start();
    app = createApp({ operations: runtime.operations, logger: createMemoryLogger() });
    await endedRun(runtime.store, 'started-days-ago', now - 72 * HOUR, now - 5 * 60_000);
    await endedRun(runtime.store, 'failed-2h-ago', now - 3 * HOUR, now - 2 * HOUR);
    for (let i = 0; i < 5; i++) await endedRun(runtime.store, `tied-${i}`, now - 24 * HOUR + i, now - HOUR / 2);
    await endedRun(runtime.store, 'done', now - HOUR, now - 60_000, 'completed');
  });
  after(async () => {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ids = async (path: string) => {
    const response = await call<RunPage>(app, 'GET', path);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.runs.map((run) => run.id);
  };

  test('a run created long ago that failed just now comes first; since excludes the failures before it', async () => {
    assert.deepEqual(await ids('/api/v1/runs?status=failed&order=updated&limit=3'), ['started-days-ago', 'tied-4', 'tied-3']);
    assert.equal((await ids('/api/v1/runs?status=failed')).at(-1), 'started-days-ago', 'by creation it comes last');
    const since = new Date(now - HOUR).toISOString();
    const recent = await ids(`/api/v1/runs?status=failed&order=updated&since=${since}`);
    assert.deepEqual(recent, ['started-days-ago', 'tied-4', 'tied-3', 'tied-2', 'tied-1', 'tied-0']);
    const offset = new Date(now - HOUR).toISOString().replace('Z', '+00:00');
    assert.deepEqual(await ids(`/api/v1/runs?status=failed&order=updated&since=${encodeURIComponent(offset)}`), recent);
    // Without the order, since is on the time of creation.
    assert.deepEqual(await ids(`/api/v1/runs?since=${new Date(now - 2 * HOUR).toISOString()}`), ['done']);
  });

  test('pages in that order without repeats or gaps', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/api/v1/runs?status=failed&order=updated&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`;
      const page: { status: number; body: RunPage } = await call<RunPage>(app, 'GET', path);
      seen.push(...page.body.runs.map((run) => run.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    assert.deepEqual(seen, ['started-days-ago', 'tied-4', 'tied-3', 'tied-2', 'tied-1', 'tied-0', 'failed-2h-ago']);
  });

  test('a bad since, an unknown order, or the order updated of runs that still run are a 400 that says what it takes', async () => {
    for (const since of ['yesterday', '2026-12-06T10:00:00', '2026-13-01', '1h']) {
      const response = await call<{ error: { message: string; details?: unknown } }>(
        app,
        'GET',
        `/api/v1/runs?order=updated&status=failed&since=${since}`,
      );
      assert.equal(response.status, 400, since);
      assert.match(JSON.stringify(response.body), /since: an ISO 8601 time with its zone \(2026-12-06T10:00:00Z/, since);
    }
    const order = await call(app, 'GET', '/api/v1/runs?order=ended');
    assert.equal(order.status, 400);
    assert.match(JSON.stringify(order.body), /order: 'created' or 'updated'/);
    const running = await call(app, 'GET', '/api/v1/runs?order=updated&status=running');
    assert.equal(running.status, 400);
    assert.match(JSON.stringify(running.body), /only with a status of runs that no longer advance/);
  });
});
