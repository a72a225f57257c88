import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { loadGitLabWebhookFixtures } from '../fixtures/gitlab-webhooks/index.js';
import { workflowFolder } from '../helpers/workflow-files.js';
import { type Runtime, createRuntime, embeddedRuntimeConfig } from '../../src/app/runtime.js';
import type { WebhookSource } from '../../src/gitlab/webhook-auth.js';
import { createMemoryLogger } from '../../src/server/testing/fake-operations.js';
import { createApp } from '../../src/server/http/app.js';

/** `POST /webhooks/gitlab` on a real runtime (in-memory store): what a redelivery and a refusal answer. */

const folder = workflowFolder({});
const runtimes: Runtime[] = [];
after(async () => {
  for (const runtime of runtimes) await runtime.stop();
  folder.remove();
});

async function server(parts: { gitlabWebhookSecret?: string }, webhookSources: WebhookSource[] = []) {
  const logger = createMemoryLogger();
  const runtime = await createRuntime(
    embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: folder.dir, apiToken: 'api', ...parts }),
    {
      logger,
      webhookSources,
    },
  );
  runtimes.push(runtime);
  await runtime.start();
  const app = createApp({ operations: runtime.operations, logger });
  const deliver = async (body: string, headers: Record<string, string>) => {
    const response = await app.request('/webhooks/gitlab', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { deliver, logger };
}

const fixture = (file: string) => {
  const found = loadGitLabWebhookFixtures().find((candidate) => candidate.file === file);
  assert.ok(found, file);
  return found;
};

test('a redelivery under a stored key answers the stored event, and a different body is logged as a warning', async () => {
  const { deliver, logger } = await server({ gitlabWebhookSecret: 'hook-secret' });
  const note = fixture('note_issue.json');
  const push = fixture('push.json');
  const first = await deliver(note.body, { 'x-gitlab-token': 'hook-secret', 'x-gitlab-event': note.header, 'idempotency-key': 'k-123' });
  assert.deepEqual([first.status, first.body.duplicate, first.body.type], [202, false, 'com.gitlab.events.note_created']);

  const same = await deliver(note.body, { 'x-gitlab-token': 'hook-secret', 'x-gitlab-event': note.header, 'idempotency-key': 'k-123' });
  assert.deepEqual(same.body, { seq: first.body.seq, duplicate: true, type: 'com.gitlab.events.note_created' });
  assert.deepEqual(
    logger.entries.filter((entry) => entry.level === 'warn'),
    [],
  );

  const other = await deliver(push.body, { 'x-gitlab-token': 'hook-secret', 'x-gitlab-event': push.header, 'idempotency-key': 'k-123' });
  assert.deepEqual(other.body, { seq: first.body.seq, duplicate: true, type: 'com.gitlab.events.note_created' });
  const warnings = logger.entries.filter((entry) => entry.level === 'warn');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]?.message ?? '', /under the key of stored event \d+ \(com\.gitlab\.events\.note_created\) with another body/);
  assert.equal((warnings[0]?.data as { idempotencyKey?: string }).idempotencyKey, 'k-123');
});

test("with only the simulator's own source, a refused webhook says to set AUTOFLOW_GITLAB_WEBHOOK_SECRET", async () => {
  const { deliver } = await server({}, [{ name: 'simulator', secret: 'sim-secret', builtIn: true }]);
  const push = fixture('push.json');
  const refused = await deliver(push.body, { 'x-gitlab-event': push.header, 'x-gitlab-token': 'whsec_outside' });
  assert.equal(refused.status, 401);
  assert.match(
    JSON.stringify(refused.body),
    /no GitLab webhook source is configured \(only the built-in simulator's.*set AUTOFLOW_GITLAB_WEBHOOK_SECRET/,
  );
  // The simulator's own deliveries still get in.
  assert.equal((await deliver(push.body, { 'x-gitlab-event': push.header, 'x-gitlab-token': 'sim-secret' })).status, 202);
});

test("a source limited to some projects refuses a delivery about another team's project, and stores nothing of it", async () => {
  const { deliver } = await server({}, [
    { name: 'team-gitlab', secret: 'gitlab-team-secret', projects: ['gitlab-org/*', 'GitLabHQ/*'] },
    { name: 'team-mike', secret: 'mike-team-secret', projects: ['mike/*'] },
  ]);
  const push = fixture('push.json');
  const forged = await deliver(push.body, { 'x-gitlab-token': 'gitlab-team-secret', 'x-gitlab-event': push.header });
  assert.equal(forged.status, 403);
  assert.deepEqual(forged.body, {
    error: {
      code: 'forbidden',
      message:
        "webhook source 'team-gitlab' may deliver events about gitlab-org/*, GitLabHQ/* only, and this delivery's project.path_with_namespace names mike/diaspora: add the project to the source's projects in autoflow.config.ts, or give its hook the secret of its own source",
      details: { source: 'team-gitlab' },
    },
  });
  const own = await deliver(push.body, { 'x-gitlab-token': 'mike-team-secret', 'x-gitlab-event': push.header });
  assert.deepEqual(
    [own.status, own.body.seq, own.body.duplicate],
    [202, 1, false],
    'the refused delivery stored nothing: this is the first event',
  );
  // Every field of GitLab's feature_flag.json names gitlabhq/gitlab-test; its merge_request.json mixes in other projects.
  const request = fixture('feature_flag.json');
  const cased = await deliver(request.body, { 'x-gitlab-token': 'gitlab-team-secret', 'x-gitlab-event': request.header });
  assert.equal(cased.status, 202, 'paths compare as GitLab compares them, without case');
});
