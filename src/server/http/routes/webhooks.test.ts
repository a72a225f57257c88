/**
 * `POST /webhooks/gitlab` on a real runtime (in-memory store): what a refused delivery tells the operator, and what a
 * delivery sent under two secrets (while a secret is rotated, docs/gitlab-events.md) stores and starts.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { workflowFolder } from '../../../../test/helpers/workflow-files.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../../app/runtime.js';
import type { WebhookSource } from '../../../gitlab/webhook-auth.js';
import { createMemoryLogger } from '../../testing/fake-operations.js';
import { createApp } from '../app.js';

const folder = workflowFolder({
  'on-issue.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'on-issue', triggers: [{ event: 'com.gitlab.events.issue_updated' }], async run() {} });`,
});
const runtimes: Runtime[] = [];
after(async () => {
  for (const runtime of runtimes) await runtime.stop();
  folder.remove();
});

const INSTANCE = 'https://gitlab.example.com';

async function server(webhookSources: WebhookSource[]) {
  const logger = createMemoryLogger();
  const runtime = await createRuntime(
    embeddedRuntimeConfig({
      db: { kind: 'memory' },
      workflowsDir: folder.dir,
      workflowFiles: [folder.path('on-issue.ts')],
      webhookSources,
    }),
    { logger },
  );
  runtimes.push(runtime);
  await runtime.start();
  const app = createApp({ operations: runtime.operations, logger });
  /** A delivery as GitLab sends it: with its Content-Length, and the headers given. */
  const deliver = (body: string, headers: Record<string, string>) =>
    app.request('/webhooks/gitlab', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
    });
  const warnings = () => logger.entries.filter((entry) => entry.level === 'warn').map((entry) => entry.message ?? '');
  return { runtime, logger, deliver, warnings };
}

const issueUpdated = JSON.stringify({
  object_kind: 'issue',
  event_type: 'issue',
  user: { username: 'alice' },
  project: { id: 1, path_with_namespace: 'acme/app', web_url: `${INSTANCE}/acme/app` },
  object_attributes: { iid: 7, action: 'update', updated_at: '2026-01-05 09:00:00 UTC', url: `${INSTANCE}/acme/app/-/issues/7` },
});
const CHECK =
  "check that the hook's Secret token in GitLab equals AUTOFLOW_GITLAB_WEBHOOK_SECRET or the secret of one of webhookSources in autoflow.config.ts";

test('a delivery refused for its token is a warning naming the hook, the reason and what to check, never the token', async () => {
  const { deliver, warnings, logger } = await server([{ name: 'gitlab', secret: 'the-new-secret', instanceUrl: INSTANCE }]);
  const wrong = await deliver(issueUpdated, { 'x-gitlab-token': 'the-old-secret', 'x-gitlab-event': 'Issue Hook' });
  assert.equal(wrong.status, 401);
  const missing = await deliver(issueUpdated, { 'x-gitlab-event': 'Issue Hook', 'x-gitlab-instance': INSTANCE });
  assert.equal(missing.status, 401);
  assert.deepEqual(warnings(), [
    `refused a GitLab webhook (Issue Hook about acme/app at ${INSTANCE}) with 401: no webhook source's secret matches its ` +
      `X-Gitlab-Token (a wrong secret, or one changed on one side only); ${CHECK}`,
    `refused a GitLab webhook (Issue Hook about acme/app at ${INSTANCE}) with 401: it has no X-Gitlab-Token header ` +
      `(the hook has no Secret token); ${CHECK}`,
  ]);
  assert.ok(!JSON.stringify(logger.entries).includes('the-old-secret'), 'the token received is in no log line');
});

test('a refused delivery whose body is large or is not JSON is named by its headers alone; the body is not read', async () => {
  const { deliver, warnings } = await server([{ name: 'gitlab', secret: 'the-new-secret' }]);
  const large = `{"project":{"path_with_namespace":"acme/app"},"padding":"${' '.repeat(65 * 1024)}"}`;
  assert.equal((await deliver(large, { 'x-gitlab-token': 'nope', 'x-gitlab-event': 'Push Hook' })).status, 401);
  const broken = await deliver('{"object_kind":', { 'x-gitlab-token': 'nope', 'x-gitlab-instance': `${INSTANCE}/` });
  assert.equal(broken.status, 401);
  assert.deepEqual(
    warnings().map((message) => message.slice(0, message.indexOf(' with 401'))),
    ['refused a GitLab webhook (Push Hook)', `refused a GitLab webhook (no X-Gitlab-Event header at ${INSTANCE})`],
  );
});

/** Runs on-issue has after one delivery was sent under the old secret and again under the new one. */
async function runsAfterResend(newSource: WebhookSource): Promise<{ events: number; runs: number }> {
  const { runtime, deliver } = await server([{ name: 'gitlab-old', secret: 'the-old-secret', instanceUrl: INSTANCE }, newSource]);
  const delivery = { 'x-gitlab-event': 'Issue Hook', 'idempotency-key': 'b6f1c3de-0c3a-4c2e-9d1f-7a1e2f3a4b5c' };
  assert.equal((await deliver(issueUpdated, { ...delivery, 'x-gitlab-token': 'the-old-secret' })).status, 202);
  assert.equal((await deliver(issueUpdated, { ...delivery, 'x-gitlab-token': newSource.secret })).status, 202);
  await runtime.engine.whenIdle();
  return {
    events: (await runtime.operations.listEvents({})).length,
    runs: (await runtime.operations.listRuns({ workflow: 'on-issue' })).runs.length,
  };
}

test('while a secret is rotated, one delivery resent under the other secret is stored twice and starts one run', async () => {
  assert.deepEqual(await runsAfterResend({ name: 'gitlab-new', secret: 'the-new-secret', instanceUrl: INSTANCE }), { events: 2, runs: 1 });
  // The run's id derives from the event's source, which names the instance: a source that names another is another run.
  assert.deepEqual(await runsAfterResend({ name: 'gitlab-new', secret: 'the-new-secret', instanceUrl: 'https://gitlab.internal' }), {
    events: 2,
    runs: 2,
  });
});
