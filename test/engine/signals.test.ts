import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'gate.ts': `import { signal, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'gate',
  async run() {
    await sleep('1h');
    const first = await signal('go', { timeout: '1d' });
    const second = await signal('go', { timeout: '1d' });
    return [first, second];
  },
});`,
});
after(() => folder.remove());

describe('signals', () => {
  test('signals sent before the run waits for them are kept for it, in order, each received once', async () => {
    const env = await createTestEnv({ workflows: [folder.path('gate.ts')] });
    try {
      const id = await env.start('gate');
      await env.signal(id, 'go', 1);
      await env.advance('10m');
      await env.signal(id, 'go', 2);
      // Well past the 5 minutes a wait looks back for other events.
      await env.advance('2h');
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.deepEqual(run.result, [1, 2]);
    } finally {
      await env.close();
    }
  });

  test("another run's signal is not kept for this one", async () => {
    const env = await createTestEnv({ workflows: [folder.path('gate.ts')] });
    try {
      const id = await env.start('gate', null, 'gate-a');
      const other = await env.start('gate', null, 'gate-b');
      await env.signal(other, 'go', 'for b');
      await env.advance('2h');
      await env.signal(id, 'go', 'for a');
      await env.advance('1d');
      const run = await env.result(id);
      assert.deepEqual(run.result, ['for a', null], 'the first wait takes its own signal; the second times out');
    } finally {
      await env.close();
    }
  });
});
