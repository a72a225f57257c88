import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../src/app/runtime.js';
import type { Logger } from '../../src/core/ports.js';
import { createApp } from '../../src/server/http/app.js';
import { loadGitLabWebhookFixtures } from '../fixtures/gitlab-webhooks/index.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/** `POST /webhooks/gitlab` checks X-Gitlab-Token before it reads a byte of the body (up to 25 MB). */
const SECRET = 'hook-secret';
const CHUNK = 64 * 1024;
const folder = workflowFolder();
const logger = pino({ level: 'silent' }) as unknown as Logger;
let runtime: Runtime;
let app: ReturnType<typeof createApp>;

before(async () => {
  runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: folder.dir, gitlabWebhookSecret: SECRET }), {
    logger,
  });
  await runtime.start();
  app = createApp({ operations: runtime.operations, logger });
});
after(async () => {
  await runtime.stop();
  folder.remove();
});

/** A body of `total` bytes made only as it is read: `pulled` says how much of it was. */
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

function post(body: RequestInit['body'], headers: Record<string, string>) {
  return app.request('/webhooks/gitlab', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', ...headers },
    duplex: 'half',
  });
}

const inboxSize = async () => (await runtime.operations.listEvents({ limit: 500 })).length;

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
