import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { autoflow, type CliOutcome } from '../../../test/helpers/cli-process.js';
import type { ListRunsQuery, Operations } from '../../app/operations.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../app/runtime.js';
import { createApp } from '../../server/http/app.js';
import { serve, type RunningServer } from '../../server/serve.js';
import { createMemoryLogger } from '../../server/testing/fake-operations.js';
import { endedRun } from '../../store/conformance/fixtures.js';

const HOUR = 3_600_000;

/** `autoflow runs --status failed --since` and `retry --failed --since`, against a server over a real store. */
describe('runs and retry by when runs failed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-runs-cli-'));
  const now = Date.now();
  const queries: ListRunsQuery[] = [];
  let runtime: Runtime;
  let server: RunningServer;
  const cli = (args: string[]): Promise<CliOutcome> =>
    autoflow(args, { cwd: dir, env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: 'test-token' } });

  before(async () => {
    runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: dir, apiToken: 'test-token' }));
    await runtime.start();
    // What the server was asked: retry --failed --since must leave the filtering to it.
    const operations: Operations = {
      ...runtime.operations,
      listRuns: (query) => (queries.push(query), runtime.operations.listRuns(query)),
    };
    server = await serve(createApp({ operations, logger: createMemoryLogger() }), { port: 0, host: '127.0.0.1', shutdownGraceMs: 0 });
    await endedRun(runtime.store, 'started-days-ago', now - 72 * HOUR, now - 5 * 60_000);
    await endedRun(runtime.store, 'failed-2h-ago', now - 3 * HOUR, now - 2 * HOUR);
    await endedRun(runtime.store, 'started-lately', now - 30 * 60_000, now - 20 * 60_000, 'completed');
  });
  after(async () => {
    await server?.close();
    await runtime?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('--status failed lists the latest failure first, with when it ended; --since 1h leaves out one from 2h ago', async () => {
    const all = await cli(['runs', '--status', 'failed']);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+WORKFLOW\s+VERSION\s+STATUS\s+ENDED\s+CREATED$/);
    assert.deepEqual(
      lines.slice(1).map((line) => line.split(/\s+/)[0]),
      ['started-days-ago', 'failed-2h-ago'],
    );
    const ended = new Date(now - 5 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    assert.match(lines[1]!, new RegExp(`^started-days-ago\\s+wf\\s+\\S+\\s+failed\\s+${ended}\\s+\\S+Z$`));

    const recent = await cli(['runs', '--status', 'failed', '--since', '1h', '-q']);
    assert.equal(recent.stdout, 'started-days-ago\n');
    const none = await cli(['runs', '--status', 'failed', '--since', new Date(now + HOUR).toISOString()]);
    assert.match(none.stderr, /^no runs ended since \d{4}-\d\d-\d\dT\S+Z\n$/);
    // Runs that may still run are listed by when they started, and --since is on that time.
    const started = await cli(['runs', '--since', '1h', '-q']);
    assert.equal(started.stdout, 'started-lately\n');
  });

  test('a bad --since is a usage error (exit 2) that says what it takes', async () => {
    const bad = await cli(['runs', '--status', 'failed', '--since', 'yesterday']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since yesterday: give a time \(2026-12-06T10:00:00Z\) or how long ago \(2h, 30m, 1d\)/);
  });

  test('retry --failed --since asks the server for the failures since then, not for every failed run', async () => {
    queries.length = 0;
    const dry = await cli(['retry', '--failed', '--since', '1h', '--dry-run']);
    // The run was written straight to the store, on a version never deployed: the server's check says so.
    assert.equal(dry.code, 1, dry.stderr);
    assert.match(
      dry.stdout,
      /^run started-days-ago \(wf\) is failed since \S+ {2}Error: started-days-ago broke\n {2}✗ would be refused: version \S+ of workflow 'wf' is not in the store/,
    );
    assert.equal(queries.length, 1);
    assert.equal(queries[0]?.order, 'updated');
    assert.equal(queries[0]?.status, 'failed');
    const from = queries[0]?.updatedFrom ?? 0;
    assert.ok(from > now - HOUR - 60_000 && from <= Date.now() - HOUR, `updatedFrom ${from} is an hour ago`);
  });
});
