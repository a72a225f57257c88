/**
 * Two engines on one store, as two servers on one database: a node that stalls past its call
 * lease while making a call loses the call to the other node, and its late result is refused —
 * counted as a fenced write — while the other node's result is the one the run sees. The same
 * holds for a run's end that a node records after losing the run.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import type { EngineEvents } from '../../src/core/engine.js';
import type { HistoryEvent } from '../../src/core/model.js';
import type { Capability, Store, TaskCommit } from '../../src/core/ports.js';
import { createQuickJsSandbox } from '../../src/sandbox/quickjs-sandbox.js';
import { createMemoryStore } from '../../src/store/memory/memory-store.js';
import { virtualTimeEngine } from '../helpers/engine.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const CALL_LEASE_MS = 10_000;
const RUN_LEASE_MS = 5_000;

const folder = workflowFolder({
  'spin.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'spin', async run() { for (;;) {} } });`,
  'slow.ts': `import { activities, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'slow',
  permissions: { activities: ['step'] },
  async run() {
    const first = await activities.step();
    await sleep('1h');
    return first;
  },
});`,
});
after(() => folder.remove());

/**
 * Node `a` commits the run's first task so slowly that it leaves the call to be claimed as a due
 * call, claims it, and starts an attempt that does not answer until `answerA` is called. Node `b`
 * answers every attempt at once with 'from-b'.
 */
async function nodeStalledMidCall() {
  const clock = new VirtualClock();
  const shared = createMemoryStore();
  await shared.migrate();
  let slowCommits = 1;
  const storeOfA: Store = Object.assign(Object.create(shared) as Store, {
    commitTask: async (commit: TaskCommit) => {
      const result = await shared.commitTask(commit);
      if (slowCommits-- > 0) clock.advanceTo(clock.now() + CALL_LEASE_MS * 0.6);
      return result;
    },
  });
  let answerA: (value: string) => void = () => {};
  let attemptStarted: () => void = () => {};
  const attemptOfA = new Promise<void>((resolve) => (attemptStarted = resolve));
  const stalled: Capability = {
    name: 'activities',
    invoke: () => {
      attemptStarted();
      return new Promise((resolve) => (answerA = resolve));
    },
  };
  const prompt: Capability = { name: 'activities', invoke: async () => 'from-b' };
  const sandbox = await createQuickJsSandbox();
  const engine = (nodeId: string, store: Store, step: Capability) =>
    virtualTimeEngine({
      store,
      sandbox,
      clock,
      capabilities: new Map([['activities', step]]),
      nodeId,
      runLeaseMs: RUN_LEASE_MS,
      callLeaseMs: CALL_LEASE_MS,
    });
  const a = engine('a', storeOfA, stalled);
  const b = engine('b', shared, prompt);
  const definition = await buildDefinition(folder.path('slow.ts'), sandbox, clock.now());
  for (const node of [a, b]) {
    await node.deploy(definition);
    await node.start();
  }
  const fenced: Array<EngineEvents['write:fenced']> = [];
  a.events.on('write:fenced', (event) => fenced.push(event));
  await a.submitRun({ id: 'r1', workflow: 'slow', version: definition.version, input: null, createdAt: clock.now() });
  await a.whenIdle();
  assert.equal((await shared.listCalls('r1')).length, 1, 'the slow commit left its call outstanding');
  clock.advanceTo(clock.nextAt()!);
  await attemptOfA;
  const answer = async (value: string) => {
    answerA(value);
    await a.whenIdle();
  };
  /** Lets `b` do all it can at the current virtual time. */
  const driveB = async () => {
    for (let i = 0; i < 5; i++) {
      b.notify();
      await b.whenIdle();
      clock.advanceTo(clock.now());
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const callResults = async () =>
    (await shared.loadHistory('r1')).filter(
      (event): event is Extract<HistoryEvent, { type: 'call_completed' }> => event.type === 'call_completed',
    );
  return { clock, shared, a, b, fenced, answer, driveB, callResults, stop: () => Promise.all([a.stop(), b.stop()]) };
}

test('a node that stalled past its call lease has its late result refused and counted; the run sees the result of the node that took over', async () => {
  const { clock, shared, fenced, answer, driveB, callResults, stop } = await nodeStalledMidCall();
  clock.advanceTo(clock.now() + CALL_LEASE_MS + 1);
  await driveB();
  assert.deepEqual(
    (await callResults()).map((event) => event.value),
    ['from-b'],
    "b took the call over once a's lease passed, and recorded its result",
  );
  await answer('from-a');
  assert.deepEqual(fenced, [{ runId: 'r1', step: 1, what: 'call_result' }]);
  assert.equal((await callResults()).length, 1, 'the late result changed nothing');
  clock.advanceTo(clock.now() + 3_600_000);
  await driveB();
  const run = await shared.getRun('r1');
  assert.equal(run?.status, 'completed');
  assert.equal(run?.result, 'from-b');
  await stop();
});

test('a call result refused because the run was cancelled meanwhile is not counted as a fenced write', async () => {
  const { shared, a, fenced, answer, stop } = await nodeStalledMidCall();
  await a.cancel('r1', 'no longer needed');
  await answer('from-a');
  assert.equal((await shared.getRun('r1'))?.status, 'cancelled');
  assert.deepEqual(fenced, [], 'the lease of a was never lost');
  await stop();
});

test("a node that lost the run while its workflow spun past the CPU limit has the run's end refused and counted", async () => {
  const clock = new VirtualClock();
  const shared = createMemoryStore();
  await shared.migrate();
  // While the spinning task runs, another node takes the run over (it has a cancellation to
  // deliver and this node's lease has passed): this node's record of the failure comes too late.
  const storeOfA: Store = Object.assign(Object.create(shared) as Store, {
    commitTask: async (commit: TaskCommit) => {
      if (commit.status?.status === 'failed') {
        await shared.addPending(commit.runId, { kind: 'cancel' }, clock.now());
        clock.advanceTo(clock.now() + RUN_LEASE_MS);
        await shared.claimReadyRuns('b', clock.now(), clock.now() + RUN_LEASE_MS, 1);
      }
      return shared.commitTask(commit);
    },
  });
  const sandbox = await createQuickJsSandbox({ cpuMsPerActivation: 50 });
  const a = virtualTimeEngine({ store: storeOfA, sandbox, clock, nodeId: 'a', runLeaseMs: RUN_LEASE_MS });
  const fenced: Array<EngineEvents['write:fenced']> = [];
  a.events.on('write:fenced', (event) => fenced.push(event));
  const definition = await buildDefinition(folder.path('spin.ts'), sandbox, clock.now());
  await a.deploy(definition);
  // Created through the queue (by another node's API, say): the run exists before its first task.
  await shared.createRun({ id: 'r1', workflow: 'spin', version: definition.version, input: null, createdAt: clock.now() });
  await a.start();
  await a.whenIdle();
  assert.deepEqual(fenced, [{ runId: 'r1', what: 'task' }]);
  assert.equal((await shared.getRun('r1'))?.status, 'running', "the run is the other node's to end");
  await a.stop();
});
