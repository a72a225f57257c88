import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import type { CapabilityContext } from '../core/ports.js';
import { createTestEnv, type Json } from './index.js';

// One activity call, with or without a per-attempt timeoutMs; the workflow reports how the call ended.
const folder = workflowFolder({
  'bounded.ts': `import { activities, now, workflow } from 'autoflow';
export default workflow({
  name: 'bounded',
  permissions: { activities: ['slowok'] },
  async run() {
    const started = now().getTime();
    try {
      return { value: await activities.slowok({}, { timeoutMs: 100, retry: { maxAttempts: 2 } }), took: now().getTime() - started };
    } catch (error) {
      const failure = error as { name: string; message: string; details?: { code?: string; timeoutMs?: number } };
      return { error: failure.name, message: failure.message, code: failure.details?.code ?? null, took: now().getTime() - started };
    }
  },
});`,
  'unbounded.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'unbounded',
  permissions: { activities: ['slowok'] },
  async run() {
    return await activities.slowok({});
  },
});`,
});
after(() => folder.remove());

const never = (): Promise<never> => new Promise<never>(() => undefined);
/** Answers after 3 s of real time, unless its attempt is given up first. */
const slow = (_method: string, _args: Json, { signal }: CapabilityContext): Promise<Json> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve('slow'), 3_000);
    signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  });

describe('createTestEnv: a call whose mock does not answer', () => {
  for (const [how, options] of [
    ['a mocked activities capability', { mocks: { activities: never } }],
    ['a mock that would answer after 3 s of real time', { mocks: { activities: slow } }],
  ] as const) {
    test(`${how}: times out per attempt (timeoutMs) on the virtual clock and is retried per the policy`, async () => {
      const env = await createTestEnv({ workflows: [folder.path('bounded.ts')], ...options });
      try {
        const id = await env.start('bounded');
        const run = await env.result(id);
        assert.equal(run.status, 'completed', JSON.stringify(run.error));
        const result = run.result as { error: string; message: string; code: string; took: number };
        assert.equal(result.error, 'CapabilityError');
        assert.equal(result.code, 'timeout');
        assert.equal(result.message, 'activities.slowok took longer than its timeoutMs (100 ms) (gave up after 2 attempts)');
        const [call] = await env.calls(id);
        assert.equal(call?.attempts, 2);
        assert.equal(call?.status, 'failed');
        // Two deadlines of 100 ms and the back-off between the attempts, all virtual.
        assert.ok(result.took >= 200, `took ${result.took} ms of virtual time`);
      } finally {
        await env.close();
      }
    });
  }

  test("after an attempt that timed out, the retry gets the mock's answer", async () => {
    let attempts = 0;
    const env = await createTestEnv({
      workflows: [folder.path('bounded.ts')],
      mocks: { activities: () => (++attempts === 1 ? never() : Promise.resolve('second')) },
    });
    try {
      const run = await env.result(await env.start('bounded'));
      assert.equal((run.result as { value: string }).value, 'second');
      assert.equal(attempts, 2);
    } finally {
      await env.close();
    }
  });

  test('a mock that answers at once takes no virtual time, even with a timeoutMs', async () => {
    const env = await createTestEnv({ workflows: [folder.path('bounded.ts')], mocks: { activities: async () => 'fast' } });
    try {
      const run = await env.result(await env.start('bounded'));
      assert.deepEqual(run.result, { value: 'fast', took: 0 });
    } finally {
      await env.close();
    }
  });

  test('without timeoutMs, env.result fails naming the call that never answered; close() is not held by it', async () => {
    const env = await createTestEnv({ workflows: [folder.path('unbounded.ts')], mocks: { activities: never } });
    try {
      const id = await env.start('unbounded');
      await assert.rejects(env.result(id), (error: Error) => {
        assert.match(
          error.message,
          new RegExp(`^run ${id} is waiting for what no timer will bring: call activities\\.slowok at unbounded\\.ts:\\d+:\\d+`),
        );
        assert.match(error.message, /activities\.slowok \(step 1, attempt 1\) never answered/);
        assert.match(error.message, /give the call a timeoutMs/);
        return true;
      });
    } finally {
      await env.close();
    }
  });
});
