import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { pino } from 'pino';
import packageJson from '../../package.json' with { type: 'json' };
import type { Engine } from '../core/engine.js';
import { StoreError } from '../core/errors.js';
import type { Store } from '../core/ports.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import { VirtualClock } from './clocks.js';
import { HEALTH_BUDGET_MS, METRICS_STORE_BUDGET_MS, createMetrics } from './metrics.js';
import { createOperations } from './operations-impl.js';

type Mode = 'up' | 'hangs' | 'fails';

/** A memory store whose scrape-time and health reads answer, hang for good, or fail, as the test says. */
function switchableStore() {
  const store = createMemoryStore();
  const state = { mode: 'up' as Mode, reads: 0 };
  const gated =
    <A extends unknown[], R>(read: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      state.reads++;
      if (state.mode === 'hangs') return new Promise<R>(() => {});
      if (state.mode === 'fails') return Promise.reject(new StoreError('PostgreSQL at postgres://db/x: connection refused'));
      return read(...args);
    };
  const switchable: Store = {
    ...store,
    countRunsByStatus: gated(() => Promise.resolve({ running: 3, failed: 1 })),
    queueStats: gated(() => {
      const oldestReadyAt = Date.UTC(2026, 0, 5, 8, 59, 50);
      return Promise.resolve({ readyRuns: 2, oldestReadyAt, byWorkflow: [{ workflow: 'build', readyRuns: 2, oldestReadyAt }] });
    }),
    countApiTokens: gated(() => store.countApiTokens()),
  };
  return { store: switchable, state };
}

function metricsOf(store: Store) {
  return createMetrics({ store, clock: new VirtualClock(), logger: pino({ level: 'silent' }), nodeId: 'node-a', processMetrics: false });
}

/** The value of a sample line that starts with `series` (name and labels), or undefined when there is none. */
function sample(text: string, series: string): string | undefined {
  return text
    .split('\n')
    .find((line) => line.startsWith(series))
    ?.split(' ')
    .at(-1);
}

describe('/metrics while the store does not answer', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('a scrape answers within its budget with autoflow_store_up 0 instead of hanging, and reads the store once while it hangs', async () => {
    const { store, state } = switchableStore();
    const metrics = metricsOf(store);
    state.mode = 'hangs';
    const first = metrics.render();
    mock.timers.tick(METRICS_STORE_BUDGET_MS);
    const text = await first;
    assert.equal(sample(text, 'autoflow_store_up{node="node-a"}'), '0');
    const readsWhileHanging = state.reads;
    const second = metrics.render();
    mock.timers.tick(METRICS_STORE_BUDGET_MS);
    assert.equal(sample(await second, 'autoflow_store_up{node="node-a"}'), '0');
    assert.equal(state.reads, readsWhileHanging, 'the second scrape waits for the read in flight');
  });

  test('the runs and queue gauges have no value while the store is down, not the last one read', async () => {
    const { store, state } = switchableStore();
    const metrics = metricsOf(store);
    const up = await metrics.render();
    assert.equal(sample(up, 'autoflow_runs{status="running",node="node-a"}'), '3');
    assert.equal(sample(up, 'autoflow_runs{status="stuck",node="node-a"}'), '0');
    assert.equal(sample(up, 'autoflow_queue_ready_runs{workflow="build",node="node-a"}'), '2');
    state.mode = 'fails';
    const down = await metrics.render();
    assert.equal(sample(down, 'autoflow_store_up{node="node-a"}'), '0');
    assert.equal(sample(down, 'autoflow_runs{'), undefined);
    assert.equal(sample(down, 'autoflow_queue_ready_runs{'), undefined);
    assert.equal(sample(down, 'autoflow_queue_lag_seconds{'), undefined);
    state.mode = 'up';
    const again = await metrics.render();
    assert.equal(sample(again, 'autoflow_queue_ready_runs{workflow="build",node="node-a"}'), '2');
    assert.equal(sample(again, 'autoflow_queue_lag_seconds{workflow="build",node="node-a"}'), '10');
  });
});

describe('series that exist from the start', () => {
  // Runs finished start at 0 too, by workflow: metrics-by-workflow.test.ts.
  test('runs retried by version start at 0; build info names the version and the node', async () => {
    const { store } = switchableStore();
    const text = await metricsOf(store).render();
    assert.equal(sample(text, 'autoflow_runs_retried_total{version="same",node="node-a"}'), '0');
    assert.equal(sample(text, 'autoflow_runs_retried_total{version="latest",node="node-a"}'), '0');
    assert.equal(sample(text, `autoflow_build_info{version="${packageJson.version}",node="node-a"}`), '1');
  });
});

describe('/healthz while the store does not answer', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('health answers within its budget, not ok, with the reason', async () => {
    const { store, state } = switchableStore();
    const engine = { definitions: () => [], events: { on: () => () => {} } } as unknown as Engine;
    const operations = createOperations({ engine, store, clock: new VirtualClock(), checkInput: () => {}, webhookSources: [] });
    assert.equal((await operations.health()).ok, true);
    state.mode = 'hangs';
    const pending = operations.health();
    mock.timers.tick(HEALTH_BUDGET_MS);
    const health = await pending;
    assert.equal(health.ok, false);
    assert.match((health as { reason?: string }).reason ?? '', /the memory store did not answer within 2000 ms/);
  });
});
