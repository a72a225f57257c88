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
  'chain.ts': `import { continueAsNew, workflow } from 'autoflow';
export default workflow({
  name: 'chain',
  async run(input: { n: number }) {
    if (input.n < 2) return continueAsNew({ n: input.n + 1 });
    return input.n;
  },
});`,
  'hourly.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'hourly',
  triggers: [{ cron: '0 * * * *' }],
  async run(input: { scheduledAt: string }) {
    return 'ran at ' + input.scheduledAt;
  },
});`,
  'squatter.ts': `import { startChild, workflow } from 'autoflow';
export default workflow({
  name: 'squatter',
  async run(input: { ids: string[] }) {
    const refused = [];
    for (const id of input.ids) {
      try {
        await (await startChild('hourly', { scheduledAt: 'chosen by another workflow' }, { id })).result();
      } catch (error) {
        refused.push((error as Error).message);
      }
    }
    return refused;
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

  test("an id a continue-as-new chain gives its runs (x~2) is refused to a child and to a client, so that no run can take a chain's next run's place", async () => {
    const env = await createTestEnv({ workflows: [folder.path('child.ts'), folder.path('parent.ts'), folder.path('chain.ts')] });
    try {
      const parent = await env.result(await env.start('parent', { ids: ['c~2'] }), '10m');
      assert.deepEqual(parent.result, [
        {
          id: 'c~2',
          error: {
            name: 'ValidationError',
            message:
              "cannot start a child run of workflow 'child' with id 'c~2': an id ending in ~ and a number is the one a continue-as-new gives the next run of a chain (x~2, x~3…): end it otherwise",
            details: { code: 'invalid_child_id', workflow: 'child' },
          },
        },
      ]);
      await assert.rejects(env.start('child', { v: 1 }, 'c~2'), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'invalid');
        assert.match(error.message, /^run id is invalid: id: an id ending in ~ and a number is the one a continue-as-new gives/);
        return true;
      });
      await assert.rejects(env.run('c~2'), /no run c~2/);

      const chain = await env.result(await env.start('chain', { n: 0 }, 'c'), '10m');
      assert.deepEqual([chain.id, chain.status], ['c~3', 'completed'], 'result() follows the chain to the run that ends');
      const last = await env.run('c~3');
      assert.deepEqual([last.workflow, last.status, last.result], ['chain', 'completed', 2], 'the chain went on in its own runs');
      assert.equal((await env.run('c~2')).workflow, 'chain');
    } finally {
      await env.close();
    }
  });

  test("a child may not take the id of a run a schedule or a trigger will start, nor of another run's child, so none starts another's run with its input", async () => {
    const env = await createTestEnv({ workflows: [folder.path('hourly.ts'), folder.path('squatter.ts')] });
    try {
      const nextTick = new Date(Math.ceil((env.now() + 1) / 3_600_000) * 3_600_000).toISOString();
      const scheduled = `hourly@${nextTick}`;
      const refused = await env.result(
        await env.start('squatter', {
          ids: [
            scheduled,
            'hourly:2@2030-01-01T00:00:00.000Z',
            'hourly-0123456789abcdef',
            `${scheduled}.1`,
            'other-run.3',
            'team/app',
            'with space',
          ],
        }),
      );
      const defaultChildId = (id: string) =>
        `cannot start a child run of workflow 'hourly' with id '${id}': an id ending in . and a number is the one a run gives the child it starts without an id (<run id>.<step>): end it otherwise`;
      assert.deepEqual(refused.result, [
        `cannot start a child run of workflow 'hourly' with id '${scheduled}': an id ending in @ and an ISO time is the one a schedule gives the run it starts at that time: end it otherwise`,
        "cannot start a child run of workflow 'hourly' with id 'hourly:2@2030-01-01T00:00:00.000Z': an id ending in @ and an ISO time is the one a schedule gives the run it starts at that time: end it otherwise",
        "cannot start a child run of workflow 'hourly' with id 'hourly-0123456789abcdef': an id ending in - and 16 hex digits is the one a trigger gives the run an event starts: end it otherwise",
        defaultChildId(`${scheduled}.1`),
        defaultChildId('other-run.3'),
        ...['team/app', 'with space'].map(
          (id) =>
            `cannot start a child run of workflow 'hourly' with id '${id}': use 1–1000 letters, digits and . _ : @ ~ -, starting with a letter or digit (as a client may, longer for the ids of children of children)`,
        ),
      ]);
      await env.advance('1h');
      const tick = await env.result(scheduled);
      assert.deepEqual(
        [tick.status, tick.result, tick.parentId],
        ['completed', `ran at ${nextTick}`, undefined],
        'the schedule started its own run',
      );
    } finally {
      await env.close();
    }
  });

  test('a child started without an id, whose id a client took first, fails saying so, not to leave out the id', async () => {
    const env = await createTestEnv({ workflows: [folder.path('child.ts'), folder.path('parent.ts')] });
    try {
      await env.start('child', { v: 0 }, 'victim.1');
      const parent = await env.result(await env.start('parent', { ids: [null] }, 'victim'));
      const [outcome] = parent.result as Array<{ error?: { message: string } }>;
      assert.match(
        outcome?.error?.message ?? '',
        /It is the id this run gives the child it starts at step 1 without one, and another run was started under it first: give startChild an id of its own/,
      );
    } finally {
      await env.close();
    }
  });

  test('a client that gives a run the id of a run of another workflow gets a conflict, not that run', async () => {
    const env = await createTestEnv({ workflows: [folder.path('child.ts'), folder.path('chain.ts')] });
    try {
      await env.start('child', { v: 1 }, 'shared');
      assert.equal(await env.start('child', { v: 1 }, 'shared'), 'shared', 'the same request again: the existing run');
      await assert.rejects(env.start('chain', { n: 0 }, 'shared'), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'conflict');
        assert.equal(
          error.message,
          "run 'shared' exists already, a run of workflow 'child': run ids are unique across workflows, choose another for a run of 'chain'",
        );
        return true;
      });
    } finally {
      await env.close();
    }
  });
});
