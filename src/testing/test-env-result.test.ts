/**
 * `env.result(id)`: follows a continue-as-new chain to the run that ends; fails at once when the run waits only for
 * what test code brings, even while other timers (a daily schedule) would go on firing; names a sleep still running
 * when the limit passes.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createTestEnv } from './index.js';

const START = Date.parse('2026-01-05T09:00:00Z');

const folder = workflowFolder({
  'looper.ts': `import { continueAsNew, signal, workflow } from 'autoflow';
export default workflow({
  name: 'looper',
  async run(input: { seen: string[] } | null) {
    const seen = input?.seen ?? [];
    const item = await signal<string>('item', { timeout: '1d' });
    if (item === 'stop') return { seen };
    continueAsNew({ seen: item === null ? seen : [...seen, item] });
  },
});`,
  'nightly.ts': `import { emit, workflow } from 'autoflow';
export default workflow({
  name: 'nightly',
  triggers: [{ cron: '0 6 * * *', timezone: 'Europe/Berlin' }],
  async run() {
    await emit('com.example.nightly', {});
  },
});`,
  'waiter.ts': `import { signal, waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'waiter',
  async run(input: { for: 'signal' | 'nightly' }) {
    if (input.for === 'signal') return await signal('go');
    return (await waitFor('com.example.nightly')).type;
  },
});`,
  'form.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({
  name: 'form',
  async run(input: { timeout?: string }) {
    const fields = [{ name: 'a', label: 'A', type: 'text' as const }];
    return (await tasks.form({ title: 'Q', assignees: ['dana'], fields, ...(input.timeout ? { timeout: input.timeout } : {}) })).status;
  },
});`,
  'sleeper.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({
  name: 'sleeper',
  async run() {
    await sleep('400d');
  },
});`,
});
after(() => folder.remove());

const path = (name: string): string => folder.path(name);

describe('env.result on a run that continues as new', () => {
  test('follows the chain and returns the run that ends, as signals follow it', async () => {
    const env = await createTestEnv({ workflows: [path('looper.ts')] });
    try {
      const id = await env.start('looper', null, 'loop-1');
      for (const item of ['a', 'b', 'stop']) await env.signal(id, 'item', item);
      const run = await env.result(id);
      assert.equal(run.id, 'loop-1~3');
      assert.equal(run.status, 'completed');
      assert.deepEqual(run.result, { seen: ['a', 'b'] });
    } finally {
      await env.close();
    }
  });
});

describe('env.result on a run that only test code can move, among other timers', () => {
  test('a signal without a timeout fails at once, without running a daily schedule for a year', async () => {
    const env = await createTestEnv({ workflows: [path('nightly.ts'), path('waiter.ts')] });
    try {
      const id = await env.start('waiter', { for: 'signal' });
      await assert.rejects(
        env.result(id),
        new RegExp(`^Error: run ${id} is waiting for what no timer will bring: signal 'go' \\(env\\.signal\\) at waiter\\.ts:5:\\d+$`),
      );
      assert.equal(env.now(), START, 'no virtual time passed');
      assert.equal((await env.operations.listRuns({ workflow: 'nightly' })).runs.length, 0);
    } finally {
      await env.close();
    }
  });

  test('a task without a deadline fails at once; one with a deadline runs to it', async () => {
    const env = await createTestEnv({ workflows: [path('form.ts')], gitlab: { users: ['bot', 'dana'], groups: [], projects: [] } });
    try {
      const open = await env.start('form', {});
      const [task] = await env.tasks();
      assert.ok(task);
      await assert.rejects(
        env.result(open),
        new RegExp(
          `^Error: run ${open} is waiting for what no timer will bring: task "${task.id}" to be answered \\(env\\.submitTask, env\\.decideTask\\) at form\\.ts:6:\\d+$`,
        ),
      );
      assert.equal(env.now(), START);
      const due = await env.start('form', { timeout: '3d' });
      const ended = await env.result(due);
      assert.equal(ended.result, 'timed_out', JSON.stringify(ended));
      assert.equal(env.now(), START + 3 * 86_400_000);
    } finally {
      await env.close();
    }
  });

  test('a wait for a plain event lets time pass: a schedule may emit it', async () => {
    const env = await createTestEnv({ workflows: [path('nightly.ts'), path('waiter.ts')] });
    try {
      const run = await env.result(await env.start('waiter', { for: 'nightly' }));
      assert.equal(run.result, 'com.example.nightly');
      assert.equal(new Date(env.now()).toISOString(), '2026-01-06T05:00:00.000Z', 'the first nightly run, 06:00 in Berlin');
    } finally {
      await env.close();
    }
  });
});

describe('env.result past its limit', () => {
  test('names the sleep the run is in, until when and where', async () => {
    const env = await createTestEnv({ workflows: [path('sleeper.ts')] });
    try {
      const id = await env.start('sleeper');
      await assert.rejects(
        env.result(id),
        new RegExp(
          `^Error: run ${id} did not end within 365d of virtual time; it waits for sleep until 2027-02-09T09:00:00\\.000Z at sleeper\\.ts:5:\\d+$`,
        ),
      );
    } finally {
      await env.close();
    }
  });
});
