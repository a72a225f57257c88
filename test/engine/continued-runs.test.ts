/**
 * A run that continued as new goes on under its successor's id, and the original id stays its address, as a
 * Temporal workflow id does: a parent's cancel reaches the run a child's chain goes on in, a signal sent to any
 * id of the chain reaches its latest run, and a run links to the runs before and after it.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createOperations } from '../../src/app/operations-impl.js';
import { ConflictError } from '../../src/core/errors.js';
import type { RunRecord } from '../../src/core/model.js';
import type { Store } from '../../src/core/ports.js';
import { createTestEnv, type TestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'loop.ts': `import { continueAsNew, signal, startChild, workflow } from 'autoflow';
export default workflow({
  name: 'loop',
  async run(input: { parent?: boolean; n?: number; last?: unknown }) {
    if (input.parent) return (await startChild('loop', { n: 0 })).result();
    const n = input.n ?? 0;
    const tick = await signal('tick', { timeout: '1h' });
    if (tick !== null && n < 2) continueAsNew({ n: n + 1, last: tick });
    return { n, last: tick };
  },
});`,
  // Takes one signal per run, then continues with what it has, until it has four.
  'relay.ts': `import { continueAsNew, race, signal, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'relay',
  async run(input: { got: unknown[] }) {
    const got = [...input.got, await signal('item')];
    if (got.length === 4) return got;
    if (got.length === 2) {
      // A signal() that loses a race to a timer: the signal its wait brings during the pause is the code's to hand on.
      await race({ item: signal('item'), timer: sleep('1m') });
      await sleep('1m');
    }
    continueAsNew({ got });
  },
});`,
});
after(() => folder.remove());

/**
 * Operations over `env`'s store whose reads of run L go through `read` (its count, 1 for the first, and the read
 * itself): a signal's sender with a race staged around its reads.
 */
function operationsReadingL(
  env: TestEnv,
  read: (count: number, get: () => Promise<RunRecord | undefined>) => Promise<RunRecord | undefined>,
) {
  const { engine, store } = env.runtime;
  let count = 0;
  const staged: Store = Object.assign(Object.create(store) as Store, {
    getRun: (id: string) => (id === 'L' ? read(++count, () => store.getRun(id)) : store.getRun(id)),
  });
  return createOperations({ engine, store: staged, clock: env.clock, checkInput: () => {}, webhookSources: [] });
}

describe('runs that continued as new', () => {
  test("cancelling a parent cancels the run its child's chain goes on in", async () => {
    const env = await createTestEnv({ workflows: [folder.path('loop.ts')] });
    try {
      await env.start('loop', { parent: true }, 'P');
      await env.signal('P.1', 'tick', 1);
      assert.equal((await env.run('P.1')).status, 'continued');
      await env.cancel('P', 'stop');
      assert.equal((await env.run('P')).status, 'cancelled');
      const latest = await env.run('P.1~2');
      assert.equal(latest.status, 'cancelled', 'the child goes on as P.1~2, which the parent’s cancel reached');
      assert.match(latest.error?.message ?? '', /parent run P was cancelled/);
    } finally {
      await env.close();
    }
  });

  test('a signal to a run that continued reaches the latest run of its chain, and says which', async () => {
    const env = await createTestEnv({ workflows: [folder.path('loop.ts')] });
    try {
      await env.start('loop', { n: 0 }, 'L');
      assert.deepEqual(await env.operations.signalRun('L', 'tick', 'one'), { runId: 'L', duplicate: false });
      await env.settle();
      assert.deepEqual(await env.operations.signalRun('L', 'tick', 'two'), { runId: 'L~2', duplicate: false }, 'L continued as L~2');
      await env.settle();
      assert.deepEqual((await env.run('L~3')).input, { n: 2, last: 'two' });
      assert.deepEqual(await env.operations.signalRun('L~2', 'tick', 'three'), { runId: 'L~3', duplicate: false });
      await env.settle();
      assert.deepEqual((await env.run('L~3')).result, { n: 2, last: 'three' });
      await assert.rejects(
        env.operations.signalRun('L', 'tick', 'four'),
        (error: unknown) => error instanceof ConflictError && /run L continued as L~3, which is completed/.test(error.message),
      );
    } finally {
      await env.close();
    }
  });

  test('signals sent to a run in a burst before it continued all reach the runs of its chain, in the order sent', async () => {
    const env = await createTestEnv({ workflows: [folder.path('relay.ts')] });
    try {
      await env.start('relay', { got: [] }, 'R');
      for (const item of ['a', 'b']) await env.operations.signalRun('R', 'item', item);
      await env.settle();
      // R~2 took b; the timer won its race, and two more arrive in its pause: its race's wait brings c, d finds no wait.
      await env.advance('1m');
      for (const item of ['c', 'd'])
        assert.deepEqual(await env.operations.signalRun('R', 'item', item), { runId: 'R~2', duplicate: false });
      await env.advance('1m');
      const last = await env.run('R~4');
      assert.equal(last.status, 'completed', JSON.stringify(last));
      assert.deepEqual(last.result, ['a', 'b', 'c', 'd']);
    } finally {
      await env.close();
    }
  });

  test('a signal whose sender read the run just before it continued goes on to the run that continued it', async () => {
    const env = await createTestEnv({ workflows: [folder.path('loop.ts')] });
    try {
      await env.start('loop', { n: 0 }, 'L');
      const operations = operationsReadingL(env, async (read, get) => {
        const run = await get();
        if (read === 1) {
          // Between this read (L running) and the insert of the signal, another one makes L continue.
          await env.operations.signalRun('L', 'tick', 'one');
          await env.settle();
        }
        return run;
      });
      assert.deepEqual(await operations.signalRun('L', 'tick', 'two'), { runId: 'L~2', duplicate: false });
      await env.settle();
      assert.equal((await env.run('L~2')).status, 'continued');
      assert.deepEqual((await env.run('L~3')).input, { n: 2, last: 'two' });
    } finally {
      await env.close();
    }
  });

  test('a signal the run took before it continued, while its sender looked again, is not sent on a second time', async () => {
    const env = await createTestEnv({ workflows: [folder.path('loop.ts')] });
    try {
      await env.start('loop', { n: 0 }, 'L');
      let reads = 0;
      const operations = operationsReadingL(env, async (read, get) => {
        reads = read;
        // The sender's second look comes after L took the signal and continued.
        if (read === 2) await env.settle();
        return get();
      });
      assert.deepEqual(await operations.signalRun('L', 'tick', 'one'), { runId: 'L', duplicate: false });
      await env.settle();
      assert.ok(reads >= 2, 'the sender looked again');
      assert.deepEqual((await env.run('L~2')).input, { n: 1, last: 'one' });
      assert.equal((await env.run('L~2')).status, 'running', 'L~2 waits for a tick of its own');
    } finally {
      await env.close();
    }
  });

  test('a run read on its own links to the run it continues and to the one it continued as', async () => {
    const env = await createTestEnv({ workflows: [folder.path('loop.ts')] });
    try {
      await env.start('loop', { n: 0 }, 'L');
      await env.signal('L', 'tick', 'one');
      const [first, second] = await Promise.all(['L', 'L~2'].map((id) => env.operations.getRun(id)));
      assert.deepEqual([first?.continuedFrom, first?.continuedAs], [undefined, 'L~2']);
      assert.deepEqual([second?.continuedFrom, second?.continuedAs], ['L', undefined]);
    } finally {
      await env.close();
    }
  });
});
