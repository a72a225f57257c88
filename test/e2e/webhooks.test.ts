import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../src/app/runtime.js';
import type { Logger } from '../../src/core/ports.js';
import { createApp } from '../../src/server/http/app.js';
import { loadGitLabWebhookFixtures } from '../fixtures/gitlab-webhooks/index.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/** Every documented GitLab webhook payload, through the real HTTP route into the real inbox. */
const SECRET = 'hook-secret';
const folder = workflowFolder({
  'on-issue.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'on-issue',
  triggers: [{ event: 'com.gitlab.events.issue_*' }],
  async run(event: { type: string; subject?: string }) { return { type: event.type, subject: event.subject ?? null }; },
});`,
});
const logger = pino({ level: 'silent' }) as unknown as Logger;
let runtime: Runtime;
let app: ReturnType<typeof createApp>;

before(async () => {
  runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: folder.dir, apiToken: 'api', gitlabWebhookSecret: SECRET }), {
    logger,
  });
  await runtime.start();
  app = createApp({ operations: runtime.operations, logger });
});
after(async () => {
  await runtime.stop();
  folder.remove();
});

function deliver(body: string, headers: Record<string, string>) {
  return app.request('/webhooks/gitlab', { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

async function inboxSize(): Promise<number> {
  return (await runtime.operations.listEvents({ limit: 500 })).length;
}

describe('POST /webhooks/gitlab', () => {
  const fixtures = loadGitLabWebhookFixtures();

  test('the fixture folder is not empty', () => {
    assert.ok(fixtures.length >= 28, `${fixtures.length} fixtures`);
  });

  for (const fixture of fixtures) {
    test(`${fixture.file}: stored once as a CloudEvent, refused with a wrong token or a truncated body`, async () => {
      const key = `key-${fixture.file}`;
      const headers = { 'x-gitlab-event': fixture.header, 'idempotency-key': key };
      const before = await inboxSize();

      const wrong = await deliver(fixture.body, { ...headers, 'x-gitlab-token': 'not-the-secret' });
      assert.equal(wrong.status, 401);
      const missing = await deliver(fixture.body, headers);
      assert.equal(missing.status, 401);
      const truncated = await deliver(fixture.body.slice(0, Math.floor(fixture.body.length / 2)), { ...headers, 'x-gitlab-token': SECRET });
      assert.equal(truncated.status, 400);
      assert.match(((await truncated.json()) as { error: { message: string } }).error.message, /JSON/);
      assert.equal(await inboxSize(), before, 'nothing stored for refused deliveries');

      const first = await deliver(fixture.body, { ...headers, 'x-gitlab-token': SECRET });
      assert.equal(first.status, 202);
      const accepted = (await first.json()) as { seq: number; type: string; duplicate: boolean };
      assert.match(accepted.type, /^com\.gitlab\.events\.[a-z_]+$/);
      const again = await deliver(fixture.body, { ...headers, 'x-gitlab-token': SECRET });
      assert.equal(again.status, 200);
      assert.deepEqual(await again.json(), { ...accepted, duplicate: true });
      assert.equal(await inboxSize(), before + 1, 'a redelivery is one event');

      const [stored] = await runtime.operations.listEvents({ limit: 1 });
      assert.equal(stored?.type, accepted.type);
      assert.equal(stored?.id, key);
      assert.deepEqual(stored?.data, JSON.parse(fixture.body));
    });
  }

  test('an issue webhook starts the workflow it triggers, once per delivery', async () => {
    const issue = fixtures.find((fixture) => fixture.file === 'note_issue.json' || fixture.header === 'Issue Hook');
    assert.ok(issue);
    const response = await deliver(issue.body, { 'x-gitlab-event': issue.header, 'x-gitlab-token': SECRET, 'idempotency-key': 'trigger-1' });
    assert.ok(response.status === 202 || response.status === 200);
    await runtime.engine.whenIdle();
    await new Promise((resolve) => setImmediate(resolve));
    await runtime.engine.whenIdle();
    const runs = (await runtime.operations.listRuns({ workflow: 'on-issue' })).runs;
    assert.ok(runs.some((run) => run.status === 'completed' && (run.result as { type: string }).type.startsWith('com.gitlab.events.issue_')));
  });

  test('a body over GitLab’s 25 MB limit is refused with 413', async () => {
    const response = await deliver(`{"x":"${'a'.repeat(26 * 1024 * 1024)}"}`, { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Issue Hook' });
    assert.equal(response.status, 413);
  });
});
