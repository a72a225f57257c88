import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createTestEnv, type Json } from './index.js';

// One request; the workflow reports what it got, or the error it caught, with the virtual time it took.
const folder = workflowFolder({
  'fetch.ts': `import { http, now, workflow } from 'autoflow';
export default workflow({
  name: 'fetch',
  permissions: { http: ['https://api.example.com/'] },
  async run(input: { timeoutMs?: number }) {
    const started = now().getTime();
    try {
      const response = await http.request({ url: 'https://api.example.com/thing', ...input }, { retry: { maxAttempts: 3 } });
      return { status: response.status, body: response.body as never, took: now().getTime() - started };
    } catch (error) {
      const failure = error as { name: string; message: string; details?: { code?: string; status?: number; body?: never } };
      return { error: failure.name, message: failure.message, code: failure.details?.code ?? null, status: failure.details?.status ?? null, body: failure.details?.body ?? null, took: now().getTime() - started };
    }
  },
});`,
});
after(() => folder.remove());

/** Runs `fetch` against an http mock answering `answers` in turn (the last one from then on). */
async function fetchWith(answers: Array<Json | (() => never)>, input: Json = {}) {
  let calls = 0;
  const env = await createTestEnv({
    workflows: [folder.path('fetch.ts')],
    mocks: {
      http: (): Json => {
        const answer = answers[Math.min(calls++, answers.length - 1)];
        return typeof answer === 'function' ? answer() : (answer ?? null);
      },
    },
  });
  try {
    const id = await env.start('fetch', input);
    const run = await env.result(id);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    const [call] = await env.calls(id);
    return { result: run.result as Record<string, Json>, calls, attempts: call?.attempts };
  } finally {
    await env.close();
  }
}

describe("createTestEnv: a mocked http answer has the http capability's status handling", () => {
  test('a 404 rejects with the HttpError production gives, not retried, its body in details', async () => {
    const { result, calls } = await fetchWith([{ status: 404, headers: {}, body: { message: 'no such thing' } }]);
    assert.deepEqual(result, {
      error: 'HttpError',
      message: 'HTTP 404 from https://api.example.com/thing',
      code: 'http_error',
      status: 404,
      body: { message: 'no such thing' },
      took: 0,
    });
    assert.equal(calls, 1);
  });

  test('a 503 is retried per the policy, then gives up as http_unavailable', async () => {
    const { result, calls, attempts } = await fetchWith([{ status: 503, headers: {}, body: 'down' }]);
    assert.equal(result['code'], 'http_unavailable');
    assert.equal(result['message'], 'HTTP 503 from https://api.example.com/thing (gave up after 3 attempts)');
    assert.equal(calls, 3);
    assert.equal(attempts, 3);
  });

  test('a 429 waits its Retry-After on the virtual clock before the retry that succeeds', async () => {
    const { result, calls } = await fetchWith([
      { status: 429, headers: { 'Retry-After': '120' }, body: null },
      { status: 200, headers: {}, body: { ok: true } },
    ]);
    assert.equal(calls, 2);
    assert.equal(result['status'], 200);
    assert.deepEqual(result['body'], { ok: true });
    assert.ok(Number(result['took']) >= 120_000, `took ${JSON.stringify(result['took'])} ms`);
  });

  test('a thrown Error is retried like a network failure', async () => {
    const { result, calls } = await fetchWith([
      () => {
        throw new Error('socket hang up');
      },
      { status: 200, headers: {}, body: 'ok' },
    ]);
    assert.equal(calls, 2);
    assert.equal(result['status'], 200);
  });

  test("a mock that never answers times out at the request's timeoutMs on the virtual clock, as fetch would", async () => {
    let calls = 0;
    const env = await createTestEnv({
      workflows: [folder.path('fetch.ts')],
      mocks: { http: () => (calls++, new Promise<never>(() => undefined)) },
    });
    try {
      const run = await env.result(await env.start('fetch', { timeoutMs: 5_000 }));
      const result = run.result as Record<string, Json>;
      assert.equal(result['code'], 'timeout');
      assert.equal(
        result['message'],
        'request to https://api.example.com/thing failed: no answer within 5000 ms (gave up after 3 attempts)',
      );
      assert.equal(calls, 3);
      assert.ok(Number(result['took']) >= 15_000, `took ${JSON.stringify(result['took'])} ms`);
    } finally {
      await env.close();
    }
  });

  test('a 2xx or 3xx answer, and one without a status, reach the workflow as they are', async () => {
    assert.deepEqual((await fetchWith([{ status: 302, headers: { location: '/x' }, body: '' }])).result, {
      status: 302,
      body: '',
      took: 0,
    });
    assert.deepEqual((await fetchWith([{ ok: true }])).result, { took: 0 }); // no status, and its body is not a response's
  });
});
