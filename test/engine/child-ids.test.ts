/**
 * A child's id is its idempotency key, like a Temporal workflow id: starting a child under an id that another run
 * holds fails the parent's start of it at once, with an error it can catch, instead of leaving the parent waiting
 * for a run that will never report to it. A task started again (a retried run) still finds its own children.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'child.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({
  name: 'child',
  async run(input: { v: number; sleep?: string }) {
    await sleep(input.sleep ?? '1m');
    return input.v;
  },
});`,
  'parent.ts': `import { startChild, workflow } from 'autoflow';
export default workflow({
  name: 'parent',
  async run(input: { ids: string[] }) {
    const handles = [];
    for (const [v, id] of input.ids.entries()) handles.push(await startChild('child', { v }, { id }));
    return Promise.all(
      handles.map((handle) =>
        handle.result().then(
          (value) => ({ id: handle.id, value }),
          (error) => ({ id: handle.id, error: { name: error.name, message: error.message, details: error.details } }),
        ),
      ),
    );
  },
});`,
  'flaky.ts': `import { startChild, workflow } from 'autoflow';
export default workflow({
  name: 'flaky',
  async run(input: { until: number }) {
    const child = await startChild('child', { v: 7, sleep: '1d' }, { id: 'kept-child' });
    // Fails the task that started the child the first time; a retry, later, goes on.
    if (Date.now() < input.until) throw new Error('too early');
    return child.result();
  },
});`,
});
after(() => folder.remove());

const exists = (id: string) => ({
  id,
  error: {
    name: 'ChildRunExistsError',
    message: `cannot start child run '${id}' of workflow 'child': a run with this id exists already. Give startChild an id no run has, or leave out its 'id' option`,
    details: { code: 'child_run_exists', childId: id, workflow: 'child' },
  },
});

describe('child run ids', () => {
  test('a child id that a run holds fails the start at once: given twice, or the id of an unrelated or finished run', async () => {
    const env = await createTestEnv({ workflows: [folder.path('child.ts'), folder.path('parent.ts')] });
    try {
      await env.start('child', { v: 100, sleep: '1d' }, 'unrelated');
      await env.result(await env.start('parent', { ids: ['finished'] }, 'earlier'));
      const id = await env.start('parent', { ids: ['fixed-child', 'fixed-child', 'unrelated', 'finished'] });
      const run = await env.result(id, '10m');
      assert.equal(run.status, 'completed', `the parent ended instead of waiting forever: ${JSON.stringify(run.error)}`);
      assert.deepEqual(run.result, [{ id: 'fixed-child', value: 0 }, exists('fixed-child'), exists('unrelated'), exists('finished')]);
      assert.deepEqual((await env.run('fixed-child')).input, { v: 0 }, 'the first start made the child');
      assert.equal((await env.run('unrelated')).parentId, undefined, 'the run that held the id is left alone');
      assert.equal((await env.run('unrelated')).status, 'running');
    } finally {
      await env.close();
    }
  });

  test('a retried run that starts its child again finds it its own and gets its result', async () => {
    const env = await createTestEnv({ workflows: [folder.path('child.ts'), folder.path('flaky.ts')] });
    try {
      const id = await env.start('flaky', { until: env.now() + 30 * 60_000 });
      assert.equal((await env.run(id)).status, 'failed');
      await env.advance('1h');
      await env.retry(id);
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal(run.result, 7);
    } finally {
      await env.close();
    }
  });
});
