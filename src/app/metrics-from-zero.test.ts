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
import { VirtualClock } from './clocks.js';
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
