/**
 * Retention on a whole runtime (SQLite file, virtual clock): ended runs go with their history once
 * `runDays` have passed, and replaced versions that no run uses; parked runs stay however old; old
 * events go unless an outgoing subscriber has not been given them yet; the sweeper runs by itself.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { NotFoundError } from '../core/errors.js';
import type { CloudEvent, Json } from '../core/model.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { VirtualClock } from './clocks.js';
import { SWEEP_INTERVAL_MS } from './retention.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from './runtime.js';

const DAY_MS = 86_400_000;

const folder = workflowFolder({
  'quick.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'quick', async run(input: { n: number }) { return input.n * 2; } });`,
  'parked.ts': `import { waitFor, workflow } from 'autoflow';
export default workflow({ name: 'parked', async run() { return waitFor('test.wake'); } });`,
  'announce.ts': `import { emit, workflow } from 'autoflow';
export default workflow({ name: 'announce', async run() { await emit('test.announced', { ok: true }); return 'sent'; } });`,
});
after(() => folder.remove());

async function runtimeWith(name: string, clock: VirtualClock, options: { subscribers?: boolean } = {}): Promise<Runtime> {
  const runtime = await createRuntime(
    embeddedRuntimeConfig({
      db: { kind: 'sqlite', path: join(folder.dir, `${name}.db`) },
      workflowsDir: folder.dir,
      apiToken: 'test',
      retention: { runDays: 1, eventDays: 2 },
      ...(options.subscribers ? { subscribers: [{ url: 'http://127.0.0.1:9/hook', secret: 's' }] } : {}),
    }),
    // A subscriber that is down: nothing emitted reaches it.
    { clock, pollIntervalMs: null, fetch: () => Promise.reject(new Error('connection refused')) },
  );
  await runtime.start();
  return runtime;
}

async function finished(runtime: Runtime, workflow: string, id: string, input: Json = {}): Promise<void> {
  await runtime.operations.startRun({ workflow, id, input });
  await runtime.engine.whenIdle();
  assert.equal((await runtime.operations.getRun(id)).status, 'completed', id);
}

async function isGone(runtime: Runtime, id: string): Promise<boolean> {
  return runtime.operations.getRun(id).then(
    () => false,
    (error: unknown) => error instanceof NotFoundError,
  );
}

test('an ended run goes with its history once runDays have passed, and so does a replaced version no run uses; a parked run stays', async () => {
  const clock = new VirtualClock();
  const runtime = await runtimeWith('runs', clock);
  try {
    await finished(runtime, 'quick', 'old', { n: 1 });
    await runtime.operations.startRun({ workflow: 'parked', id: 'parked', input: {} });
    await runtime.engine.whenIdle();
    // Two versions of `versioned`, the second replacing the first, which no run uses.
    const quick = (await runtime.operations.getRun('old')).version;
    writeFileSync(
      folder.path('versioned.ts'),
      `import { workflow } from 'autoflow';
export default workflow({ name: 'versioned', async run() { return 1; } });`,
    );
    await runtime.redeploy();
    writeFileSync(
      folder.path('versioned.ts'),
      `import { workflow } from 'autoflow';
export default workflow({ name: 'versioned', async run() { return 2; } });`,
    );
    await runtime.redeploy();
    clock.advance(DAY_MS / 2);
    await finished(runtime, 'quick', 'newer', { n: 2 });

    clock.advance(DAY_MS / 2 + 1);
    assert.deepEqual(await runtime.retention.sweep(), { runs: 1, events: 0, definitions: 1 });
    assert.equal(await isGone(runtime, 'old'), true);
    assert.deepEqual(await runtime.store.loadHistory('old'), []);
    assert.ok(await runtime.store.getDefinition(quick), 'the active version of quick stays');
    assert.equal((await runtime.store.listDefinitionVersions('versioned')).length, 1, 'the replaced version of versioned goes');
    assert.equal((await runtime.operations.getRun('newer')).result, 4);
    assert.equal((await runtime.operations.getRun('parked')).status, 'running');
    const metrics = await runtime.metrics.render();
    assert.match(metrics, /autoflow_retention_deleted_total\{kind="runs",node="local"\} 1\n/);
    assert.match(metrics, /autoflow_retention_deleted_total\{kind="definitions",node="local"\} 1\n/);

    // The parked run still gets its event after all this time.
    await runtime.operations.ingestEvent({ specversion: '1.0', id: 'wake-1', source: '/test', type: 'test.wake' });
    await runtime.engine.whenIdle();
    assert.equal((await runtime.operations.getRun('parked')).status, 'completed');
  } finally {
    await runtime.stop();
  }
});

test('routed events go after eventDays, except those an outgoing subscriber has not been given', async () => {
  const clock = new VirtualClock();
  const runtime = await runtimeWith('events', clock, { subscribers: true });
  try {
    const event = (id: string): CloudEvent => ({ specversion: '1.0', id, source: '/test', type: 'test.other' });
    const first = await runtime.operations.ingestEvent(event('before'));
    await runtime.engine.whenIdle();
    await runtime.subscribers.whenIdle();
    // The subscriber is down, so the emitted event and everything after it wait for it.
    await finished(runtime, 'announce', 'announce');
    await runtime.subscribers.whenIdle();
    const later = await runtime.operations.ingestEvent(event('after'));
    await runtime.engine.whenIdle();

    clock.advance(2 * DAY_MS + 1);
    const { events } = await runtime.retention.sweep();
    assert.equal(events, 1);
    assert.equal(await runtime.store.getEvent(first.seq), undefined);
    const kept = (await runtime.operations.listEvents({ limit: 10 })).map((stored) => stored.type);
    assert.deepEqual(kept, ['test.other', 'test.announced']);
    assert.ok(await runtime.store.getEvent(later.seq));
  } finally {
    await runtime.stop();
  }
});

test('the sweeper runs by itself: soon after start, then every ten minutes', async () => {
  const clock = new VirtualClock();
  const before = await runtimeWith('timer', clock);
  await finished(before, 'quick', 'old', { n: 1 });
  await before.stop();
  clock.advance(DAY_MS + 1);
  const runtime = await runtimeWith('timer', clock);
  try {
    clock.advance(0);
    await runtime.retention.whenIdle();
    assert.equal(await isGone(runtime, 'old'), true, 'the sweep at start deletes what is due');

    await finished(runtime, 'quick', 'next', { n: 3 });
    clock.advance(DAY_MS);
    await runtime.retention.whenIdle();
    assert.equal(await isGone(runtime, 'next'), false, 'the sweep ten minutes after the run ended keeps it');
    clock.advance(SWEEP_INTERVAL_MS);
    await runtime.retention.whenIdle();
    assert.equal(await isGone(runtime, 'next'), true, 'the first sweep a day after it ended deletes it');
  } finally {
    await runtime.stop();
  }
});
