/**
 * Retrying a failed child says what it does not do for its parent, which received the child's failure when it
 * failed: a fan-out's author who retries a child to unblock the parent would otherwise see a success and a parent
 * that still holds the failure.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'train.ts': `import { sleep, startChild, workflow } from 'autoflow';
export default workflow({
  name: 'train',
  async run(input: { wait?: boolean; tolerate?: boolean }) {
    const deploy = await startChild('deploy', null);
    if (input.wait) await sleep('1h');
    if (!input.tolerate) return await deploy.result();
    return await deploy.result().catch(() => 'went without it');
  },
});`,
  'deploy.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'deploy',
  async run() {
    throw new Error('blocked by a failing check');
  },
});`,
});
after(() => folder.remove());

test('retrying a failed child warns of what its parent saw: running, it keeps the failure; failed, it needs its own retry; ended, it hears nothing', async () => {
  const env = await createTestEnv({ workflows: [folder.path('train.ts'), folder.path('deploy.ts')] });
  try {
    const waiting = await env.start('train', { wait: true });
    await env.settle();
    const retried = await env.operations.retryRun(`${waiting}.1`);
    assert.deepEqual(retried.warnings, [
      `its parent run ${waiting} (running) received this run's failure already and goes on with it: retrying this run does not change what the parent saw`,
    ]);

    const failing = await env.start('train', { wait: false });
    assert.equal((await env.result(failing)).status, 'failed');
    assert.deepEqual((await env.operations.retryRun(`${failing}.1`)).warnings, [
      `its parent run ${failing} (failed) goes on only when it is retried too: autoflow retry ${failing}`,
    ]);

    assert.equal((await env.result(waiting)).status, 'failed', 'the parent went on with the failure it had');
    assert.equal((await env.result(`${waiting}.1`)).status, 'failed');
    assert.deepEqual((await env.operations.retryRun(`${waiting}.1`)).warnings, [
      `its parent run ${waiting} (failed) goes on only when it is retried too: autoflow retry ${waiting}`,
    ]);

    const tolerant = await env.start('train', { tolerate: true });
    assert.equal((await env.result(tolerant)).status, 'completed');
    assert.deepEqual((await env.operations.retryRun(`${tolerant}.1`)).warnings, [
      `its parent run ${tolerant} (completed) has ended: nothing receives this run's result`,
    ]);
  } finally {
    await env.close();
  }
});
