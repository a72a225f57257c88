import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import type { Engine } from '../../src/core/engine.js';
import type { DeployedDefinition, NewRun } from '../../src/core/model.js';
import type { Capability, InstanceOptions, RunLease, Sandbox, Store, TaskCommit } from '../../src/core/ports.js';
import { createQuickJsSandbox } from '../../src/sandbox/quickjs-sandbox.js';
import { createMemoryStore } from '../../src/store/memory/memory-store.js';
import { virtualTimeEngine } from '../helpers/engine.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'held.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'held',
  permissions: { activities: ['hold'] },
  async run() {
    return activities.hold();
  },
});`,
  'triggered.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'triggered',
  triggers: [{ event: 'demo.go' }],
  permissions: { activities: ['hold'] },
  async run() {
    return activities.hold();
  },
});`,
});
after(() => folder.remove());

/**
 * Nodes `a` (with `slotsOfA` slots) and `b` (one slot) on one store. A run for which `holds` is
 * true holds its call until `release()`; the others answer at once. `holding(n)` resolves once n
 * calls hold. Claims through the ready queue are recorded by owner, the ways runs were created in
 * `creations`, and the calls each run made in `calls`.
 */
async function twoNodes(holds: (runId: string, nodeId: string) => boolean, slotsOfA = 1) {
  const real = createMemoryStore();
  const claimedBy = new Map<string, string[]>();
  const creations: string[] = [];
  // The real store; claims and creations are only recorded, to see which way each run went.
  const store: Store = Object.assign(Object.create(real) as Store, {
    claimReadyRuns: async (owner: string, now: number, leaseUntil: number, limit: number) => {
      const ids = await real.claimReadyRuns(owner, now, leaseUntil, limit);
      claimedBy.set(owner, [...(claimedBy.get(owner) ?? []), ...ids]);
      return ids;
    },
    createRun: async (run: NewRun, lease?: RunLease) => {
      const result = await real.createRun(run, lease);
      creations.push(`${run.id}: created on its own${result.created ? '' : ', existed'}`);
      return result;
    },
    commitTask: async (commit: TaskCommit) => {
      const result = await real.commitTask(commit);
      if (commit.create) creations.push(`${commit.runId}: created with its first task${result.ok ? '' : `, ${result.reason}`}`);
      return result;
    },
  });
  await store.migrate();
  let release = (): void => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let holdingNow = 0;
  const waitingFor: Array<{ count: number; resolve: () => void }> = [];
  const holding = (count: number) => new Promise<void>((resolve) => (holdingNow >= count ? resolve() : waitingFor.push({ count, resolve })));
  const ranOn = new Map<string, string>();
  const calls = new Map<string, number>();
  const hold = (nodeId: string): Capability => ({
    name: 'activities',
    invoke: async (_method, _args, context) => {
      ranOn.set(context.runId, nodeId);
      calls.set(context.runId, (calls.get(context.runId) ?? 0) + 1);
      if (holds(context.runId, nodeId)) {
        holdingNow++;
        for (const waiter of waitingFor) if (holdingNow >= waiter.count) waiter.resolve();
        await held;
      }
      return `${context.runId} done`;
    },
  });
  const sandbox = await createQuickJsSandbox();
  const clock = new VirtualClock();
  const node = (nodeId: string, concurrency: number): Engine =>
    virtualTimeEngine({ store, sandbox, clock, nodeId, concurrency, capabilities: new Map([['activities', hold(nodeId)]]) });
  const [a, b] = [node('a', slotsOfA), node('b', 1)];
  const definitions = [
    await buildDefinition(folder.path('held.ts'), sandbox, clock.now()),
    await buildDefinition(folder.path('triggered.ts'), sandbox, clock.now()),
  ];
  for (const engine of [a, b]) {
    for (const definition of definitions) await engine.deploy(definition);
    await engine.start();
  }
  return { store, clock, a, b, claimedBy, creations, ranOn, calls, holding, release, held: definitions[0]! };
}

test('a run started on a node with a free slot is stored by the commit of its first task; its id again starts nothing', async () => {
  const { store, clock, a, b, creations, calls, holding, release, held } = await twoNodes((runId) => runId === 'r1');
  const submit = () => a.submitRun({ id: 'r1', workflow: 'held', version: held.version, input: null, createdAt: clock.now() });

  const started = await submit();
  assert.equal(started.created, true);
  assert.equal(started.run.historyLength, (await store.getRun('r1'))?.historyLength, 'answered with the run as its first task left it');
  assert.ok(started.run.historyLength > 0);
  await holding(1);
  assert.deepEqual(creations, ['r1: created with its first task'], 'one commit, no createRun before it');

  const whileRunning = await submit();
  assert.equal(whileRunning.created, false);
  release();
  await a.whenIdle();
  const afterwards = await submit();
  assert.equal(afterwards.created, false);
  assert.equal(afterwards.run.result, 'r1 done');
  assert.deepEqual(creations.slice(1), [
    'r1: created on its own, existed',
    'r1: created with its first task, exists',
    'r1: created on its own, existed',
  ]);
  assert.equal(calls.get('r1'), 1, 'the workflow called out once');
  for (const engine of [a, b]) await engine.stop();
});

