import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunView } from '../../../app/operations.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../../app/runtime.js';
import { commit, newRun } from '../../../store/conformance/fixtures.js';
import { createMemoryLogger } from '../../testing/fake-operations.js';
import { call } from '../../testing/request.js';
import { createApp } from '../app.js';

type RunPage = { runs: RunView[]; nextCursor: string | null };

/** `GET /api/v1/runs?parent=`: the children of a run (a release train's services), over the real operations and store. */
describe('GET /api/v1/runs?parent=', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-runs-parent-'));
  let runtime: Runtime;
  let app: ReturnType<typeof createApp>;

  before(async () => {
    runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: dir, apiToken: 'test-token' }));
    await runtime.start();
    app = createApp({ operations: runtime.operations, logger: createMemoryLogger() });
    const store = runtime.store;
    await store.createRun(newRun('rel1', { workflow: 'release', createdAt: 1000 }));
    for (const [i, service] of ['api', 'web', 'db'].entries())
      await store.createRun(newRun(`rel1-${service}`, { workflow: 'deploy', parentId: 'rel1', parentStep: i + 1, createdAt: 1100 + i }));
    await store.createRun(newRun('rel1-api-migration', { workflow: 'migrate', parentId: 'rel1-api', parentStep: 1, createdAt: 1200 }));
    await store.createRun(newRun('rel2-api', { workflow: 'deploy', parentId: 'rel2', parentStep: 1, createdAt: 1300 }));
    const failed = await store.commitTask(
      commit('rel1-web', 0, 2000, { status: { status: 'failed', error: { name: 'Error', message: 'no' } } }),
    );
    assert.ok(failed.ok);
  });
  after(async () => {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const page = async (path: string) => {
    const response = await call<RunPage>(app, 'GET', path);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return { ids: response.body.runs.map((run) => run.id), nextCursor: response.body.nextCursor };
  };

  test("lists the run's children only, newest first, page by page and with the other filters", async () => {
    assert.deepEqual((await page('/api/v1/runs?parent=rel1')).ids, ['rel1-db', 'rel1-web', 'rel1-api']);
    const first = await page('/api/v1/runs?parent=rel1&limit=2');
    assert.deepEqual(first.ids, ['rel1-db', 'rel1-web']);
    assert.deepEqual(await page(`/api/v1/runs?parent=rel1&limit=2&cursor=${first.nextCursor}`), { ids: ['rel1-api'], nextCursor: null });
    assert.deepEqual((await page('/api/v1/runs?parent=rel1&status=failed')).ids, ['rel1-web']);
    assert.deepEqual((await page('/api/v1/runs?parent=rel1-api')).ids, ['rel1-api-migration']);
    assert.deepEqual((await page('/api/v1/runs?parent=nope')).ids, []);
  });

  test('an empty parent is a 400 that says what it takes', async () => {
    const response = await call(app, 'GET', '/api/v1/runs?parent=');
    assert.equal(response.status, 400);
    assert.deepEqual(response.body.error.issues, ['parent: a run id']);
  });
});
