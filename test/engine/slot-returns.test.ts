/**
 * A run waiting for its own slow call keeps its slot only while no other run needs one: on a full node with runs in
 * the ready queue, it gives the slot back after a second of waiting, its call goes on, and the answer reaches it
 * through the store. Before, a workflow whose runs each waited on a slow call held every slot, and another workflow's
 * runs waited for those calls to end. Activities here answer when the test says so; time is virtual.
 */
import assert from 'node:assert/strict';
import { setImmediate } from 'node:timers/promises';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import type { Json, RunStatus } from '../../src/core/model.js';
import type { Capability, Store } from '../../src/core/ports.js';
import { createQuickJsSandbox } from '../../src/sandbox/quickjs-sandbox.js';
import { createMemoryStore } from '../../src/store/memory/memory-store.js';
import { virtualTimeEngine } from '../helpers/engine.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'slow.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'slow',
  permissions: { activities: ['slow'] },
  async run(input: { n: number }) {
    const answer = await activities.slow(input.n);
    return { n: input.n, answer };
  },
});`,
  'quick.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'quick',
  permissions: { activities: ['quick'] },
  async run() {
    return activities.quick('done');
  },
});`,
});
after(() => folder.remove());

/** `quick` answers its argument at once; each `slow` attempt answers `slow <n>` when the test calls `answerSlow()`. */
function controlledActivities() {
  const slowAttempts: Json[] = [];
  let answerSlow = (): void => {};
  const slowAnswered = new Promise<void>((resolve) => (answerSlow = resolve));
  const capability: Capability = {
    name: 'activities',
    invoke: async (method, args) => {
      if (method !== 'slow') return args;
      slowAttempts.push(args);
      await slowAnswered;
      return `slow ${JSON.stringify(args)}`;
    },
  };
  return { capability, slowAttempts, answerSlow };
}

async function node(concurrency: number, pollIntervalMs: number | null = null) {
  const store = createMemoryStore();
  await store.migrate();
  const sandbox = await createQuickJsSandbox();
  const clock = new VirtualClock();
  const activities = controlledActivities();
  /** Task commits by run, and the runs whose call answers were recorded through the store (not in a run's advance). */
  const commits = new Map<string, number>();
  const answeredThroughStore: string[] = [];
  const counting: Store = Object.assign(Object.create(store) as Store, {
    commitTask: async (commit: Parameters<Store['commitTask']>[0]) => {
      const result = await store.commitTask(commit);
      if (result.ok) commits.set(commit.runId, (commits.get(commit.runId) ?? 0) + 1);
      return result;
    },
    resolveCall: (...args: Parameters<Store['resolveCall']>) => {
      answeredThroughStore.push(args[0]);
      return store.resolveCall(...args);
    },
  });
  const engine = virtualTimeEngine({
    store: counting,
    sandbox,
    clock,
    capabilities: new Map([['activities', activities.capability]]),
    concurrency,
    pollIntervalMs,
  });
  for (const file of ['slow', 'quick']) await engine.deploy(await buildDefinition(folder.path(`${file}.ts`), sandbox, clock.now()));
  await engine.start();
  const finished = new Map<string, RunStatus>();
  engine.events.on('run:finished', ({ runId, status }) => void finished.set(runId, status));
  const start = (workflow: string, id: string, input: Json = null) =>
    engine.submitRun({ id, workflow, version: engine.activeDefinition(workflow)!.version, input, createdAt: clock.now() });
  return { engine, store, clock, activities, commits, finished, start, answeredThroughStore };
}

/** Lets the engine do what it can without time passing: runs advance, calls start, the queue is claimed. */
async function settled(): Promise<void> {
  for (let i = 0; i < 20; i++) await setImmediate();
}

test('on a full node, a run waiting for a slow call gives its slot to a ready run, and still gets its answer', async () => {
  const { engine, store, clock, activities, finished, start } = await node(2);
  await start('slow', 'slow-1', { n: 1 });
  await start('slow', 'slow-2', { n: 2 });
  await settled();
  assert.equal(activities.slowAttempts.length, 2, 'both slow calls are being made, one slot each');
  await start('quick', 'quick-1');
  await settled();
  assert.equal(finished.has('quick-1'), false, 'no slot is free yet: the quick run waits in the queue');

  clock.advance(1000);
  await settled();
  assert.equal(finished.get('quick-1'), 'completed', 'a slow run gave its slot back after a second of waiting');
  assert.deepEqual((await store.getRun('quick-1'))?.result, 'done');
  assert.equal(activities.slowAttempts.length, 2, 'the slow calls go on: none was made again');
  assert.equal(finished.size, 1);

  activities.answerSlow();
  await engine.whenIdle();
  assert.deepEqual((await store.getRun('slow-1'))?.result, { n: 1, answer: 'slow 1' });
  assert.deepEqual((await store.getRun('slow-2'))?.result, { n: 2, answer: 'slow 2' });
  assert.equal(activities.slowAttempts.length, 2, 'each slow call was made once');
  await engine.stop();
});

test('as many runs give their slots back as runs are ready, those that waited longest first', async () => {
  const { engine, clock, activities, finished, start, answeredThroughStore } = await node(3);
  await start('slow', 'slow-1', { n: 1 });
  clock.advance(500);
  await start('slow', 'slow-2', { n: 2 });
  await start('slow', 'slow-3', { n: 3 });
  await settled();
  await start('quick', 'quick-1');
  await settled();
  assert.equal(finished.has('quick-1'), false);

  // slow-1 has waited 1.5 s, the others 1 s: all three may give their slot back, and one run is ready.
  clock.advance(1000);
  await settled();
  assert.equal(finished.get('quick-1'), 'completed');
  activities.answerSlow();
  await engine.whenIdle();
  assert.deepEqual(answeredThroughStore, ['slow-1'], 'only the run that waited longest gave its slot back');
  assert.deepEqual(
    ['slow-1', 'slow-2', 'slow-3'].map((id) => finished.get(id)),
    ['completed', 'completed', 'completed'],
  );
  await engine.stop();
});

test('with nothing else ready, a run keeps its slot while its call runs and gets the answer in memory', async () => {
  // The poll looks for work every 10 s: each time the node is full, with a run that has waited long enough.
  const { engine, clock, activities, commits, finished, start, answeredThroughStore } = await node(1, 10_000);
  await start('slow', 'slow-1', { n: 1 });
  await settled();
  for (let i = 0; i < 6; i++) {
    clock.advance(10_000);
    await settled();
  }
  activities.answerSlow();
  await engine.whenIdle();
  assert.equal(finished.get('slow-1'), 'completed');
  assert.deepEqual(answeredThroughStore, [], 'the answer reached the run in memory');
  assert.equal(commits.get('slow-1'), 2, 'the first task, then the one that completes the run');
  await engine.stop();
});
