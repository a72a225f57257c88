/**
 * The ready queue and the runs finished by workflow on `/metrics`: which workflow is backed up, which one's runs
 * fail. The queue is read from a real store; the deployed workflows are those the engine knows.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { TypedEmitter } from '../core/emitter.js';
import type { Engine, EngineEvents } from '../core/engine.js';
import type { Logger } from '../core/ports.js';
import { commit, newRun, OWNER } from '../store/conformance/fixtures.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { VirtualClock } from './clocks.js';
import { createMetrics } from './metrics.js';
import { createRuntime, embeddedRuntimeConfig } from './runtime.js';

const logger = pino({ level: 'silent' }) as unknown as Logger;
const NOW = Date.UTC(2026, 2, 2, 12);

/** The samples of `metric` in the exposition, each as `{labels without node} value`, in the order printed. */
function samplesOf(text: string, metric: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${metric}{`))
    .map((line) => line.slice(metric.length).replace(/,?node="[^"]*"/, ''));
}

/** Fails with the samples missing from `samples`, and every sample there is. */
function assertHas(samples: string[], expected: string[]): void {
  assert.deepEqual(
    expected.filter((sample) => !samples.includes(sample)),
    [],
    `missing; there are:\n${samples.join('\n')}`,
  );
}

/** An engine as the metrics see it: the deployed workflows (which a test may change) and the events. */
function engineWith(deployed: string[]): { engine: Engine; events: TypedEmitter<EngineEvents> } {
  const events = new TypedEmitter<EngineEvents>();
  const engine = {
    events,
    definitions: () => deployed.map((name) => ({ name })),
    cacheStats: () => ({ runs: 0, bytes: 0 }),
    capabilityNames: () => [],
  } as unknown as Engine;
  return { engine, events };
}

describe('the ready queue by workflow', () => {
  test('each workflow its backlog and lag; 0 for a deployed one with none; a retired one gone once its queue drained', async () => {
    const store = createMemoryStore();
    const metrics = createMetrics({ store, clock: new VirtualClock(NOW), logger, nodeId: 'node-a', processMetrics: false });
    metrics.attachEngine(engineWith(['build', 'deploy', 'lint']).engine);
    for (const [id, workflow, waited] of [
      ['b1', 'build', 30_000],
      ['b2', 'build', 10_000],
      ['b3', 'build', 5000],
      ['d1', 'deploy', 2000],
      ['o1', 'old', 60_000],
    ] as const) {
      await store.createRun(newRun(id, { workflow, createdAt: NOW - waited }));
    }

    const backlog = await metrics.render();
    assert.deepEqual(samplesOf(backlog, 'autoflow_queue_ready_runs'), [
      '{workflow="build"} 3',
      '{workflow="deploy"} 1',
      '{workflow="lint"} 0',
      '{workflow="old"} 1',
    ]);
    assert.deepEqual(samplesOf(backlog, 'autoflow_queue_lag_seconds'), [
      '{workflow="build"} 30',
      '{workflow="deploy"} 2',
      '{workflow="lint"} 0',
      '{workflow="old"} 60',
    ]);

    assert.equal((await store.claimReadyRuns(OWNER, NOW, NOW + 60_000, 10)).length, 5);
    for (const id of ['d1', 'o1']) assert.ok((await store.commitTask(commit(id, 0, NOW))).ok);
    const drained = await metrics.render();
    assert.deepEqual(samplesOf(drained, 'autoflow_queue_ready_runs'), [
      '{workflow="build"} 3',
      '{workflow="deploy"} 0',
      '{workflow="lint"} 0',
    ]);
    assert.deepEqual(samplesOf(drained, 'autoflow_queue_lag_seconds'), [
      '{workflow="build"} 30',
      '{workflow="deploy"} 0',
      '{workflow="lint"} 0',
    ]);
  });
});

describe('runs finished by workflow', () => {
  test("each deployed workflow's series start at 0, a workflow deployed later's from the next scrape", async () => {
    const deployed = ['build', 'deploy'];
    const { engine, events } = engineWith(deployed);
    const metrics = createMetrics({
      store: createMemoryStore(),
      clock: new VirtualClock(NOW),
      logger,
      nodeId: 'node-a',
      processMetrics: false,
    });
    metrics.attachEngine(engine);
    const zeros = (workflow: string) =>
      ['completed', 'failed', 'cancelled', 'continued'].map((status) => `{workflow="${workflow}",status="${status}"} 0`);
    assert.deepEqual(samplesOf(await metrics.render(), 'autoflow_runs_finished_total'), [...zeros('build'), ...zeros('deploy')]);

    events.emit('run:finished', { runId: 'b1', workflow: 'build', status: 'failed' });
    events.emit('run:finished', { runId: 'b2', workflow: 'build', status: 'failed' });
    events.emit('run:finished', { runId: 'd1', workflow: 'deploy', status: 'completed' });
    deployed.push('lint');
    assertHas(samplesOf(await metrics.render(), 'autoflow_runs_finished_total'), [
      '{workflow="build",status="failed"} 2',
      '{workflow="build",status="completed"} 0',
      '{workflow="deploy",status="completed"} 1',
      '{workflow="deploy",status="failed"} 0',
      ...zeros('lint'),
    ]);
  });

  test('a runtime counts its runs by the workflow they ran', async () => {
    const folder = workflowFolder({
      'good.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'good', async run() { return 1; } });`,
      'bad.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'bad', async run() { throw new Error('always'); } });`,
    });
    after(() => folder.remove());
    const runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: folder.dir, apiToken: 'test' }), {
      clock: new VirtualClock(NOW),
      logger,
      pollIntervalMs: null,
    });
    await runtime.start();
    try {
      await runtime.operations.startRun({ workflow: 'good', input: null });
      await runtime.operations.startRun({ workflow: 'bad', input: null });
      await runtime.operations.startRun({ workflow: 'bad', input: null });
      await runtime.engine.whenIdle();
      const text = await runtime.metrics.render();
      assertHas(samplesOf(text, 'autoflow_runs_finished_total'), [
        '{workflow="bad",status="failed"} 2',
        '{workflow="bad",status="completed"} 0',
        '{workflow="good",status="completed"} 1',
        '{workflow="good",status="failed"} 0',
      ]);
      assert.deepEqual(samplesOf(text, 'autoflow_queue_ready_runs'), ['{workflow="bad"} 0', '{workflow="good"} 0']);
    } finally {
      await runtime.stop();
    }
  });
});
