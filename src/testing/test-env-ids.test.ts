/**
 * A test environment makes its ids from a seed and counters, so every test run gets the same ones: the ids of runs
 * started without one, of emitted events and of the simulator's webhook deliveries, and so the ids of the runs they
 * trigger and the `Math.random()` those runs draw (a run's id seeds it). They used to be random UUIDs. The engine's
 * retry jitter draws from the seed too, so that retries happen at the same virtual times.
 * `env.result` on a run nothing but an event or a signal can move names what it waits for, from its history.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { demoSeed } from './gitlab-sim/index.js';
import { createTestEnv, type TestEnv } from './test-env.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-env-ids-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function workflowFile(name: string, source: string): string {
  const path = join(dir, `${name}.ts`);
  writeFileSync(path, source);
  return path;
}

const dice = workflowFile(
  'dice',
  `import { workflow } from 'autoflow';
export default workflow({
  name: 'dice',
  triggers: [{ event: 'test.roll' }, { event: 'com.gitlab.events.issue_created' }],
  async run() { return Math.random(); },
});
`,
);

const waiter = workflowFile(
  'waiter',
  `import { signal, waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'waiter',
  async run(input: { key: string; signal?: boolean }) {
    if (input.signal) return signal('reply');
    return waitFor('com.example.answer', { match: { subject: input.key } });
  },
});
`,
);

const flaky = workflowFile(
  'flaky',
  `import { http, now, workflow } from 'autoflow';
export default workflow({
  name: 'flaky',
  permissions: { http: ['https://svc.example.com/'] },
  async run() {
    await http.request({ url: 'https://svc.example.com/x' });
    return now().toISOString();
  },
});
`,
);

/** When a run whose request fails three times with a 503 (retried with jitter) sees its answer. */
async function answeredAt(idSeed?: string): Promise<unknown> {
  let attempts = 0;
  const env = await createTestEnv({
    workflows: [flaky],
    mocks: { http: () => ({ status: ++attempts <= 3 ? 503 : 200, headers: {}, body: '' }) },
    ...(idSeed === undefined ? {} : { idSeed }),
  });
  try {
    return (await env.result(await env.start('flaky'))).result;
  } finally {
    await env.close();
  }
}

/** What one test run of a test sees: run ids and what their `Math.random()` drew. */
async function rolls(idSeed?: string): Promise<Array<[string, unknown]>> {
  const env = await createTestEnv({ workflows: [dice], gitlab: demoSeed(), ...(idSeed === undefined ? {} : { idSeed }) });
  try {
    const started = await env.start('dice');
    const { started: triggered } = await env.emit({ type: 'test.roll' });
    const direct = await env.operations.startRun({ workflow: 'dice', input: null });
    await env.gitlab.actions.createIssue('alice', 'demo/app', { title: 'Flaky job' });
    const byWebhook = (await env.operations.listRuns({ workflow: 'dice' })).runs
      .map((run) => run.id)
      .filter((id) => ![started, ...triggered, direct.run.id].includes(id));
    assert.equal(triggered.length, 1, 'emit says which run its event started');
    assert.equal(byWebhook.length, 1, 'the issue created in the simulator started one run');
    const ids = [started, ...triggered, direct.run.id, ...byWebhook];
    return Promise.all(ids.map(async (id) => [id, (await env.result(id)).result] as [string, unknown]));
  } finally {
    await env.close();
  }
}

describe('the ids of a test environment', () => {
  test('are the same on every test run: started, emitted and webhook-triggered runs, and their Math.random()', async () => {
    const first = await rolls();
    assert.deepEqual(await rolls(), first);
    assert.equal(new Set(first.map(([id]) => id)).size, 4);
    assert.equal(new Set(first.map(([, drawn]) => drawn)).size, 4, 'each run draws its own numbers');
  });

  test('follow the seed: another idSeed gives other ids, and other draws', async () => {
    const [first, other] = [await rolls(), await rolls('another seed')];
    for (let i = 0; i < first.length; i++) {
      assert.notEqual(other[i]?.[0], first[i]?.[0]);
      assert.notEqual(other[i]?.[1], first[i]?.[1]);
    }
  });
});

describe('the retries of a test environment', () => {
  test('happen at the same virtual times on every test run: their jitter draws from idSeed', async () => {
    const first = await answeredAt();
    assert.equal(await answeredAt(), first);
    assert.notEqual(await answeredAt('another seed'), first);
  });
});

describe('env.result on a run that only an event or a signal can move', () => {
  let env: TestEnv;
  after(() => env?.close());

  test('names the event type, the match and the call site of the wait, or the signal', async () => {
    env = await createTestEnv({ workflows: [waiter] });
    const event = await env.start('waiter', { key: 'k1' });
    await assert.rejects(
      env.result(event),
      new RegExp(
        `^Error: run ${event} is waiting for what no timer will bring: event com\\.example\\.answer matching \\{"subject":"k1"\\} \\(env\\.emit\\) at waiter\\.ts:6:12$`,
      ),
    );
    const signalled = await env.start('waiter', { key: 'k2', signal: true });
    await assert.rejects(
      env.result(signalled),
      /is waiting for what no timer will bring: signal 'reply' \(env\.signal\) at waiter\.ts:5:\d+$/,
    );
    await env.emit({ type: 'com.example.answer', subject: 'k1', data: 42 });
    assert.equal((await env.run(event)).status, 'completed');
  });
});