test('a run started on a node with a free slot is advanced there at once; with none free, another node takes it', async () => {
  const { store, clock, a, b, claimedBy, ranOn, holding, release, held } = await twoNodes((runId) => runId === 'r1');
  const submit = (id: string) => a.submitRun({ id, workflow: 'held', version: held.version, input: null, createdAt: clock.now() });

  await submit('r1');
  await holding(1);
  assert.equal(ranOn.get('r1'), 'a', 'the node that created r1 runs it');
  assert.deepEqual([...claimedBy.values()].flat(), [], 'without a claim through the ready queue');

  await submit('r2');
  b.notify();
  await b.whenIdle();
  assert.equal((await store.getRun('r2'))?.result, 'r2 done', 'node a was full, so r2 waited in the ready queue and node b ran it');
  assert.deepEqual(claimedBy.get('b'), ['r2']);
  assert.equal(ranOn.get('r2'), 'b');

  release();
  await a.whenIdle();
  assert.equal((await store.getRun('r1'))?.result, 'r1 done');
  for (const engine of [a, b]) await engine.stop();
});

test('a run an event starts is advanced at once by the node that routes the event while it has a free slot', async () => {
  const started: string[] = [];
  // Node a's runs hold their calls, so that its two slots stay taken.
  const { store, a, b, claimedBy, ranOn, holding, release } = await twoNodes((_runId, nodeId) => nodeId === 'a', 2);
  /** Sends event `id` to node a; resolves with the run it started, once routed. */
  const send = async (id: string): Promise<string | undefined> => {
    const routed = new Promise<string[]>((resolve) => {
      const stop = a.events.on('event:routed', ({ createdRunIds }) => {
        stop();
        resolve(createdRunIds);
      });
    });
    await a.ingest({ specversion: '1.0', id, source: 'test', type: 'demo.go' }, `test:${id}`);
    const [runId] = await routed;
    if (runId) started.push(runId);
    return runId;
  };

  const first = await send('e1');
  const second = await send('e2');
  await holding(2);
  assert.equal(ranOn.get(first!), 'a', 'the node that routed e1 runs the run it started');
  assert.equal(ranOn.get(second!), 'a', 'and the run e2 started, in its second slot');
  assert.deepEqual([...claimedBy.values()].flat(), [], 'without a claim through the ready queue');

  const third = await send('e3');
  b.notify();
  await b.whenIdle();
  assert.equal(ranOn.get(third!), 'b', 'node a was full, so the third run waited in the ready queue and node b ran it');
  assert.deepEqual(claimedBy.get('b'), [third]);
  assert.deepEqual(claimedBy.get('a') ?? [], [], 'node a did not claim it either');

  release();
  await a.whenIdle();
  for (const id of started) assert.equal((await store.getRun(id))?.result, `${id} done`);
  for (const engine of [a, b]) await engine.stop();
});

test('a run whose sandbox fails before its first commit is created on its own and started again', async () => {
  const real = createMemoryStore();
  await real.migrate();
  const creations: string[] = [];
  const store: Store = Object.assign(Object.create(real) as Store, {
    createRun: async (run: NewRun, lease?: RunLease) => {
      creations.push(`${run.id}: created on its own`);
      return real.createRun(run, lease);
    },
  });
  const quickJs = await createQuickJsSandbox();
  let failures = 1;
  const sandbox: Sandbox = Object.assign(Object.create(quickJs) as Sandbox, {
    createInstance: (definition: DeployedDefinition, options: InstanceOptions) =>
      failures-- > 0 ? Promise.reject(new Error('the sandbox thread stopped')) : quickJs.createInstance(definition, options),
  });
  const clock = new VirtualClock();
  const answer: Capability = { name: 'activities', invoke: (_method, _args, context) => Promise.resolve(`${context.runId} done`) };
  const engine = virtualTimeEngine({ store, sandbox, clock, capabilities: new Map([['activities', answer]]) });
  const held = await buildDefinition(folder.path('held.ts'), quickJs, clock.now());
  await engine.deploy(held);
  await engine.start();

  const started = await engine.submitRun({ id: 'r1', workflow: 'held', version: held.version, input: null, createdAt: clock.now() });
  assert.equal(started.created, true);
  assert.deepEqual(creations, ['r1: created on its own']);
  await engine.whenIdle();
  assert.equal((await store.getRun('r1'))?.result, 'r1 done');
  await engine.stop();
});
