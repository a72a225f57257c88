import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createTestEnv, type TestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/** A parent cancels its child itself (ChildHandle.cancel), and a cancelled parent's children are asked at once. */
const folder = workflowFolder({
  'ticker.ts': `import { activities, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'ticker',
  permissions: { activities: ['tick'] },
  async run() {
    for (;;) {
      await activities.tick('child');
      await sleep('10s');
    }
  },
});`,
  'holder.ts': `import { activities, sleep, startChild, workflow } from 'autoflow';
export default workflow({
  name: 'holder',
  permissions: { activities: ['tick'] },
  async run() {
    const h = await startChild('ticker', null, { id: 'the-child' });
    try {
      await h.result();
    } finally {
      await sleep('1m');
      await activities.tick('parent cleanup');
    }
  },
});`,
  'timeout.ts': `import { race, sleep, startChild, workflow } from 'autoflow';
export default workflow({
  name: 'timeout',
  async run() {
    const h = await startChild('ticker', null, { id: 'slow-child' });
    const first = await race({ done: h.result(), late: sleep('25s') });
    if (first.key === 'late') await h.cancel('too slow');
    try {
      await h.result();
      return 'finished';
    } catch (error: any) {
      return error.name + ': ' + error.message;
    }
  },
});`,
});
after(() => folder.remove());

async function withEnv(ticks: string[], body: (env: TestEnv) => Promise<void>): Promise<void> {
  const env = await createTestEnv({
    workflows: ['ticker.ts', 'holder.ts', 'timeout.ts'].map((file) => folder.path(file)),
    activities: { tick: async (who) => void ticks.push(`${String(who)}@${env.now() - start}`) },
  });
  const start = env.now();
  try {
    await body(env);
  } finally {
    await env.close();
  }
}

describe('cancelling child runs', () => {
  test("a cancelled parent's children are asked to cancel in the task that delivers the cancel, not after its cleanup", async () => {
    const ticks: string[] = [];
    await withEnv(ticks, async (env) => {
      const id = await env.start('holder');
      await env.cancel(id, 'stop');
      // Before the parent's cleanup (a 1 minute sleep) ends, the child is cancelled already.
      await env.advance('5s');
      assert.equal((await env.run('the-child')).status, 'cancelled');
      await env.advance('2m');
      assert.equal((await env.result(id)).status, 'cancelled');
      assert.deepEqual(
        ticks.filter((tick) => tick.startsWith('child')),
        ['child@0'],
        'the child acted once, before the cancel, and not for the minute of the cleanup',
      );
      assert.ok(ticks.includes('parent cleanup@60000'), ticks.join(', '));
    });
  });

  test('ChildHandle.cancel(): a parent races its child against a timeout and cancels it', async () => {
    const ticks: string[] = [];
    await withEnv(ticks, async (env) => {
      const id = await env.start('timeout');
      await env.advance('2m');
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.match(run.result as string, /^CancelledError: run slow-child was cancelled: its parent run .* cancelled it: too slow$/);
      const child = await env.run('slow-child');
      assert.equal(child.status, 'cancelled');
      assert.deepEqual(ticks, ['child@0', 'child@10000', 'child@20000']);
    });
  });
});
