/**
 * A server on PostgreSQL whose database goes silent (the connections open at that moment freeze, new
 * ones are refused, as after a failover that sent no reset): the probes and the scrape still answer
 * in time, writes answer 503 with Retry-After, liveness stays up, and all is well again once the
 * database answers.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../app/runtime.js';
import { TEST_POSTGRES_URL, testOnPostgres } from '../../../test/helpers/postgres.js';
import { TcpProxy } from '../../../test/helpers/tcp-proxy.js';
import { createMemoryLogger } from '../testing/fake-operations.js';
import { call } from '../testing/request.js';
import { createApp } from './app.js';
import { observabilityOf } from './observability.js';

const PORTS = Array.from({ length: 100 }, (_, i) => 18_700 + i);
const target = new URL(TEST_POSTGRES_URL);
const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) }, PORTS);
mkdirSync('/tmp/fix-sre', { recursive: true });
const folder = mkdtempSync('/tmp/fix-sre/outage-');
writeFileSync(
  join(folder, 'hello.ts'),
  `import { workflow } from 'autoflow';
export default workflow({ name: 'hello', async run(input: unknown) { return input; } });
`,
);
after(async () => {
  await proxy.close();
  rmSync(folder, { recursive: true, force: true });
});

/** A runtime whose PostgreSQL connections go through the proxy, with short query timeouts and no polling. */
function runtimeThroughProxy(url: string): Promise<Runtime> {
  return createRuntime(
    embeddedRuntimeConfig({
      db: { kind: 'postgres', url: proxy.url(url) },
      workflowsDir: folder,
      apiToken: 'test-token',
      postgres: { poolSize: 3, queryTimeoutMs: 300 },
    }),
    { pollIntervalMs: null },
  );
}

await testOnPostgres(
  'while the database is silent: /livez 200, /healthz and /readyz 503 in time, store_up 0, writes 503 with Retry-After',
  async (url) => {
    const runtime = await runtimeThroughProxy(url);
    const logger = createMemoryLogger();
    const app = createApp({ operations: runtime.operations, logger, observability: observabilityOf(runtime) });
    try {
      await runtime.start();
      assert.equal((await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id: 'before', input: 1 } })).status, 201);

      proxy.freeze();
      proxy.arrivals('refuse');
      const started = performance.now();
      assert.equal((await call(app, 'GET', '/livez', { token: null })).status, 200);
      const health = await call<{ ok: boolean; reason?: string }>(app, 'GET', '/healthz', { token: null });
      assert.equal(health.status, 503);
      assert.match(health.body.reason ?? '', /PostgreSQL/);
      assert.equal((await call(app, 'GET', '/readyz', { token: null })).status, 503);
      const scrape = await app.request('/metrics');
      assert.equal(scrape.status, 200);
      assert.match(await scrape.text(), /^autoflow_store_up\{node="[^"]+"\} 0$/m);
      const run = await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id: 'during', input: 2 } });
      assert.equal(run.status, 503, JSON.stringify(run.body));
      assert.equal(run.headers.get('retry-after'), '5');
      const event = await call(app, 'POST', '/api/v1/events', {
        body: { specversion: '1.0', id: 'e-1', source: 'test', type: 'com.example.thing' },
      });
      assert.equal(event.status, 503, JSON.stringify(event.body));
      assert.equal(event.headers.get('retry-after'), '5');
      assert.ok(performance.now() - started < 10_000, 'every answer came within the budgets');

      proxy.arrivals('forward');
      proxy.dropFrozen();
      assert.equal((await call(app, 'GET', '/healthz', { token: null })).status, 200);
      assert.equal((await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id: 'after', input: 3 } })).status, 201);
    } finally {
      proxy.arrivals('forward');
      proxy.dropFrozen();
      await runtime.stop();
    }
  },
);

await testOnPostgres(
  'a server whose database went silent, while it was opening connections, still stops (SIGTERM) within a few query timeouts',
  async (url) => {
    const runtime = await runtimeThroughProxy(url);
    try {
      await runtime.start();
      await runtime.operations.startRun({ workflow: 'hello', id: 'one', input: 1 });
      // New connections are accepted and never answered, as at an address nothing answers any more: the
      // starts below time out on the frozen connections, and their retries wait for new ones to open.
      proxy.freeze();
      proxy.arrivals('silence');
      const starts = Array.from({ length: 6 }, (_, i) =>
        runtime.operations.startRun({ workflow: 'hello', id: `during-${i}`, input: i }).then(
          () => 'stored',
          (error: unknown) => (error instanceof Error ? error.name : String(error)),
        ),
      );
      const started = performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stopped = await Promise.race([
        runtime.stop().then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 8000))),
      ]);
      clearTimeout(timer);
      assert.ok(stopped, `stopped after ${Math.round(performance.now() - started)} ms`);
      const outcomes = await Promise.all(starts);
      assert.ok(
        outcomes.every((outcome) => outcome !== 'stored'),
        `no start could be stored: ${outcomes.join(', ')}`,
      );
    } finally {
      proxy.arrivals('forward');
      proxy.dropFrozen();
    }
  },
);
