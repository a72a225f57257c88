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
const CHUNK = 64 * 1024;
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
  runtime = await createRuntime(
    embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: folder.dir, apiToken: 'api', gitlabWebhookSecret: SECRET }),
    {
      logger,
    },
  );
  await runtime.start();
  app = createApp({ operations: runtime.operations, logger });
});
after(async () => {
  await runtime.stop();
  folder.remove();
});

function deliver(body: RequestInit['body'], headers: Record<string, string>) {
  // `duplex`: a body may be a stream, read only as the server asks for it.
  return app.request('/webhooks/gitlab', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
    duplex: 'half',
  });
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
    const response = await deliver(issue.body, {
      'x-gitlab-event': issue.header,
      'x-gitlab-token': SECRET,
      'idempotency-key': 'trigger-1',
    });
    assert.ok(response.status === 202 || response.status === 200);
    await runtime.engine.whenIdle();
    await new Promise((resolve) => setImmediate(resolve));
    await runtime.engine.whenIdle();
    const runs = (await runtime.operations.listRuns({ workflow: 'on-issue' })).runs;
    assert.ok(
      runs.some((run) => run.status === 'completed' && (run.result as { type: string }).type.startsWith('com.gitlab.events.issue_')),
    );
  });

  test('a body over GitLab’s 25 MB limit is refused with 413', async () => {
    const response = await deliver(`{"x":"${'a'.repeat(26 * 1024 * 1024)}"}`, { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Issue Hook' });
    assert.equal(response.status, 413);
  });

  test('a body that nests too deep is refused for good with 400 and nothing stored (it was a retryable 503, redelivered until GitLab disabled the hook)', async () => {
    const before = await inboxSize();
    for (const levels of [3_000, 200_000]) {
      const note = `{"object_kind":"note","object_attributes":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;
      const response = await deliver(note, { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Note Hook' });
      assert.equal(response.status, 400);
      assert.match(
        ((await response.json()) as { error: { message: string } }).error.message,
        /nests arrays and objects more than 128 levels deep/,
      );
    }
    assert.equal(await inboxSize(), before);
  });
});

/** `POST /webhooks/gitlab` checks X-Gitlab-Token before it reads a byte of the body (up to 25 MB). A body of `total` bytes made only as it is read: `pulled` says how much of it was. */
function lazyBody(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const chunk = new Uint8Array(CHUNK).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) return controller.close();
      pulled += CHUNK;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

/** A push delivery unless `headers` say otherwise. */
const post = (body: RequestInit['body'], headers: Record<string, string>) => deliver(body, { 'x-gitlab-event': 'Push Hook', ...headers });

describe('POST /webhooks/gitlab: the token before the body', () => {
  for (const [name, token] of [
    ['a wrong token', { 'x-gitlab-token': 'not-the-secret' }],
    ['no token', {}],
  ] as const) {
    test(`${name} and a large body: 401, and the body is not read`, async () => {
      const total = 20 * 1024 * 1024; // under the 25 MB limit: only the token can refuse it
      const body = lazyBody(total);
      const before = await inboxSize();
      const response = await post(body.stream, token);
      assert.equal(response.status, 401);
      const answer = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(answer.error.code, 'unauthorized');
      assert.match(answer.error.message, /X-Gitlab-Token/);
      assert.ok(body.pulled() <= 2 * CHUNK, `${body.pulled()} of ${total} bytes of the body were read`);
      assert.equal(await inboxSize(), before);
    });
  }

  test('a wrong token with a Content-Length over the limit: 401, not 413 (the sender learns nothing)', async () => {
    const response = await post('{}', { 'x-gitlab-token': 'nope', 'content-length': String(100 * 1024 * 1024) });
    assert.equal(response.status, 401);
  });

  test('the right token: stored once (the check stores nothing), and the size limit still holds', async () => {
    const push = loadGitLabWebhookFixtures().find((fixture) => fixture.file === 'push.json');
    assert.ok(push);
    const before = await inboxSize();
    const accepted = await post(push.body, { 'x-gitlab-token': SECRET, 'x-gitlab-event': push.header, 'idempotency-key': 'token-first-1' });
    assert.equal(accepted.status, 202);
    assert.equal(await inboxSize(), before + 1);

    const broken = await post('{"object_kind":', { 'x-gitlab-token': SECRET });
    assert.equal(broken.status, 400);
    assert.match(((await broken.json()) as { error: { message: string } }).error.message, /not valid JSON/);

    const huge = lazyBody(26 * 1024 * 1024);
    const refused = await post(huge.stream, { 'x-gitlab-token': SECRET });
    assert.equal(refused.status, 413);
    assert.equal(await inboxSize(), before + 1);
  });
});
