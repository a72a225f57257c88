import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { autoflow, type CliOutcome } from '../../test/helpers/cli-process.js';
import { NondeterminismError } from '../core/errors.js';
import { createApp } from '../server/http/app.js';
import { startRun } from '../store/conformance/fixtures.js';
import { lockDatabaseForServer } from '../store/sqlite/server-lock.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import { serve, type RunningServer } from '../server/serve.js';
import { createFakeOperations, createMemoryLogger } from '../server/testing/fake-operations.js';

/**
 * The CLI as users run it: `node bin/autoflow.js …` in a child process, against a real loopback
 * server in this process that serves the API over the in-memory fake operations.
 */

// At least 16 characters: `autoflow server` refuses a shorter AUTOFLOW_API_TOKEN before it says anything else.
const TOKEN = 'cli-test-token-0123';
const operations = createFakeOperations({
  token: TOKEN,
  workflows: {
    hello: (input, log) => {
      log('greeting');
      return { greeting: `Hello, ${(input as { name?: string } | null)?.name ?? 'world'}!` };
    },
    boom: (input) => {
      // As a replay that diverged, which parks the run stuck.
      if ((input as { diverge?: boolean } | null)?.diverge) throw new NondeterminismError('Nondeterminism in workflow task 2, step 1', {});
      throw new TypeError('it broke');
    },
    slow: () => null,
    chatty: (_input, log) => {
      for (let i = 0; i < 2_500; i++) log(`line ${i}`);
      return null;
    },
  },
  delays: { slow: 120_000 },
  refusedRetries: { 'dry-diverges': 'version v2 cannot take run dry-diverges over: Nondeterminism in workflow task 2, step 1' },
});
let server: RunningServer;
let dir: string;

