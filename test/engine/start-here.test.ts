import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import type { Engine } from '../../src/core/engine.js';
import type { Capability, Store } from '../../src/core/ports.js';
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
});
after(() => folder.remove());

test('a run started on a node with a free slot is advanced there at once; with none free, another node takes it', async () => {
  const real = createMemoryStore();
  const claimedBy = new Map<string, string[]>();
  // The real store; claims are only recorded, to see which runs went through the ready queue.
  const store: Store = Object.assign(Object.create(real) as Store, {
    claimReadyRuns: async (owner: string, now: number, leaseUntil: number, limit: number) => {
      const ids = await real.claimReadyRuns(owner, now, leaseUntil, limit);
      claimedBy.set(owner, [...(claimedBy.get(owner) ?? []), ...ids]);
      return ids;
    },
  });
  await store.migrate();
  let release = (): void => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let holding = (): void => {};
  const r1Holds = new Promise<void>((resolve) => (holding = resolve));
  const ranOn = new Map<string, string>();
  // Run r1's call holds node a's only slot until the test lets it go; the others answer at once.
  const hold = (nodeId: string): Capability => ({
    name: 'activities',
    invoke: async (_method, _args, context) => {
      ranOn.set(context.runId, nodeId);
      if (context.runId === 'r1') {
        holding();
        await held;
      }
      return `${context.runId} done`;
    },
  });
  const sandbox = await createQuickJsSandbox();
  const clock = new VirtualClock();
  const node = (nodeId: string): Engine =>
    virtualTimeEngine({ store, sandbox, clock, nodeId, concurrency: 1, capabilities: new Map([['activities', hold(nodeId)]]) });
  const [a, b] = [node('a'), node('b')];
  const definition = await buildDefinition(folder.path('held.ts'), sandbox, clock.now());
  for (const engine of [a, b]) {
    await engine.deploy(definition);
    await engine.start();
  }
  const submit = (id: string) => a.submitRun({ id, workflow: 'held', version: definition.version, input: null, createdAt: clock.now() });

  await submit('r1');
  await r1Holds;
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
