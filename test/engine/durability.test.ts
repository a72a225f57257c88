import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createTestEnv, mockCapability } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'clockwork.ts': `import { activities, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'clockwork',
  permissions: { activities: ['echo'] },
  async run() {
    const seen: Array<{ now: number; random: number; echoed: unknown }> = [];
    for (let i = 0; i < 4; i++) {
      const echoed = await activities.echo({ i });
      seen.push({ now: Date.now(), random: Math.random(), echoed });
      await sleep('1h');
    }
    return { seen, end: new Date().toISOString() };
  },
});`,
  'long.ts': `import { activities, signal, workflow } from 'autoflow';
export default workflow({
  name: 'long',
  permissions: { activities: ['add'] },
  async run(input: { steps: number }) {
    let total = 0;
    for (let i = 0; i < input.steps; i++) total = (await activities.add({ total, i })) as number;
    const extra = (await signal('finish')) as { extra: number };
    return total + extra.extra;
  },
});`,
});
after(() => folder.remove());

const activities = {
  echo: async (args: unknown) => args,
  add: async (args: unknown) => {
    const { total, i } = args as { total: number; i: number };
    return total + i;
  },
};

describe('durability and determinism', () => {
  test('Date and Math.random give the same values whether a run stays in memory or is replayed at every step', async () => {
    const results = [];
    for (const cacheSize of [500, 0]) {
      const env = await createTestEnv({ workflows: [folder.path('clockwork.ts')], activities, sandbox: { cacheSize } });
      try {
        const start = env.now();
        const id = await env.start('clockwork', null, 'same-id');
        const run = await env.result(id);
        assert.equal(run.status, 'completed', JSON.stringify(run.error));
        const result = run.result as { seen: Array<{ now: number; random: number; echoed: unknown }>; end: string };
        assert.deepEqual(
          result.seen.map((entry) => entry.now - start),
          [0, 3_600_000, 7_200_000, 10_800_000],
          'Date.now() is the virtual time of each workflow task',
        );
        assert.deepEqual(result.seen.map((entry) => entry.echoed), [{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }]);
        assert.equal(new Set(result.seen.map((entry) => entry.random)).size, 4, 'Math.random() varies within a run');
        assert.equal(result.end, new Date(start + 4 * 3_600_000).toISOString());
        results.push(result);
      } finally {
        await env.close();
      }
    }
    assert.deepEqual(results[0], results[1], 'replayed runs see exactly what cached runs saw');
  });

  test('runs spread over a sandbox thread see exactly what they see on the main thread, cached or replayed at every step', async () => {
    const ids = ['run-a', 'run-b', 'run-c', 'run-d'];
    const resultsOf = async (sandbox: { cacheSize: number; threads: number }): Promise<unknown[]> => {
      const env = await createTestEnv({ workflows: [folder.path('clockwork.ts')], activities, sandbox });
      try {
        // Started together, they wake together: up to four instances live at once, spread over both threads.
        for (const id of ids) await env.start('clockwork', null, id);
        const runs = await Promise.all(ids.map((id) => env.result(id)));
        for (const run of runs) assert.equal(run.status, 'completed', JSON.stringify(run.error));
        return runs.map((run) => run.result);
      } finally {
        await env.close();
      }
    };
    const alone = await resultsOf({ cacheSize: 500, threads: 0 });
    assert.equal(new Set(alone.map((result) => JSON.stringify(result))).size, ids.length, 'each run draws its own random numbers');
    assert.deepEqual(await resultsOf({ cacheSize: 500, threads: 1 }), alone);
    assert.deepEqual(await resultsOf({ cacheSize: 0, threads: 1 }), alone);
  });

  test('a 10,000-step history replays to the right result', { timeout: 120_000 }, async () => {
    const env = await createTestEnv({ workflows: [folder.path('long.ts')], activities, sandbox: { cacheSize: 0 } });
    try {
      const id = await env.start('long', { steps: 10_000 });
      const history = await env.history(id);
      assert.ok(history.length > 30_000, `history has ${history.length} events`);
      // The sandbox was evicted when the run parked; the signal makes the engine replay all of it.
      await env.signal(id, 'finish', { extra: 1 });
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal(run.result, (9_999 * 10_000) / 2 + 1);
    } finally {
      await env.close();
    }
  });

  test('a call failing with a retryable error is retried with backoff until it succeeds', async () => {
    let attempts = 0;
    const keys = new Set<string>();
    const env = await createTestEnv({
      workflows: [folder.path('clockwork.ts')],
      capabilities: [
        mockCapability('activities', async (_method, args, context) => {
          keys.add(context.idempotencyKey);
          if ((args as { i: number }).i === 1 && ++attempts < 3) throw new Error('flaky backend');
          return args;
        }),
      ],
    });
    try {
      const id = await env.start('clockwork');
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal(attempts, 3);
      assert.equal(keys.size, 4, 'retries reuse the idempotency key of their call');
      const completed = (await env.history(id)).find((event) => event.type === 'call_completed' && event.attempts === 3);
      assert.ok(completed, 'history records that the call took three attempts');
    } finally {
      await env.close();
    }
  });
});
