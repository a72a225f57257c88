/**
 * `workflow({ timeout })`: a run that takes longer than its workflow allows is cancelled, cleans up, and fails with a
 * RunTimeoutError (GitHub Actions' `timeout-minutes`, GitLab CI's job timeout), measured on the virtual clock.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createTestEnv } from '../testing/index.js';

const folder = workflowFolder({
  'deploy.ts': `import { executeChild, log, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'deploy',
  timeout: '30m',
  async run(input: { takes: string }) {
    try {
      await executeChild('rollout', { takes: input.takes });
      return 'deployed';
    } finally {
      log.info('releasing the environment lock');
    }
  },
});`,
  'rollout.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({ name: 'rollout', async run(input: { takes: string }) { await sleep(input.takes); return 'rolled out'; } });`,
  'publish.ts': `import { activities, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'publish',
  timeout: '30m',
  permissions: { activities: ['upload'] },
  async run() {
    await sleep('10m');
    return activities.upload({});
  },
});`,
  'train.ts': `import { executeChild, workflow } from 'autoflow';
export default workflow({ name: 'train', timeout: '1d', async run() { return executeChild('rollout', { takes: '2h' }, { id: 'train-rollout' }); } });`,
  'slow-rollout.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({ name: 'rollout', timeout: '1h', async run(input: { takes: string }) { await sleep(input.takes); return 'rolled out'; } });`,
  'too-short.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'too-short', timeout: 30, async run() { return 1; } });`,
});
after(() => folder.remove());

test('a run past its timeout is cancelled, runs its cleanup, cancels its child and fails with a RunTimeoutError', async () => {
  const env = await createTestEnv({ workflows: [folder.path('deploy.ts'), folder.path('rollout.ts')] });
  try {
    const started = env.now();
    const id = await env.start('deploy', { takes: '2h' });
    const run = await env.result(id);
    assert.equal(run.status, 'failed');
    assert.equal(run.error?.name, 'RunTimeoutError');
    assert.match(run.error?.message ?? '', /did not end within its timeout of 30m/);
    assert.equal(run.updatedAt - started, 30 * 60_000, 'it ended when its timeout passed, not when its child would have');
    assert.deepEqual(await env.logs(id), ['releasing the environment lock']);
    const [child] = (await env.runtime.operations.listRuns({ parentId: id })).runs;
    assert.equal(child?.status, 'cancelled');

    await assert.rejects(env.retry(id), /failed because its timeout passed.*start a new run instead/);

    const quick = await env.start('deploy', { takes: '10m' });
    assert.equal((await env.result(quick)).result, 'deployed', 'a run within its timeout is not touched');
  } finally {
    await env.close();
  }
});

test('a timeout below a second is refused at deploy, naming the workflow and the range', async () => {
  await assert.rejects(
    createTestEnv({ workflows: [folder.path('too-short.ts')] }),
    (error: Error) => /timeout 30 is out of range: it must be between '1s' and '3650d'/.test(error.message) && error.message.includes('too-short'),
  );
});

test('a retry of a run that failed otherwise arms its timeout again, whole, from the retry', async () => {
  let up = false;
  const upload = () => {
    if (!up) throw Object.assign(new Error('the registry is down'), { nonRetryable: true });
    return Promise.resolve('uploaded');
  };
  const env = await createTestEnv({ workflows: [folder.path('publish.ts')], activities: { upload } });
  try {
    const id = await env.start('publish');
    assert.equal((await env.result(id)).error?.message, 'the registry is down');
    await env.advance('2h');
    up = true;
    await env.retry(id);
    const run = await env.result(id);
    assert.equal(run.status, 'completed', `the deadline passed while it was failed: ${run.error?.message ?? ''}`);
    assert.equal(run.result, 'uploaded');
  } finally {
    await env.close();
  }
});

test("a parent failed by its child's timeout is refused a retry saying so, not sent to retry the child", async () => {
  const env = await createTestEnv({ workflows: [folder.path('train.ts'), folder.path('slow-rollout.ts')] });
  try {
    const id = await env.start('train');
    assert.equal((await env.result(id)).status, 'failed');
    assert.equal((await env.run('train-rollout')).error?.name, 'RunTimeoutError');
    await assert.rejects(
      env.retry(id),
      /child run train-rollout \(workflow rollout\) did not end within its timeout, which a retry cannot undo/,
    );
  } finally {
    await env.close();
  }
});
