import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import type { Store, TaskCommit } from '../../src/core/ports.js';
import { createQuickJsSandbox } from '../../src/sandbox/quickjs-sandbox.js';
import { createMemoryStore } from '../../src/store/memory/memory-store.js';
import { virtualTimeEngine } from '../helpers/engine.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'plain.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'plain', async run() { return 'done'; } });`,
});
after(() => folder.remove());

test('a run whose advance fails unexpectedly is retried with back-off, not in a tight loop, and then completes', async () => {
  const real = createMemoryStore();
  let failuresLeft = 3;
  let commits = 0;
  // The store is real; only its task commit fails, three times, as a flaky database would.
  const store: Store = Object.assign(Object.create(real) as Store, {
    commitTask: async (commit: TaskCommit) => {
      commits++;
      if (failuresLeft-- > 0) throw new Error('database hiccup');
      return real.commitTask(commit);
    },
  });
  await store.migrate();
  const sandbox = await createQuickJsSandbox();
  const clock = new VirtualClock();
  const engine = virtualTimeEngine({ store, sandbox, clock });
  await engine.deploy(await buildDefinition(folder.path('plain.ts'), sandbox, clock.now()));
  await engine.start();
  await engine.submitRun({ id: 'r1', workflow: 'plain', version: engine.activeDefinition('plain')!.version, input: null, createdAt: clock.now() });
  await engine.whenIdle();
  assert.equal(commits, 1, 'one failed attempt, then it waits for its back-off');
  assert.equal((await store.getRun('r1'))?.status, 'running');
  for (let i = 0; i < 10 && (await store.getRun('r1'))?.status === 'running'; i++) {
    clock.advanceTo(clock.nextAt() ?? clock.now());
    await engine.whenIdle();
    await new Promise((resolve) => setImmediate(resolve));
    await engine.whenIdle();
  }
  const run = await store.getRun('r1');
  assert.equal(run?.status, 'completed');
  assert.equal(run?.result, 'done');
  assert.equal(commits, 4, 'three failures with back-off, then success');
  assert.ok(clock.now() - run.createdAt >= 7000, 'back-off of 1 s, 2 s and 4 s');
  await engine.stop();
});
