import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { autoflow } from '../../../test/helpers/cli-process.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../app/runtime.js';
import { createApp } from '../../server/http/app.js';
import { serve, type RunningServer } from '../../server/serve.js';
import { createMemoryLogger } from '../../server/testing/fake-operations.js';
import { humanTask } from '../../store/conformance/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-tasks-cli-'));
let runtime: Runtime;
let server: RunningServer;

before(async () => {
  runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: dir, apiToken: 'test-token' }));
  await runtime.start();
  server = await serve(createApp({ operations: runtime.operations, logger: createMemoryLogger() }), {
    port: 0,
    host: '127.0.0.1',
    shutdownGraceMs: 0,
  });
});
after(async () => {
  await server?.close();
  await runtime?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the table shows when each task is due, and nothing for a task without a deadline', async () => {
  const due = Date.UTC(2026, 2, 31, 17, 0, 0);
  await runtime.store.createHumanTask(humanTask('tk_release', { title: 'Sign off 2.0', createdAt: 2000, dueAt: due }));
  await runtime.store.createHumanTask(humanTask('tk_whenever', { title: 'Retro notes', createdAt: 1000 }));
  const table = await autoflow(['tasks'], { cwd: dir, env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: 'test-token' } });
  assert.equal(table.code, 0, table.stderr);
  const [header, ...rows] = table.stdout.trimEnd().split('\n');
  assert.match(header ?? '', /^ID\s+KIND\s+STATUS\s+TITLE\s+WHO\s+CREATED\s+DUE\s+PAGE$/);
  const dueColumn = header!.indexOf('DUE');
  const dueOf = (row: string | undefined) => row?.slice(dueColumn, header!.indexOf('PAGE')).trim();
  assert.equal(dueOf(rows[0]), '2026-03-31T17:00:00Z', 'formatted like CREATED');
  assert.match(rows[0] ?? '', /^tk_release\s/);
  assert.equal(dueOf(rows[1]), '');
  assert.match(rows[1] ?? '', /^tk_whenever\s.*\s\/tasks\/tk_whenever$/);
});