before(async () => {
  server = await serve(createApp({ operations, logger: createMemoryLogger() }), { port: 0, host: '127.0.0.1', shutdownGraceMs: 0 });
  dir = mkdtempSync(join(tmpdir(), 'autoflow-cli-'));
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI as a user runs it, pointed at the test's server. */
function cli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliOutcome> {
  return autoflow(args, {
    cwd: dir,
    env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: TOKEN, ...env },
    ...(stdin !== undefined && { stdin }),
  });
}

describe('run', () => {
  test('prints the run id; the same --id again returns the existing run', async () => {
    const first = await cli(['run', 'hello', '--id', 'fixed-1']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'fixed-1\n');
    const again = await cli(['run', 'hello', '--id', 'fixed-1']);
    assert.equal(again.stdout, 'fixed-1\n');
    assert.match(again.stderr, /run fixed-1 already existed \((running|completed)\); not started again/);
  });

  test('--wait long-polls until the run ends and prints the result as JSON', async () => {
    const outcome = await cli(['run', 'hello', '--input', '{"name":"Ada"}', '--wait']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.deepEqual(JSON.parse(outcome.stdout), { greeting: 'Hello, Ada!' });
    assert.match(outcome.stderr, /^started run run-\d+\n$/);
  });

  test('--input-file reads the input', async () => {
    writeFileSync(join(dir, 'input.json'), '{"name":"Grace"}');
    const outcome = await cli(['run', 'hello', '--input-file', 'input.json', '--wait']);
    assert.deepEqual(JSON.parse(outcome.stdout), { greeting: 'Hello, Grace!' });
  });

  test('--wait exits 1 and prints the error when the run failed', async () => {
    const outcome = await cli(['run', 'boom', '--wait', '--id', 'boom-1']);
    assert.equal(outcome.code, 1);
    assert.equal(outcome.stdout, '');
    assert.match(outcome.stderr, /error: run boom-1 failed: TypeError: it broke\n$/);
  });

  test('--wait on a cancelled run says why it was cancelled', async () => {
    await operations.startRun({ workflow: 'slow', id: 'cancelled-1' });
    await operations.cancelRun('cancelled-1', 'superseded by run 2');
    const outcome = await cli(['run', 'slow', '--id', 'cancelled-1', '--wait']);
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /^error: run cancelled-1 was cancelled: superseded by run 2\n$/m);
  });

  test('--wait --timeout gives up with exit 124, as timeout(1): the run goes on, and a script may wait again', async () => {
    const outcome = await cli(['run', 'slow', '--wait', '--timeout', '0.3', '--id', 'slow-timeout']);
    assert.equal(outcome.code, 124);
    assert.match(
      outcome.stderr,
      /error: run slow-timeout is still running after 0.3 s; wait again with `autoflow wait slow-timeout`, or see where it is with `autoflow show slow-timeout`/,
    );
  });

  test('--id of a run that failed (a CI job run again) says that retry runs it again, before its error', async () => {
    await operations.startRun({ workflow: 'boom', id: 'ci-job-1' });
    await operations.waitForRun('ci-job-1', 5000);
    const outcome = await cli(['run', 'boom', '--id', 'ci-job-1', '--wait']);
    assert.equal(outcome.code, 1);
    assert.equal(
      outcome.stderr,
      'run ci-job-1 already existed (failed); not started again: `autoflow retry ci-job-1` runs it again from the task that failed it\n' +
        'error: run ci-job-1 failed: TypeError: it broke\n',
    );
    const started = await cli(['run', 'hello', '--id', 'fixed-1']);
    assert.doesNotMatch(started.stderr, /autoflow retry/, 'only a failed run');
  });

  test('--input-file - reads the input from standard input', async () => {
    const outcome = await cli(['run', 'hello', '--input-file', '-', '--id', 'from-stdin', '--wait'], {}, '{"name":"Ada"}');
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.deepEqual((await operations.getRun('from-stdin')).input, { name: 'Ada' });
  });

  test('invalid --input JSON is exit 2 with the parser message', async () => {
    const outcome = await cli(['run', 'hello', '--input', '{name: Ada}']);
    assert.equal(outcome.code, 2);
    assert.match(outcome.stderr, /^error: --input is not valid JSON: .*position 1/);
  });

  test('an unknown workflow is exit 1 with the server message, which names the deployed ones', async () => {
    const outcome = await cli(['run', 'nope']);
    assert.equal(outcome.code, 1);
    assert.equal(outcome.stderr, "error: workflow 'nope' does not exist; deployed: boom, chatty, hello, slow\n");
  });
});

describe('wait', () => {
  test('waits for a run that exists and prints its result, as run --wait does', async () => {
    await operations.startRun({ workflow: 'hello', id: 'waited-1', input: { name: 'Lin' } });
    const outcome = await cli(['wait', 'waited-1']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.deepEqual([JSON.parse(outcome.stdout), outcome.stderr], [{ greeting: 'Hello, Lin!' }, '']);
  });

  test('exits 1 with the same messages when the run failed or was cancelled, and 1 for a run that does not exist', async () => {
    await operations.startRun({ workflow: 'boom', id: 'waited-boom' });
    const failed = await cli(['wait', 'waited-boom']);
    assert.deepEqual([failed.code, failed.stdout, failed.stderr], [1, '', 'error: run waited-boom failed: TypeError: it broke\n']);
    await operations.startRun({ workflow: 'slow', id: 'waited-cancelled' });
    await operations.cancelRun('waited-cancelled', 'not needed');
    const cancelled = await cli(['wait', 'waited-cancelled']);
    assert.deepEqual([cancelled.code, cancelled.stderr], [1, 'error: run waited-cancelled was cancelled: not needed\n']);
    const missing = await cli(['wait', 'no-such-run']);
    assert.deepEqual([missing.code, missing.stderr], [1, "error: run 'no-such-run' does not exist\n"]);
  });

  test('--timeout gives up with exit 124 and says to wait again', async () => {
    await operations.startRun({ workflow: 'slow', id: 'waited-slow' });
    const outcome = await cli(['wait', 'waited-slow', '--timeout', '0.3']);
    assert.equal(outcome.code, 124);
    assert.equal(
      outcome.stderr,
      'error: run waited-slow is still running after 0.3 s; wait again with `autoflow wait waited-slow`, or see where it is with `autoflow show waited-slow`\n',
    );
  });
});

describe('inspecting runs', () => {
  before(async () => {
    await operations.startRun({ workflow: 'hello', id: 'seen-1', input: { name: 'Lin' } });
    await operations.waitForRun('seen-1', 5000);
  });

  test('runs prints a table, newest first', async () => {
    const outcome = await cli(['runs', '--workflow', 'hello', '--limit', '2']);
    assert.equal(outcome.code, 0, outcome.stderr);
    const [header, ...rows] = outcome.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^ID\s+WORKFLOW\s+VERSION\s+STATUS\s+CREATED\s+UPDATED$/);
    assert.equal(rows.length, 2);
    assert.match(rows[0] ?? '', /^seen-1\s+hello\s+v1\s+completed\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    assert.match(outcome.stderr, /more runs: add --cursor \S+/);
  });

  test('runs --json prints the page', async () => {
    const outcome = await cli(['runs', '--status', 'failed', '--json']);
    const page = JSON.parse(outcome.stdout) as { runs: Array<{ id: string }>; nextCursor: string | null };
    assert.ok(page.runs.some((run) => run.id === 'boom-1'));
  });

  test('runs -q prints only the ids, for a pipe', async () => {
    const outcome = await cli(['runs', '--workflow', 'hello', '-q']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.ok(outcome.stdout.split('\n').includes('seen-1'));
    assert.match(outcome.stdout, /^([\w-]+\n)+$/);
    assert.equal((await cli(['runs', '--workflow', 'nothing-like-this', '-q'])).stdout, '', 'no runs, no output');
  });

  test('runs of a workflow with none says whether it is deployed, so that a typo does not pass for an empty list', async () => {
    const typo = await cli(['runs', '--workflow', 'helo']);
    assert.equal(typo.stderr, "no runs of workflow 'helo', which is not deployed (deployed: boom, chatty, hello, slow)\n");
    assert.equal((await cli(['runs', '--workflow', 'hello', '--status', 'stuck'])).stderr, "no runs of workflow 'hello'\n");
  });

  test('show prints status, input, result and a readable history', async () => {
    const outcome = await cli(['show', 'seen-1']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.stdout, /^run\s+seen-1$/m);
    assert.match(outcome.stdout, /^status\s+completed$/m);
    assert.match(outcome.stdout, /^input\s+\{"name":"Lin"\}$/m);
    assert.match(outcome.stdout, /^result\s+\{"greeting":"Hello, Lin!"\}$/m);
    assert.match(
      outcome.stdout,
      /^history\n {2}\+0\.000s {2}run_started {4}hello v1 input \{"name":"Lin"\}\n {2}\+\d\.\d{3}s {2}workflow_task\n {2}\+\d\.\d{3}s {2}run_completed {2}\{"greeting":"Hello, Lin!"\}\n$/m,
    );
  });

  test('show --json carries the open calls beside the run and its history', async () => {
    const outcome = await cli(['show', 'seen-1', '--json']);
    assert.equal(outcome.code, 0, outcome.stderr);
    const shown = JSON.parse(outcome.stdout) as { run: { id: string }; calls: unknown[] };
    assert.deepEqual([shown.run.id, shown.calls], ['seen-1', []]);
  });

  test('show of a missing run is exit 1', async () => {
    const outcome = await cli(['show', 'missing']);
    assert.equal(outcome.code, 1);
    assert.equal(outcome.stderr, "error: run 'missing' does not exist\n");
  });

  test('logs prints the lines', async () => {
    const outcome = await cli(['logs', 'seen-1']);
    assert.match(outcome.stdout, /^\d{4}-\d\d-\d\dT\S+Z {2}info {3}greeting\n$/);
  });

  test('logs prints every line of a run with more than a page of them (the API answers 1,000 a page, with next)', async () => {
    await operations.startRun({ workflow: 'chatty', id: 'chatty-1' });
    await operations.waitForRun('chatty-1', 5000);
    const page = (await (
      await fetch(`${server.url}/api/v1/runs/chatty-1/logs`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { logs: Array<{ index: number; message: string }>; next: number | null };
    assert.equal(page.logs.length, 1000);
    assert.equal(page.next, page.logs.at(-1)?.index);
    const outcome = await cli(['logs', 'chatty-1']);
    const lines = outcome.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2_500);
    assert.match(lines.at(-1) ?? '', /line 2499$/);
    const json = JSON.parse((await cli(['logs', 'chatty-1', '--json'])).stdout) as Array<{ message: string }>;
    assert.deepEqual([json.length, json[1_000]?.message], [2_500, 'line 1000']);
  });

  test('logs of a run without log lines says so on stderr, like runs and tasks, and prints nothing', async () => {
    await operations.startRun({ workflow: 'slow', id: 'quiet-1' });
    const outcome = await cli(['logs', 'quiet-1']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.deepEqual([outcome.stdout, outcome.stderr], ['', 'no log lines\n']);
    const [last] = (JSON.parse((await cli(['logs', 'seen-1', '--json'])).stdout) as Array<{ index: number }>).slice(-1);
    const later = await cli(['logs', 'seen-1', '--after', String(last?.index)]);
    assert.deepEqual([later.code, later.stdout, later.stderr], [0, '', `no log lines after index ${last?.index}\n`]);
    assert.deepEqual(JSON.parse((await cli(['logs', 'quiet-1', '--json'])).stdout), []);
  });
});

describe('acting on runs and events', () => {
  test('undeploy retires a workflow through the API; an unknown name is exit 1 naming the deployed ones', async () => {
    const outcome = await cli(['undeploy', 'slow']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.stdout, /^workflow slow retired: its triggers and schedules stopped; its runs in flight go on\./);
    assert.deepEqual(operations.retired, ['slow']);
    const unknown = await cli(['undeploy', 'nope']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error: .*nope/m);
    assert.deepEqual(operations.retired, ['slow']);
  });

  test('cancel, then cancelling again is a conflict', async () => {
    await operations.startRun({ workflow: 'slow', id: 'to-cancel' });
    const outcome = await cli(['cancel', 'to-cancel', '--reason', 'not needed']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, 'run to-cancel is cancelled\n');
    const again = await cli(['cancel', 'to-cancel']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /error: run to-cancel is cancelled; only running runs can be cancelled/);
  });

  test('cancel and terminate take several ids, as runs -q | xargs gives them: one line each, past one that fails, exit 1', async () => {
    for (const id of ['many-1', 'many-2', 'many-3', 'many-4']) await operations.startRun({ workflow: 'slow', id });
    const cancelled = await cli(['cancel', 'many-1', 'no-such-run', 'many-2', '--reason', 'superseded']);
    assert.equal(cancelled.code, 1);
    assert.equal(cancelled.stdout, 'run many-1 is cancelled\nrun many-2 is cancelled\n');
    assert.equal(cancelled.stderr, "error: run no-such-run: run 'no-such-run' does not exist\nerror: 1 of 3 runs could not be cancelled\n");
    for (const id of ['many-1', 'many-2']) {
      const reasons = (await operations.getHistory(id)).flatMap((event) => (event.type === 'cancel_requested' ? [event.reason] : []));
      assert.deepEqual([(await operations.getRun(id)).status, reasons], ['cancelled', ['superseded']], id);
    }
    const terminated = await cli(['terminate', 'many-3', 'many-1', 'many-4']);
    assert.equal(terminated.code, 1);
    assert.equal(
      terminated.stdout,
      'run many-3 terminated: it is cancelled; its finally blocks did not run\nrun many-4 terminated: it is cancelled; its finally blocks did not run\n',
    );
    assert.match(
      terminated.stderr,
      /^error: run many-1: run many-1 already ended as cancelled.*\nerror: 1 of 3 runs could not be terminated\n$/,
    );
    const all = await cli(['cancel', 'many-1', 'many-2']);
    assert.match(all.stderr, /\nerror: 2 of 2 runs could not be cancelled\n$/);
  });

  test('retry brings failed runs back, on the latest version with --latest; the others are reported and make it exit 1', async () => {
    for (const id of ['failed-1', 'failed-2']) {
      await operations.startRun({ workflow: 'boom', id });
      await operations.waitForRun(id, 5000);
    }
    await operations.startRun({ workflow: 'slow', id: 'not-failed' });
    const outcome = await cli(['retry', 'failed-1', 'not-failed', 'failed-2', '--latest']);
    assert.equal(outcome.code, 1);
    assert.equal(outcome.stdout, 'run failed-1 retried: running on version v1\nrun failed-2 retried: running on version v1\n');
    assert.equal(
      outcome.stderr,
      'error: run not-failed: run not-failed is running; only a failed or stuck run can be retried\nerror: 1 of 3 runs could not be retried\n',
    );
    assert.deepEqual(operations.retries.slice(-2), [
      { runId: 'failed-1', latest: true },
      { runId: 'failed-2', latest: true },
    ]);
    const one = await cli(['retry', 'not-failed']);
    assert.equal(one.code, 1);
    assert.equal(one.stderr, 'error: run not-failed is running; only a failed or stuck run can be retried\n', 'one run: its error alone');
    const shown = await cli(['show', 'failed-1']);
    assert.match(
      shown.stdout,
      /^retries\n {2}\d{4}-\d\d-\d\dT\S+Z {2}version v1, started over; it had stopped with \w*Error: .+\n\nhistory$/m,
    );
    assert.equal((JSON.parse((await cli(['show', 'failed-1', '--json'])).stdout) as { retries: unknown[] }).retries.length, 1);
    const usage = await cli(['retry']);
    assert.equal(usage.code, 2, 'ids or --failed');
    assert.match(usage.stderr, /error: give the ids of the runs to retry, or --failed or --stuck \(not both\)/);
    assert.equal((await cli(['retry', 'failed-1', '--failed'])).code, 2);
    assert.match((await cli(['retry', '--failed', '--stuck'])).stderr, /error: --failed and --stuck exclude each other/);
    assert.equal((await cli(['retry', 'failed-1', '--workflow', 'boom'])).code, 2, '--workflow goes with --failed');
  });

  test('retry --failed retries every failed run of a workflow, page by page', async () => {
    for (const id of ['bulk-1', 'bulk-2']) {
      await operations.startRun({ workflow: 'boom', id });
      await operations.waitForRun(id, 5000);
    }
    const failed = (await operations.listRuns({ status: 'failed', workflow: 'boom', limit: 500 })).runs.map((run) => run.id);
    assert.ok(failed.includes('bulk-1') && failed.includes('bulk-2'));
    const outcome = await cli(['retry', '--failed', '--workflow', 'boom']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.deepEqual(
      outcome.stdout.trimEnd().split('\n'),
      failed.map((id) => `run ${id} retried: running on version v1`),
    );
    assert.equal((await cli(['retry', '--failed', '--workflow', 'hello'])).stderr, 'no failed runs of hello\n');
    const unknown = await cli(['retry', '--failed', '--workflow', 'nosuch']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, "error: workflow 'nosuch' does not exist; deployed: boom, chatty, hello, slow\n");
  });

  test('retry --stuck retries every stuck run of a workflow, and no failed one', async () => {
    await operations.startRun({ workflow: 'boom', id: 'stuck-1', input: { diverge: true } });
    await operations.startRun({ workflow: 'boom', id: 'not-stuck' });
    for (const id of ['stuck-1', 'not-stuck']) await operations.waitForRun(id, 5000);
    assert.deepEqual([(await operations.getRun('stuck-1')).status, (await operations.getRun('not-stuck')).status], ['stuck', 'failed']);
    const outcome = await cli(['retry', '--stuck', '--workflow', 'boom', '--latest']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, 'run stuck-1 retried: running on version v1\n');
    assert.deepEqual(operations.retries.at(-1), { runId: 'stuck-1', latest: true });
    assert.equal((await cli(['retry', '--stuck', '--workflow', 'hello'])).stderr, 'no stuck runs of hello\n');
  });

  test('retry --failed --dry-run lists the runs with their errors and retries none; --since keeps those that failed since', async () => {
    await operations.startRun({ workflow: 'boom', id: 'dry-1' });
    await operations.waitForRun('dry-1', 5000);
    const retriesBefore = operations.retries.length;
    const dry = await cli(['retry', '--failed', '--workflow', 'boom', '--since', '1h', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^run dry-1 \(boom\) is failed since \d{4}-\d\d-\d\dT\S+Z {2}\w*Error: .+\n {2}would go on, on version v1$/m);
    assert.match(dry.stderr, /^dry run: (\d+) of \1 runs? would be retried; nothing was retried\n$/);
    assert.equal(operations.retries.length, retriesBefore, 'nothing was retried');
    const later = await cli(['retry', '--failed', '--workflow', 'boom', '--since', '2999-01-01T00:00:00Z']);
    assert.equal(later.code, 0, later.stderr);
    assert.equal(later.stderr, 'no failed runs of boom since 2999-01-01T00:00:00.000Z\n');
    // Without a zone, in UTC as everything the CLI prints, whatever the machine's zone.
    const unzoned = await cli(['retry', '--failed', '--workflow', 'boom', '--since', '2999-01-01T00:00'], { TZ: 'America/New_York' });
    assert.equal(unzoned.stderr, 'no failed runs of boom since 2999-01-01T00:00:00.000Z\n');
    assert.equal(operations.retries.length, retriesBefore);
    const bad = await cli(['retry', '--failed', '--since', 'yesterday']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--since yesterday: give a time \(2026-12-06T10:00:00Z\) or how long ago \(2h, 30m, 1d\)/);
    assert.equal((await cli(['retry', 'dry-1', '--since', '1h'])).code, 2, '--since goes with --failed');
  });

  test('retry --dry-run --latest says which runs the server would refuse, and why, and exits 1', async () => {
    for (const id of ['dry-ok', 'dry-diverges']) {
      await operations.startRun({ workflow: 'boom', id });
      await operations.waitForRun(id, 5000);
    }
    const retriesBefore = operations.retries.length;
    const dry = await cli(['retry', 'dry-ok', 'dry-diverges', '--latest', '--dry-run']);
    assert.equal(dry.code, 1, dry.stderr);
    assert.match(dry.stdout, /^run dry-ok \(boom\) .+\n {2}would go on, on version v1\n/m);
    assert.match(
      dry.stdout,
      /^run dry-diverges \(boom\) .+\n {2}✗ would be refused: version v2 cannot take run dry-diverges over: Nondeterminism/m,
    );
    assert.match(dry.stderr, /^dry run: 1 of 2 runs would be retried; nothing was retried\nerror: 1 of 2 runs could not be retried\n$/);
    assert.equal(operations.retries.length, retriesBefore, 'nothing was retried');
  });

  test('signal sends the payload', async () => {
    await operations.startRun({ workflow: 'slow', id: 'to-signal' });
    const outcome = await cli(['signal', 'to-signal', 'approve', '--data', '{"by":"ada"}']);
    assert.equal(outcome.stdout, "signal approve sent to run to-signal; the run receives it at its next signal('approve')\n");
    assert.deepEqual(operations.signals.at(-1), { runId: 'to-signal', name: 'approve', payload: { by: 'ada' } });
  });

  test('signal and send-event take data larger than an argument may be from a file, or from standard input', async () => {
    await operations.startRun({ workflow: 'slow', id: 'to-signal-big' });
    // Linux refuses a single argument over 128 KiB: such a payload can only come through a file.
    const payload = { report: 'x'.repeat(200 * 1024) };
    const signalled = await cli(['signal', 'to-signal-big', 'report', '--data-file', '-'], {}, JSON.stringify(payload));
    assert.equal(signalled.code, 0, signalled.stderr);
    assert.deepEqual(operations.signals.at(-1), { runId: 'to-signal-big', name: 'report', payload });
    writeFileSync(join(dir, 'event-data.json'), JSON.stringify(payload));
    const sent = await cli(['send-event', '--type', 'report.ready', '--id', 'big-1', '--data-file', 'event-data.json']);
    assert.equal(sent.code, 0, sent.stderr);
    const [stored] = await operations.listEvents({ type: 'report.ready' });
    assert.deepEqual(stored?.data, payload);
    const broken = await cli(['send-event', '--type', 'report.ready', '--data-file', '-'], {}, '{"report":');
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /^error: --data-file - is not valid JSON: /);
  });

  test('send-event stores a CloudEvent once', async () => {
    const args = ['send-event', '--type', 'deploy.finished', '--subject', 'app', '--data', '{"ok":true}', '--id', 'ev-1'];
    const first = await cli(args);
    assert.match(first.stdout, /^event ev-1 stored as #(\d+)\n$/);
    const again = await cli(args);
    assert.match(again.stdout, /^event ev-1 was already stored as #\d+; not stored again\n$/);
    const [stored] = await operations.listEvents({ type: 'deploy.finished' });
    assert.deepEqual(stored && { source: stored.source, subject: stored.subject, data: stored.data }, {
      source: 'autoflow-cli',
      subject: 'app',
      data: { ok: true },
    });
  });

  test('workflows lists them', async () => {
    const outcome = await cli(['workflows']);
    assert.match(outcome.stdout, /^NAME\s+VERSION\s+DEPLOYED\s+TRIGGERS\nhello\s+v1\s+1970-01-01T00:00:00Z\s+manual\n/);
  });

  test('workflows --json prints what the API answers: a file that never deployed is in its problems, for jq', async () => {
    const problem = { file: 'draft.ts', message: 'draft.ts: name: is required', since: '2026-01-01T00:00:00.000Z' };
    const failing = await serve(
      createApp({ operations: { ...operations, listDeployProblems: () => Promise.resolve([problem]) }, logger: createMemoryLogger() }),
      { port: 0, host: '127.0.0.1', shutdownGraceMs: 0 },
    );
    try {
      const outcome = await cli(['workflows', '--json'], { AUTOFLOW_URL: failing.url });
      assert.equal(outcome.code, 0, outcome.stderr);
      const answer = JSON.parse(outcome.stdout) as { workflows: Array<{ name: string }>; problems: unknown[] };
      assert.deepEqual(
        [answer.workflows.map((workflow) => workflow.name), answer.problems],
        [['hello', 'boom', 'slow', 'chatty'], [problem]],
      );
    } finally {
      await failing.close();
    }
  });
});

describe('usage errors are exit 2 with a message', () => {
  for (const [args, message] of [
    [['runs', '--bogus'], /error: unknown option '--bogus'/],
    [['runs', '--limit', 'ten'], /error: --limit is "ten", expected a positive integer/],
    [['show'], /error: missing required argument 'id'/],
    [
      ['run', 'hello', '--input', '1', '--input-file', 'x.json'],
      /error: option '--input-file <file>' cannot be used with option '--input <json>'/,
    ],
    [
      ['signal', 'r', 'go', '--data', '1', '--data-file', 'x.json'],
      /error: option '--data-file <file>' cannot be used with option '--data <json>'/,
    ],
    [
      ['send-event', '--type', 't', '--data-file', 'x.json', '--data', '1'],
      /error: option '--data-file <file>' cannot be used with option '--data <json>'/,
    ],
    [['cancel', 'r-1', ''], /^error: a run id is empty; give the ids of runs\n$/],
    [['wait', 'r-1', '--timeout', 'soon'], /error: --timeout is "soon", expected a number of seconds/],
    [['test', '--reporter', 'junit'], /^error: --reporter and --reporter-destination go together: /],
    [['run', 'hello', '--timeout', '5'], /error: --timeout only applies with --wait/],
    [['run', 'hello', '--wait', '--timeout', 'soon'], /error: --timeout is "soon", expected a number of seconds/],
    [['send-event'], /error: required option '--type <type>' not specified/],
    [['runs', '--status', 'sleeping'], /error: invalid query: status: one of queued, running, completed/],
    [['frobnicate'], /error: unknown command 'frobnicate'/],
    [['show', ''], /^error: <id> is empty; give the run id\n$/],
    [['logs', ''], /^error: <id> is empty; give the run id\n$/],
    [['runs', '--json', '-q'], /^error: use --json or -q, not both/],
    [['retry', '--workflow', 'boom'], /^error: --workflow goes with --failed or --stuck: autoflow retry --failed --workflow boom\n$/],
    [['check', 'no-such-folder'], /^error: no-such-folder does not exist; give the workflows folder or a workflow file\n$/],
    [
      ['server', '--db', 'memory:', '--workflows', 'no-such-folder'],
      /^error: workflows folder .*no-such-folder \(from --workflows\) does not exist; create it or fix the path\n$/,
    ],
  ] as const) {
    test(args.join(' '), async () => {
      const outcome = await cli([...args]);
      assert.equal(outcome.code, 2, outcome.stderr);
      assert.match(outcome.stderr, message);
      assert.doesNotMatch(outcome.stderr, /\n\s+at /, 'no stack trace without --debug');
    });
  }

  test('AUTOFLOW_WORKFLOWS naming a folder that is not there stops the server before it starts', async () => {
    const outcome = await cli(['server', '--db', 'memory:'], { AUTOFLOW_WORKFLOWS: 'nowhere' });
    assert.equal(outcome.code, 2);
    assert.match(outcome.stderr, /^error: workflows folder .*nowhere \(from AUTOFLOW_WORKFLOWS\) does not exist/);
  });

  test("a database path under a file is the store's error, not the simulator's beside it", async () => {
    writeFileSync(join(dir, 'not-a-folder'), '');
    const outcome = await cli(['server', '--db', `sqlite:${join(dir, 'not-a-folder', 'autoflow.db')}`, '--workflows', dir]);
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /^error: cannot create the directory \S+not-a-folder for the SQLite database \S+autoflow\.db \(EEXIST/);
    assert.doesNotMatch(outcome.stderr, /simulator/);
  });

  test('a port in use, and a host that is not this machine, are named with the settings that fix them', async () => {
    const taken = await serve(createApp({ operations, logger: createMemoryLogger() }), { port: 0, host: '127.0.0.1' });
    const port = new URL(taken.url).port;
    try {
      const inUse = await cli(['server', '--db', 'memory:', '--workflows', dir, '--port', port]);
      assert.equal(inUse.code, 1);
      assert.equal(
        inUse.stderr,
        `error: port ${port} on 127.0.0.1 is already in use; stop the other process or choose another with --port\n`,
      );
    } finally {
      await taken.close();
    }
    // 192.0.2.0/24 is TEST-NET-1: never an address of this machine.
    const foreign = await cli(['server', '--db', 'memory:', '--workflows', dir, '--port', port, '--host', '192.0.2.1']);
    assert.equal(foreign.code, 1, foreign.stderr);
    assert.match(
      foreign.stderr,
      /^error: cannot listen on host "192\.0\.2\.1" \(set by --host, AUTOFLOW_HOST or the config file's host\): it is not an address of this machine/,
    );
    const unknown = await cli(['server', '--db', 'memory:', '--workflows', dir, '--port', port], { AUTOFLOW_HOST: 'no-such-host.invalid' });
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(
      unknown.stderr,
      /^error: cannot listen on host "no-such-host\.invalid" \(set by --host, AUTOFLOW_HOST or the config file's host\): no such host name/,
    );
  });

  test('output that cannot be written (a full disk) fails the command, and says so', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const outcome = await autoflow(['--version'], { cwd: dir, stdoutFd: full });
      assert.equal(outcome.code, 1);
      assert.equal(outcome.stderr, 'error: writing the output failed (ENOSPC): what was printed is lost\n');
    } finally {
      closeSync(full);
    }
  });

  test('--help is exit 0 and describes the command', async () => {
    const outcome = await cli(['run', '--help']);
    assert.equal(outcome.code, 0);
    assert.match(outcome.stdout, /^Usage: autoflow run \[options\] <workflow>/);
    assert.match(outcome.stdout, /--wait/);
  });
});

describe('connection problems', () => {
  test('an unreachable server is exit 1 with a clear message', async () => {
    const closed = await serve(createApp({ operations, logger: createMemoryLogger() }), { port: 0, host: '127.0.0.1' });
    await closed.close();
    const outcome = await cli(['runs'], { AUTOFLOW_URL: closed.url });
    assert.equal(outcome.code, 1);
    assert.equal(outcome.stderr, `error: cannot reach AutoFlow at ${closed.url} — is \`autoflow server\` running? (ECONNREFUSED)\n`);
  });

  test('--debug adds the stack and the cause', async () => {
    const outcome = await cli(['runs', '--debug', '--url', 'http://127.0.0.1:9']);
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /ServerUnreachableError: cannot reach AutoFlow[^\n]*\n\s+at /);
    assert.match(outcome.stderr, /caused by: TypeError: fetch failed/);
  });

  test('a wrong token says how to give the right one', async () => {
    const outcome = await cli(['workflows', '--token', 'guess']);
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /error: the API token is not valid.*\(this command sent the one in --token or AUTOFLOW_API_TOKEN\)/);
  });
});

describe('check', () => {
  test('one line per file; exit 1 when one fails', async () => {
    const good = await cli(['check', fileURLToPath(new URL('../../examples', import.meta.url))]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /^✓ hello [0-9a-f]{12} {2}\S+hello\.ts$/m);
    writeFileSync(join(dir, 'broken.ts'), '');
    const bad = await cli(['check', dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^✗ \S+broken\.ts: /m);
    assert.match(bad.stderr, /error: \d+ of \d+ workflow files? failed the check/);
  });

  test('a declaration that is refused names its file once; a folder with no workflow files says so, without counting the folder as one', async () => {
    const folder = join(dir, 'check-cases');
    mkdirSync(join(folder, 'empty'), { recursive: true });
    const file = join(folder, 'perm.ts');
    writeFileSync(
      file,
      "import { workflow } from 'autoflow';\nexport default workflow({ name: 'perm', permissions: { htp: [] }, async run() {} });\n",
    );
    const refused = await cli(['check', file]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout.split(file).length, 2, refused.stdout);
    assert.match(
      refused.stdout,
      /^✗ \S+perm\.ts: the workflow\(\{\.\.\.\}\) declaration of workflow 'perm' is invalid:\n  permissions: unknown field 'htp'/,
    );
    const empty = await cli(['check', join(folder, 'empty')]);
    assert.equal(empty.code, 2, 'a usage error, as for a path that does not exist');
    assert.equal(empty.stdout, '');
    assert.equal(empty.stderr, `error: no workflow files (*.ts, *.js) in ${join(folder, 'empty')}\n`);
  });

  test('shows when each schedule fires next, in its time zone: a six-field pattern is seen to be seconds first', async () => {
    const file = join(dir, 'check-cron', 'weekly.ts');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(
      file,
      "import { workflow } from 'autoflow';\nexport default workflow({ name: 'weekly', triggers: [" +
        "{ cron: '0 9 * * 1', timezone: 'Europe/Berlin' }, { cron: '0 9 * * 1 *', timezone: 'Europe/Berlin' }], async run() {} });\n",
    );
    const checked = await cli(['check', file]);
    assert.equal(checked.code, 0, checked.stderr);
    const mondays = /^ {2}⏱ cron "0 9 \* \* 1" in Europe\/Berlin fires next: (Mon \d{4}-\d\d-\d\d 09:00(, |$)){3}/m;
    assert.match(checked.stdout, mondays, 'Mondays at 09:00 on the clocks of Berlin, summer or winter');
    assert.match(checked.stdout, /^ {2}⏱ cron "0 9 \* \* 1 \*" in Europe\/Berlin fires next: \w{3} \d{4}-01-\d\d \d\d:09:00, /m);
    assert.match(
      checked.stdout,
      /^ {2}⚠ triggers\[1\]\.cron: "0 9 \* \* 1 \*" has six fields, and six are read seconds first: second 0, minute 9,/m,
    );
    assert.doesNotMatch(checked.stdout, /triggers\[0\]\.cron/, 'five fields: no warning');
    const strict = await cli(['check', '--strict', file]);
    assert.equal(strict.code, 1, 'with --strict, for CI, a warning fails the check');
    assert.equal(strict.stdout, checked.stdout);
    assert.equal(strict.stderr, 'error: 1 of 1 workflow file had warnings (--strict)\n');
    const clean = await cli(['check', '--strict', fileURLToPath(new URL('../../examples/hello.ts', import.meta.url))]);
    assert.equal(clean.code, 0, clean.stderr);
  });

  test('checks one workflow file too, and says that it does not type-check', async () => {
    const one = await cli(['check', fileURLToPath(new URL('../../examples/hello.ts', import.meta.url))]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^✓ hello [0-9a-f]{12} {2}\S+hello\.ts\n$/);
    assert.match((await cli(['check', '--help'])).stdout, /does not type-check: run `tsc --noEmit`/);
  });
});

describe('backup', () => {
  test('copies the SQLite database a server is using, refuses to overwrite, and points PostgreSQL users to pg_dump', async () => {
    const live = createSqliteStore({ path: join(dir, 'live.db') });
    await live.migrate();
    try {
      await startRun(live, 'kept');
      const serverLock = lockDatabaseForServer(join(dir, 'live.db'));
      let done: Awaited<ReturnType<typeof cli>>;
      try {
        done = await cli(['backup', join(dir, 'backup.db'), '--db', `sqlite:${join(dir, 'live.db')}`]);
      } finally {
        serverLock.release();
      }
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, /^Backed up \S+live\.db to \S+backup\.db: 1 run, schema version \d+, \d+\.\d MiB\.$/m);
      assert.match(
        done.stdout,
        /To restore it, stop the server, delete \S+live\.db-wal and \S+live\.db-shm if they are there, and copy the backup to \S+live\.db\./,
      );
      assert.doesNotMatch(done.stdout, /No server is running/, 'a server holds the database');
      const idle = await cli(['backup', join(dir, 'idle-backup.db'), '--db', `sqlite:${join(dir, 'live.db')}`]);
      assert.match(
        idle.stdout,
        /^No server is running on \S+live\.db now: if you meant a running server's database, give its path with --db\.$/m,
      );
      const again = await cli(['backup', join(dir, 'backup.db'), '--db', `sqlite:${join(dir, 'live.db')}`]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /backup\.db exists already: give the backup a new file name/);
    } finally {
      await live.close();
    }
    const postgres = await cli(['backup', join(dir, 'pg.db'), '--db', 'postgres://autoflow@db.example/autoflow']);
    assert.notEqual(postgres.code, 0);
    assert.match(postgres.stderr, /back a PostgreSQL database up with pg_dump/);
  });
});
