/**
 * The counters the alerts of docs/deploy.md watch have their series from the start, at 0: `rate()` and `increase()`
 * ignore a series' first sample, so a first burst of errors, failed calls or fenced writes that created its series
 * would go unseen.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { pino } from 'pino';
import type { Logger } from '../core/ports.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import { VirtualClock } from './clocks.js';
import { createMetrics } from './metrics.js';
import { createRuntime, embeddedRuntimeConfig } from './runtime.js';

const logger = pino({ level: 'silent' }) as unknown as Logger;

/** The samples of `metric` in the exposition, each as `{labels without node} value`. */
function samplesOf(text: string, metric: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${metric}{`))
    .map((line) =>
      line
        .slice(metric.length)
        .replace(/node="[^"]*",?/, '')
        .replace(',}', '}'),
    );
}

test('store errors, failed call attempts and fenced writes have their series at 0 before the first one', async () => {
  const folder = workflowFolder({});
  after(() => folder.remove());
  const runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: folder.dir, apiToken: 'test' }), {
    clock: new VirtualClock(Date.UTC(2026, 2, 2, 12)),
    logger,
    pollIntervalMs: null,
  });
  await runtime.start();
  try {
    const text = await runtime.metrics.render();
    const errors = samplesOf(text, 'autoflow_store_operation_seconds_count').filter((sample) => sample.includes('outcome="error"'));
    for (const operation of ['commitTask', 'claimReadyRuns', 'claimDueCalls', 'resolveCall', 'insertEvent', 'fireDueTimers']) {
      assert.ok(
        errors.includes(`{operation="${operation}",outcome="error"} 0`),
        `${operation}'s errors from 0; there are:\n${errors.join('\n')}`,
      );
    }
    const attempts = samplesOf(text, 'autoflow_call_attempts_total');
    for (const capability of ['http', 'emit', 'tasks', 'activities']) {
      for (const outcome of ['ok', 'failed', 'retry', 'abandoned']) {
        assert.ok(
          attempts.includes(`{capability="${capability}",outcome="${outcome}"} 0`),
          `${capability} ${outcome}; there are:\n${attempts.join('\n')}`,
        );
      }
    }
    assert.deepEqual(samplesOf(text, 'autoflow_fenced_writes_total'), [
      '{what="task"} 0',
      '{what="call_result"} 0',
      '{what="call_retry"} 0',
    ]);
  } finally {
    await runtime.stop();
  }
});

test("a subscriber's deliveries and failed attempts have their series at 0 from the first scrape, and its lag gauges no values while the store cannot say", async () => {
  const metrics = createMetrics({
    store: createMemoryStore(),
    clock: new VirtualClock(Date.UTC(2026, 2, 2, 12)),
    logger,
    nodeId: 'local',
    processMetrics: false,
  });
  let storeDown = false;
  metrics.attachSubscribers(() =>
    storeDown
      ? Promise.reject(new Error('the database is down'))
      : Promise.resolve([{ subscriber: 'tickets', events: 3, oldestSeconds: 42, held: true }]),
  );
  const text = await metrics.render();
  assert.deepEqual(samplesOf(text, 'autoflow_subscriber_deliveries_total'), ['{subscriber="tickets"} 0']);
  assert.deepEqual(samplesOf(text, 'autoflow_subscriber_failed_attempts_total'), ['{subscriber="tickets"} 0']);
  assert.deepEqual(samplesOf(text, 'autoflow_subscriber_lag_seconds'), ['{subscriber="tickets"} 42']);

  metrics.subscriberAttempt('tickets', '503');
  assert.deepEqual(samplesOf(await metrics.render(), 'autoflow_subscriber_failed_attempts_total'), ['{subscriber="tickets"} 1']);

  storeDown = true;
  const down = await metrics.render();
  for (const gauge of ['autoflow_subscriber_lag_events', 'autoflow_subscriber_lag_seconds', 'autoflow_subscriber_lease_held']) {
    assert.deepEqual(samplesOf(down, gauge), [], `${gauge} has no values while the store cannot say`);
  }
});
