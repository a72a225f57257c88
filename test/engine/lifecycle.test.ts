import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'parent.ts': `import { executeChild, startChild, workflow } from 'autoflow';
export default workflow({
  name: 'parent',
  async run(input: { n: number }) {
    const detached = await startChild('child', { n: input.n * 10 });
    const direct = await executeChild('child', { n: input.n });
    let failure = null;
    try {
      await executeChild('child', { n: -1 });
    } catch (error) {
      const failed = error as Error & { details: { childId: string } };
      failure = { name: failed.name, child: failed.details.childId, cause: (failed.cause as Error).message };
    }
    return { direct, later: await detached.result(), failure };
  },
});`,
  'child.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({
  name: 'child',
  async run(input: { n: number }) {
    await sleep('10m');
    if (input.n < 0) throw new Error('negative input');
    return input.n * 2;
  },
});`,
  'cleanup.ts': `import { activities, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'cleanup',
  permissions: { activities: ['record'] },
  async run() {
    try {
      await sleep('7d');
      return 'slept';
    } finally {
      await activities.record({ cleaned: true });
    }
  },
});`,
  'supervisor.ts': `import { executeChild, startChild, workflow } from 'autoflow';
export default workflow({
  name: 'supervisor',
  async run() {
    const done = await executeChild('cleanup', null, { id: 'quick-child' }).catch(() => 'quick child failed');
    await startChild('cleanup', null, { id: 'background-child' });
    return await executeChild('cleanup', null, { id: 'awaited-child' });
  },
});`,
  'looper.ts': `import { continueAsNew, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'looper',
  async run(input: { round: number }) {
    await sleep('1d');
    if (input.round < 3) continueAsNew({ round: input.round + 1 });
    return { rounds: input.round };
  },
});`,
  'spin.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'spin', async run() { for (;;) {} } });`,
  'bomb.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'bomb', async run() { const keep: number[][] = []; for (;;) keep.push(new Array(100000).fill(7)); } });`,
  'fine.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({ name: 'fine', async run() { await sleep('1s'); return 'fine'; } });`,
  'greeter.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'greeter',
  input: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  async run(input: { name: string }) { return 'hi ' + input.name; },
});`,
});
after(() => folder.remove());

describe('run lifecycle', () => {
  test('child workflows return results to their parent, and a failing child fails only its own step', async () => {
    const env = await createTestEnv({ workflows: [folder.path('parent.ts'), folder.path('child.ts')] });
    try {
      const id = await env.start('parent', { n: 2 });
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.deepEqual(run.result, {
        direct: 4,
        later: 40,
        failure: { name: 'ChildRunFailedError', child: `${id}.3`, cause: 'negative input' },
      });
      const children = (await env.operations.listRuns({ workflow: 'child' })).runs;
      assert.equal(children.length, 3);
      assert.ok(children.every((child) => child.parentId === id));
    } finally {
      await env.close();
    }
  });

  test('cancelling a run runs its finally block, which may still call out, and ends it cancelled', async () => {
    const recorded: unknown[] = [];
    const env = await createTestEnv({
      workflows: [folder.path('cleanup.ts')],
      activities: { record: async (args) => void recorded.push(args) },
    });
    try {
      const id = await env.start('cleanup');
      await env.advance('1d');
      await env.cancel(id, 'no longer needed');
      const run = await env.run(id);
      assert.equal(run.status, 'cancelled');
      assert.deepEqual(recorded, [{ cleaned: true }]);
      await assert.rejects(env.operations.cancelRun(id), /already ended as cancelled/);
    } finally {
      await env.close();
    }
  });

  test('cancelling a parent cancels the children still running, whose finally blocks run too', async () => {
    const recorded: unknown[] = [];
    const env = await createTestEnv({
      workflows: [folder.path('supervisor.ts'), folder.path('cleanup.ts')],
      activities: { record: async (args) => void recorded.push(args) },
    });
    try {
      const id = await env.start('supervisor');
      await env.advance('7d');
      assert.equal((await env.run('quick-child')).status, 'completed', 'the first child slept its week and finished');
      await env.advance('1d');
      await env.cancel(id, 'stop everything');
      assert.equal((await env.run(id)).status, 'cancelled');
      for (const child of ['background-child', 'awaited-child']) {
        const run = await env.run(child);
        assert.equal(run.status, 'cancelled', child);
        assert.match(run.error?.message ?? '', new RegExp(`parent run ${id} was cancelled`));
      }
      assert.equal(recorded.length, 3, 'each child ran its finally block once');
    } finally {
      await env.close();
    }
  });

  test('continueAsNew starts a fresh run with a short history, chained by id', async () => {
    const env = await createTestEnv({ workflows: [folder.path('looper.ts')] });
    try {
      const id = await env.start('looper', { round: 1 }, 'loop');
      await env.advance('1d');
      assert.equal((await env.run('loop')).status, 'continued');
      await env.advance('2d');
      const last = await env.run('loop~3');
      assert.equal(last.status, 'completed');
      assert.deepEqual(last.result, { rounds: 3 });
      assert.ok((await env.history('loop~3')).length < 10);
      assert.equal(id, 'loop');
    } finally {
      await env.close();
    }
  });

  test('an infinite loop and a memory bomb fail only their own runs, saying which limit and how to raise it', async () => {
    const env = await createTestEnv({
      workflows: [folder.path('spin.ts'), folder.path('bomb.ts'), folder.path('fine.ts')],
      sandbox: { cpuMs: 200, memoryMb: 16 },
    });
    try {
      const spin = await env.start('spin');
      const bomb = await env.start('bomb');
      const fine = await env.start('fine');
      const spun = await env.run(spin);
      assert.equal(spun.status, 'failed');
      assert.match(spun.error?.message ?? '', /cpu|CPU/);
      assert.match(spun.error?.message ?? '', /sandbox\.cpuMs/);
      const bombed = await env.run(bomb);
      assert.equal(bombed.status, 'failed');
      assert.match(bombed.error?.message ?? '', /memory/);
      assert.match(bombed.error?.message ?? '', /sandbox\.memoryMb/);
      assert.equal((await env.result(fine)).result, 'fine');
    } finally {
      await env.close();
    }
  });

  test('starting a run twice with the same id returns the first run, and invalid input is refused before any run exists', async () => {
    const env = await createTestEnv({ workflows: [folder.path('greeter.ts')] });
    try {
      const first = await env.operations.startRun({ workflow: 'greeter', input: { name: 'ada' }, id: 'greet-1' });
      const second = await env.operations.startRun({ workflow: 'greeter', input: { name: 'ada' }, id: 'greet-1' });
      assert.equal(first.created, true);
      assert.equal(second.created, false);
      assert.deepEqual([second.run.id, second.run.createdAt], [first.run.id, first.run.createdAt]);
      await env.settle();
      assert.equal((await env.run('greet-1')).result, 'hi ada');
      await assert.rejects(
        env.operations.startRun({ workflow: 'greeter', input: { nom: 1 } }),
        /input of workflow 'greeter' is invalid.*name/,
      );
      await assert.rejects(env.operations.startRun({ workflow: 'greter' }), {
        message: "workflow 'greter' does not exist; deployed: greeter",
      });
      assert.equal((await env.operations.listRuns({})).runs.length, 1);
    } finally {
      await env.close();
    }
  });

  test('a run of a workflow on a server with none deployed says where workflows come from', async () => {
    const env = await createTestEnv({ workflows: [] });
    try {
      await assert.rejects(
        env.operations.startRun({ workflow: 'greeter' }),
        /no workflow is deployed: check the server's workflows folder \(--workflows\)/,
      );
    } finally {
      await env.close();
    }
  });
});
