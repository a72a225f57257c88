/**
 * A server on SQLite whose database file is deleted under it (an operator's `rm`, a cleanup job):
 * SQLite would go on committing into the deleted file, lost at the next start. Instead the probes
 * and the scrape say so, writes are refused, and the log has one error that says what to do.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createRuntime, embeddedRuntimeConfig } from '../../app/runtime.js';
import { createMemoryLogger } from '../testing/fake-operations.js';
import { call } from '../testing/request.js';
import { createApp } from './app.js';
import { observabilityOf } from './observability.js';

const folder = mkdtempSync(join(tmpdir(), 'autoflow-file-lost-'));
writeFileSync(
  join(folder, 'hello.ts'),
  `import { workflow } from 'autoflow';
export default workflow({ name: 'hello', async run(input: unknown) { return input; } });
`,
);
after(() => rmSync(folder, { recursive: true, force: true }));

test('a deleted database file: /readyz and /healthz 503 naming it, store_up 0, writes refused, one error in the log', async () => {
  const path = join(folder, 'af.db');
  const logger = createMemoryLogger();
  const runtime = await createRuntime(
    embeddedRuntimeConfig({ db: { kind: 'sqlite', path }, workflowsDir: folder, apiToken: 'test-token' }),
    { pollIntervalMs: null, logger },
  );
  const app = createApp({ operations: runtime.operations, logger: createMemoryLogger(), observability: observabilityOf(runtime) });
  try {
    await runtime.start();
    assert.equal((await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id: 'before', input: 1 } })).status, 201);
    assert.equal((await call(app, 'GET', '/readyz', { token: null })).status, 200);

    for (const file of [path, `${path}-wal`, `${path}-shm`]) rmSync(file);
    const problem = new RegExp(`^the database file ${path} was deleted or replaced while the server ran .*Restart the server`);
    const ready = await call<{ ok: boolean; reason?: string }>(app, 'GET', '/readyz', { token: null });
    assert.equal(ready.status, 503);
    assert.match(ready.body.reason ?? '', problem);
    const health = await call<{ ok: boolean; reason?: string }>(app, 'GET', '/healthz', { token: null });
    assert.equal(health.status, 503);
    assert.match(health.body.reason ?? '', problem);
    assert.match(await (await app.request('/metrics')).text(), /^autoflow_store_up\{node="local"\} 0$/m);
    const run = await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'hello', id: 'after', input: 2 } });
    assert.equal(run.status, 503, JSON.stringify(run.body));
    assert.equal((await call(app, 'GET', '/livez', { token: null })).status, 200);

    const lines = logger.entries.filter((entry) => entry.level === 'error' && problem.test(entry.message ?? ''));
    assert.equal(lines.length, 1, 'logged once, as an error');
  } finally {
    await runtime.stop().catch(() => undefined);
  }
});
