import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import type { Capability } from '../../src/core/ports.js';
import { ThreadedSandbox, createThreadedSandbox } from '../../src/sandbox/threads/threaded-sandbox.js';
import { createMemoryStore } from '../../src/store/memory/memory-store.js';
import { virtualTimeEngine } from '../helpers/engine.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'tally.ts': `import { activities, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'tally',
  permissions: { activities: ['add'] },
  async run(input: { start: number }) {
    let total = input.start;
    for (let i = 1; i <= 3; i++) {
      total = (await activities.add({ total, i })) as number;
      await sleep('1h');
    }
    return { total, random: Math.random() };
  },
});`,
});
after(() => folder.remove());

test('runs whose sandbox thread stopped mid-run are rebuilt by replay and finish as if nothing happened', async () => {
  const calls: string[] = [];
  const add: Capability = {
    name: 'activities',
    invoke: async (_method, args, context) => {
      const { total, i } = args as { total: number; i: number };
      calls.push(`${context.runId}:${i}`);
      return total + i;
    },
  };
  const clock = new VirtualClock();
  const store = createMemoryStore();
  await store.migrate();
  const sandbox = await createThreadedSandbox({ threads: 1 });
  assert.ok(sandbox instanceof ThreadedSandbox);
  const engine = virtualTimeEngine({ store, sandbox, clock, capabilities: new Map([['activities', add]]) });
  const definition = await buildDefinition(folder.path('tally.ts'), sandbox, clock.now());
  await engine.deploy(definition);
  await engine.start();
  const ids = ['t-1', 't-2', 't-3'];
  for (const [index, id] of ids.entries()) {
    await engine.submitRun({ id, workflow: 'tally', version: definition.version, input: { start: index * 100 }, createdAt: clock.now() });
  }
  await engine.whenIdle();
  const parked = sandbox.placement();
  assert.ok((parked.threads[0] ?? 0) > 0, `some parked runs live on the worker thread (${JSON.stringify(parked)})`);

  // The worker thread goes away with the sandboxes of the runs parked there.
  await sandbox.close();
  for (let turn = 0; turn < 20 && (await Promise.all(ids.map((id) => store.getRun(id)))).some((run) => run?.status === 'running'); turn++) {
    await engine.whenIdle();
    await new Promise((resolve) => setImmediate(resolve));
    clock.advanceTo(clock.nextAt() ?? clock.now());
  }
  const runs = await Promise.all(ids.map((id) => store.getRun(id)));
  assert.deepEqual(
    runs.map((run) => [run?.status, (run?.result as { total: number } | undefined)?.total]),
    [
      ['completed', 6],
      ['completed', 106],
      ['completed', 206],
    ],
  );
  assert.deepEqual(
    [...calls].sort(),
    ids.flatMap((id) => [1, 2, 3].map((i) => `${id}:${i}`)),
    'each call ran once: a rebuild replays recorded results, it does not call again',
  );
  await engine.stop();
  await sandbox.close();
});
