/**
 * A run is asked to cancel once: a second request while its `finally` blocks still run is answered as such and
 * records nothing, whoever asks (a person, or the cancellation of its parent).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'slow-cleanup.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({
  name: 'slow-cleanup',
  async run() {
    try {
      await sleep('7d');
    } finally {
      await sleep('1h');
    }
  },
});`,
});
after(() => folder.remove());

describe('cancel requests', () => {
  test('a second request for a run that is cancelling is answered as already requested, and not recorded', async () => {
    const env = await createTestEnv({ workflows: [folder.path('slow-cleanup.ts')] });
    try {
      const id = await env.start('slow-cleanup');
      const first = await env.operations.cancelRun(id, 'first');
      assert.equal(first.alreadyRequested, undefined);
      await env.settle();
      const second = await env.operations.cancelRun(id, 'second');
      assert.deepEqual([second.status, second.alreadyRequested], ['running', true], 'its finally block still sleeps');
      await env.advance('2h');
      assert.equal((await env.run(id)).status, 'cancelled');
      const requests = (await env.history(id)).filter((event) => event.type === 'cancel_requested');
      assert.deepEqual(
        requests.map((event) => event.type === 'cancel_requested' && event.reason),
        ['first'],
      );
    } finally {
      await env.close();
    }
  });
});
