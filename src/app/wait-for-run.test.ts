/**
 * waitForRun. On the node that advances the run, it answers with the record the run ended with,
 * as the store holds it, without reading it again. On a node that does not advance the run, the
 * run ends through the shared store (as another node's commit would), with no engine event there,
 * and the wait still ends within a second of virtual time instead of at its timeout.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Capability, Store } from '../core/ports.js';
import { createQuickJsSandbox } from '../sandbox/quickjs-sandbox.js';
import { commit, newRun } from '../store/conformance/fixtures.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import { VirtualClock } from './clocks.js';
import { buildDefinition } from './deploy.js';
import { createOperations } from './operations-impl.js';
import type { RunView } from './operations.js';
import { virtualTimeEngine } from '../../test/helpers/engine.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';

const folder = workflowFolder({
  'answer.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'answer',
  permissions: { activities: ['ask'] },
  async run(input: { question: string }) {
    const answer = await activities.ask(input.question);
    if (answer === 'no') throw new Error('the answer was no');
    return { question: input.question, answer, at: new Date().toISOString() };
  },
});`,
});
after(() => folder.remove());

/** Lets the promise callbacks that a store read or a timer set off run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A node that waits for run `id` (created here) without advancing it; `answer()` is what the wait gave, once it ended. */
async function waitingNode(id: string, timeoutMs: number) {
  const store = createMemoryStore();
  const clock = new VirtualClock();
  const engine = virtualTimeEngine({ store, sandbox: await createQuickJsSandbox(), clock, nodeId: 'watcher' });
  const operations = createOperations({ engine, store, clock, checkInput: () => {}, webhookSources: [] });
  await store.createRun(newRun(id));
  let answer: RunView | undefined;
  void operations.waitForRun(id, timeoutMs).then((run) => (answer = run));
  await settle();
  return { store, clock, answer: () => answer };
}

test('the node that ends a run answers the wait with the record the store holds, without reading it again', async () => {
  const real = createSqliteStore({ path: join(folder.dir, 'wait.db') });
  await real.migrate();
  let reads = 0;
  const store: Store = Object.assign(Object.create(real) as Store, {
    getRun: (id: string) => {
      reads++;
      return real.getRun(id);
    },
  });
  const clock = new VirtualClock();
  const sandbox = await createQuickJsSandbox();
  // Each call answers once the test lets it, so that the wait has begun before the run ends.
  const answers: Array<(answer: string) => void> = [];
  const ask: Capability = { name: 'activities', invoke: () => new Promise((resolve) => answers.push(resolve)) };
  const engine = virtualTimeEngine({ store, sandbox, clock, capabilities: new Map([['activities', ask]]) });
  await engine.deploy(await buildDefinition(folder.path('answer.ts'), sandbox, clock.now()));
  await engine.start();
  const operations = createOperations({ engine, store, clock, checkInput: () => {}, webhookSources: [] });

  for (const [id, reply, status] of [
    ['said-yes', 'yes', 'completed'],
    ['said-no', 'no', 'failed'],
  ] as const) {
    const { run } = await operations.startRun({ workflow: 'answer', id, input: { question: `${id}?` } });
    reads = 0;
    // Two requests wait for the run: each is answered.
    const waited = [operations.waitForRun(run.id, 60_000), operations.waitForRun(run.id, 60_000)];
    // Turns of the event loop (no time passes) until the run has made its call.
    for (let turn = 0; turn < 100 && answers.length === 0; turn++) await settle();
    assert.equal(answers.length, 1, 'the run is in its call while the waits begin');
    answers.shift()!(reply);
    const [ended, endedToo] = await Promise.all(waited);
    assert.equal(ended?.status, status);
    assert.deepEqual(endedToo, ended);
    assert.equal(reads, 2, 'the run was read when each wait began, not again when it ended');
    assert.deepEqual(ended, await operations.getRun(run.id), 'the answer is what a read of the run gives');
  }
  await engine.stop();
  await real.close();
});

test('a run that another node ends is seen within a second, not at the timeout', async () => {
  const { store, clock, answer } = await waitingNode('elsewhere', 60_000);
  const ended = commit('elsewhere', 0, clock.now(), { status: { status: 'completed', result: 42 } });
  assert.equal((await store.commitTask(ended)).ok, true);
  await settle();
  assert.equal(answer(), undefined, 'no event told this node yet');

  clock.advance(1000);
  await settle();
  assert.equal(answer()?.status, 'completed');
  assert.equal(answer()?.result, 42);
});

test('a run still running comes back as it is once the timeout passes', async () => {
  const { clock, answer } = await waitingNode('slow', 2500);
  for (let second = 0; second < 2; second++) {
    clock.advance(1000);
    await settle();
    assert.equal(answer(), undefined, `still waiting after ${second + 1} s`);
  }
  clock.advance(500);
  await settle();
  assert.equal(answer()?.status, 'running');
});
