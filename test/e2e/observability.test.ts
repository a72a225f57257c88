/**
 * `/metrics` and `/readyz` over real HTTP on loopback: what an operator's Prometheus and load
 * balancer see of a runtime that did some work.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { createMetrics } from '../../src/app/metrics.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../src/app/runtime.js';
import type { Logger } from '../../src/core/ports.js';
import { createApp } from '../../src/server/http/app.js';
import { observabilityOf } from '../../src/server/http/observability.js';
import { serve, type RunningServer } from '../../src/server/serve.js';
import { createMemoryStore } from '../../src/store/memory/memory-store.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const logger = pino({ level: 'silent' }) as unknown as Logger;
const folder = workflowFolder({
  'flaky.ts': `import { activities, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'flaky',
  permissions: { activities: ['flaky', 'broken'] },
  async run() {
    await sleep('50ms');
    const value = await activities.flaky({});
    try { await activities.broken({}); } catch { /* counted as failed */ }
    return value;
  },
});`,
});
const dataDir = mkdtempSync(join(tmpdir(), 'autoflow-metrics-'));
let runtime: Runtime;
let server: RunningServer;
let attempts = 0;

/** One sample's value from the exposition, by metric name and exact label set. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string | undefined> = {};
    for (const label of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) found[label[1]!] = label[2];
    delete found.node;
    if (Object.entries(labels).every(([key, value]) => found[key] === value) && Object.keys(found).length === Object.keys(labels).length) {
      return Number(match[3]);
    }
  }
  return undefined;
}

async function scrape(): Promise<string> {
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return response.text();
}

before(async () => {
  runtime = await createRuntime(
    embeddedRuntimeConfig({
      db: { kind: 'sqlite', path: join(dataDir, 'af.db') },
      workflowsDir: folder.dir,
      apiToken: 'api',
      gitlabWebhookSecret: 'hook-secret',
      activities: {
        flaky: async () => {
          attempts++;
          if (attempts === 1) throw new Error('first attempt fails');
          return { attempts };
        },
        broken: async () => {
          throw Object.assign(new Error('never works'), { nonRetryable: true });
        },
      },
    }),
    { logger },
  );
  await runtime.start();
  server = await serve(createApp({ operations: runtime.operations, logger, observability: observabilityOf(runtime) }), {
    port: 0,
    host: '127.0.0.1',
  });
});
after(async () => {
  await server.close();
  await runtime.stop().catch(() => undefined); // the readiness test closed the store under it
  folder.remove();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('GET /metrics', () => {
  test('counts runs, call attempts by outcome, timers, webhooks, cache and store latency', async () => {
    const { run } = await runtime.operations.startRun({ workflow: 'flaky', input: {} });
    const deadline = Date.now() + 20_000;
    while ((await runtime.operations.getRun(run.id)).status === 'running') {
      assert.ok(Date.now() < deadline, 'the run did not finish within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal((await runtime.operations.getRun(run.id)).status, 'completed');
    const rejected = await fetch(`${server.url}/webhooks/gitlab`, {
      method: 'POST',
      headers: { 'x-gitlab-token': 'wrong', 'x-gitlab-event': 'Issue Hook', 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(rejected.status, 401);

    const text = await scrape();
    assert.equal(sample(text, 'autoflow_runs', { status: 'completed' }), 1);
    assert.equal(sample(text, 'autoflow_runs_finished_total', { workflow: 'flaky', status: 'completed' }), 1);
    assert.equal(sample(text, 'autoflow_call_attempts_total', { capability: 'activities', outcome: 'retry' }), 1);
    assert.equal(sample(text, 'autoflow_call_attempts_total', { capability: 'activities', outcome: 'ok' }), 1);
    assert.equal(sample(text, 'autoflow_call_attempts_total', { capability: 'activities', outcome: 'failed' }), 1);
    assert.ok((sample(text, 'autoflow_timer_lag_seconds_count') ?? 0) >= 1, 'the sleep and the retry fired as timers');
    assert.equal(sample(text, 'autoflow_webhooks_total', { result: 'rejected' }), 1);
    assert.equal(sample(text, 'autoflow_webhooks_total', { result: 'accepted' }), 0);
    assert.equal(sample(text, 'autoflow_queue_ready_runs', { workflow: 'flaky' }), 0);
    assert.equal(sample(text, 'autoflow_queue_lag_seconds', { workflow: 'flaky' }), 0);
    assert.equal(sample(text, 'autoflow_store_up'), 1);
    assert.ok((sample(text, 'autoflow_store_operation_seconds_count', { operation: 'commitTask', outcome: 'ok' }) ?? 0) >= 3);
    assert.ok(sample(text, 'autoflow_sandbox_cache_bytes') !== undefined);
    assert.ok((sample(text, 'autoflow_workflow_tasks_total') ?? 0) >= 3);
    assert.match(text, new RegExp(`autoflow_runs\\{status="completed",node="${runtime.nodeId}"\\} 1`));
  });

  test('two runtimes in one process keep separate registries', async () => {
    const options = { store: createMemoryStore(), clock: runtime.clock, logger, processMetrics: false };
    const a = createMetrics({ ...options, nodeId: 'a' });
    const b = createMetrics({ ...options, nodeId: 'b' });
    a.webhook('accepted');
    a.webhook('accepted');
    b.webhook('duplicate');
    const [textA, textB] = await Promise.all([a.render(), b.render()]);
    assert.equal(sample(textA, 'autoflow_webhooks_total', { result: 'accepted' }), 2);
    assert.equal(sample(textB, 'autoflow_webhooks_total', { result: 'accepted' }), 0);
    assert.equal(sample(textB, 'autoflow_webhooks_total', { result: 'duplicate' }), 1);
    assert.equal(sample(textA, 'autoflow_sandbox_thread_runs', { thread: 'main' }), undefined, 'no sandbox threads, no such series');
  });

  test('with sandbox threads, live sandboxes per thread', async () => {
    const placement = { mainThread: 2, threads: [3, 0] };
    const metrics = createMetrics({
      store: createMemoryStore(),
      clock: runtime.clock,
      logger,
      nodeId: 'n',
      processMetrics: false,
      sandboxPlacement: () => placement,
    });
    const text = await metrics.render();
    assert.deepEqual(
      ['main', '1', '2'].map((thread) => sample(text, 'autoflow_sandbox_thread_runs', { thread })),
      [2, 3, 0],
    );
  });
});

describe('GET /readyz', () => {
  test('200 while the database answers, 503 with the reason once it does not', async () => {
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ok: true, store: 'sqlite' });
    await runtime.store.close();
    const gone = await fetch(`${server.url}/readyz`);
    assert.equal(gone.status, 503);
    const body = (await gone.json()) as { ok: boolean; reason?: string };
    assert.equal(body.ok, false);
    assert.match(body.reason ?? '', /closed/);
    const scraped = await scrape();
    assert.equal(sample(scraped, 'autoflow_store_up'), 0, 'a scrape still answers, and says the store is down');
  });
});
