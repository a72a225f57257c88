/**
 * The ready queue serves workflows in turn: a workflow with a backlog of hundreds of queued runs (here one that
 * starts eight children of itself, recursively) does not make another workflow's run wait behind all of them. Before,
 * the queue was oldest-first across workflows, and a bystander's run waited until the whole backlog ahead of it had
 * been served (21,000 runs in one report: a 10-second run took 7 minutes).
 */
import assert from 'node:assert/strict';
import { setImmediate } from 'node:timers/promises';
import { after, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'fan-out.ts': `import { executeChild, workflow } from 'autoflow';
export default workflow({
  name: 'fan-out',
  async run(input: { children: number }) {
    const results = await Promise.all(Array.from({ length: input.children }, (_, i) => executeChild('leaf', { i })));
    return results.length;
  },
});`,
  'leaf.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'leaf', async run(input: { i: number }) { return input.i; } });`,
  'bomb.ts': `import { executeChild, workflow } from 'autoflow';
export default workflow({
  name: 'bomb',
  async run() {
    await Promise.all([executeChild('bomb', {}), executeChild('bomb', {})]);
  },
});`,
  'bystander.ts': `import { signal, workflow } from 'autoflow';
export default workflow({
  name: 'bystander',
  async run() {
    for (let i = 0; i < 3; i++) await signal('go');
    return 'done';
  },
});`,
});
after(() => folder.remove());

/** Children the fan-out starts in one task: all of them queued at once, ahead of the bystander. */
const CHILDREN = 400;
/** Runs one node advances at once: one claim takes at most that many. */
const SLOTS = 64;

test("a workflow's backlog does not hold back another workflow's runs", async () => {
  const env = await createTestEnv({ workflows: [folder.path('fan-out.ts'), folder.path('leaf.ts'), folder.path('bystander.ts')] });
  try {
    const { engine, operations, store } = env.runtime;
    await env.start('bystander', null, 'bystander');
    const started = new Set<string>();
    const stopCounting = engine.events.on('run:updated', ({ run }) => void (run.workflow === 'leaf' && started.add(run.id)));
    await operations.startRun({ workflow: 'fan-out', input: { children: CHILDREN }, id: 'fan-out' });
    const queued = (await store.queueStats()).readyRuns;
    // The bystander's mail comes after the backlog: a queue served oldest first would serve it last.
    env.clock.advanceTo(env.now() + 1000);
    // Each signal makes the bystander ready once: three trips through the queue while the backlog is served.
    const startedMeanwhile: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = started.size;
      const length = (await env.history('bystander')).length;
      await operations.signalRun('bystander', 'go', i);
      while ((await env.history('bystander')).length === length) await setImmediate();
      startedMeanwhile.push(started.size - before);
    }
    assert.equal((await env.result('bystander')).result, 'done');
    stopCounting();
    assert.ok(queued > CHILDREN - SLOTS, `the fan-out's children were queued when the bystander was signalled (${queued} ready runs)`);
    // In turn with the backlog, the bystander's run is in the next claim.
    assert.ok(
      startedMeanwhile.every((count) => count <= SLOTS),
      `children started while the bystander waited for the queue, on each of its trips: ${startedMeanwhile.join(', ')}`,
    );
    assert.equal((await env.result('fan-out')).result, CHILDREN, 'the backlog is served all the same');
  } finally {
    await env.close();
  }
});

/** Runs of the bomb when its root is cancelled, and how many there may be before the test gives up on the cancel. */
const BOMB_AT_CANCEL = 300;
const BOMB_LIMIT = 3000;

test('cancelling the root of a workflow that starts children of itself without end stops it', async () => {
  const env = await createTestEnv({ workflows: [folder.path('bomb.ts')] });
  try {
    const { engine, operations, store } = env.runtime;
    const runs = new Set<string>();
    const stopCounting = engine.events.on('run:updated', ({ run }) => void runs.add(run.id));
    await operations.startRun({ workflow: 'bomb', input: {}, id: 'bomb' });
    while (runs.size < BOMB_AT_CANCEL) await setImmediate();
    await operations.cancelRun('bomb', 'runaway');
    // Before, the cancel waited its turn behind the bomb's backlog one generation at a time, while the bomb grew one
    // generation in the same time: it never caught up.
    while (!engine.isIdle() && runs.size < BOMB_LIMIT) await setImmediate();
    stopCounting();
    assert.ok(runs.size < BOMB_LIMIT, `the bomb went on growing after its root was cancelled: ${runs.size} runs`);
    const counts = await store.countRunsByStatus();
    assert.deepEqual(counts.running ?? 0, 0, `every run of the bomb ended: ${JSON.stringify(counts)}`);
    assert.equal((await env.run('bomb')).status, 'cancelled');
  } finally {
    await env.close();
  }
});
