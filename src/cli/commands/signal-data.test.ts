import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { autoflow } from '../../../test/helpers/cli-process.js';
import { createApp } from '../../server/http/app.js';
import { serve, type RunningServer } from '../../server/serve.js';
import { createFakeOperations, createMemoryLogger } from '../../server/testing/fake-operations.js';

const operations = createFakeOperations({ workflows: { slow: () => null }, delays: { slow: 120_000 } });
let server: RunningServer;
let dir: string;
before(async () => {
  server = await serve(createApp({ operations, logger: createMemoryLogger() }), { port: 0, host: '127.0.0.1', shutdownGraceMs: 0 });
  dir = mkdtempSync(join(tmpdir(), 'autoflow-signal-data-'));
});
after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('signal without --data sends a signal without data (signal() gets true); --data null sends null', async () => {
  await operations.startRun({ workflow: 'slow', id: 'waits' });
  const env = { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: 'test-token' };
  for (const args of [[], ['--data', 'null']]) {
    const outcome = await autoflow(['signal', 'waits', 'go', ...args], { cwd: dir, env });
    assert.equal(outcome.code, 0, outcome.stderr);
  }
  assert.deepEqual(operations.signals, [
    { runId: 'waits', name: 'go', payload: undefined },
    { runId: 'waits', name: 'go', payload: null },
  ]);
});
