import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { workflowFolder } from '../../../../test/helpers/workflow-files.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../../app/runtime.js';
import { createMemoryLogger } from '../../testing/fake-operations.js';
import { call } from '../../testing/request.js';
import { createApp } from '../app.js';

const WORKFLOW = (name: string) => `import { workflow } from 'autoflow';
export default workflow({ name: '${name}', triggers: [{ cron: '7 14 * * *' }], permissions: {}, async run() { return 'ran'; } });
`;

/** `POST /api/v1/runs` with an id a schedule or a trigger will give a run: refused, so none can keep that run from starting. */
describe('POST /api/v1/runs with the id of a run a schedule or a trigger starts', () => {
  const folder = workflowFolder({ 'cron-wf.ts': WORKFLOW('cron-wf'), 'team-b.ts': WORKFLOW('team-b') });
  let runtime: Runtime;
  let app: ReturnType<typeof createApp>;

  before(async () => {
    runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: folder.dir, apiToken: 'test-token' }));
    await runtime.start();
    app = createApp({ operations: runtime.operations, logger: createMemoryLogger() });
  });
  after(async () => {
    await runtime.stop();
    folder.remove();
  });

  for (const [id, shape] of [
    ['cron-wf@2026-12-07T14:07:00.000Z', 'an id ending in @ and an ISO time is the one a schedule gives the run it starts at that time'],
    ['cron-wf:2@2026-12-07T14:07:00.000Z', 'an id ending in @ and an ISO time is the one a schedule gives the run it starts at that time'],
    ['cron-wf-0123456789abcdef', 'an id ending in - and 16 hex digits is the one a trigger gives the run an event starts'],
  ] as const) {
    test(`${id}: 400 naming the shape, and no run`, async () => {
      for (const workflow of ['team-b', 'cron-wf']) {
        const refused = await call(app, 'POST', '/api/v1/runs', { body: { workflow, id } });
        assert.equal(refused.status, 400, workflow);
        assert.equal(refused.body.error.message, `run id is invalid: id: ${shape}: end it otherwise`);
      }
      assert.equal((await call(app, 'GET', `/api/v1/runs/${encodeURIComponent(id)}`)).status, 404);
    });
  }

  test('ids that only look alike are taken: an @ without an ISO time, 15 hex digits, a UUID', async () => {
    for (const id of ['deploy@2026-12-07', 'cron-wf-0123456789abcde', '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0']) {
      const started = await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'team-b', id } });
      assert.equal(started.status, 201, `${id}: ${JSON.stringify(started.body)}`);
    }
  });
});
