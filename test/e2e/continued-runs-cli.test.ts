import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { autoflow } from '../helpers/cli-process.js';
import { startServerIn, type ServerProcess } from '../helpers/server-process.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/**
 * Signals to a run that continued as new, the links between the runs of a chain, and a repeated cancel, through
 * the HTTP API and the CLI of a real `autoflow server` on SQLite.
 */
const TOKEN = 'continued-runs-token';
const folder = workflowFolder({
  'loop.ts': `import { continueAsNew, signal, workflow } from 'autoflow';
export default workflow({
  name: 'loop',
  async run(input: { n: number }) {
    const tick = await signal('tick', { timeout: '1h' });
    if (input.n < 2) continueAsNew({ n: input.n + 1 });
    return { n: input.n, tick };
  },
});`,
  'slow-cleanup.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({
  name: 'slow-cleanup',
  async run() {
    try {
      await sleep('7d');
    } finally {
      await sleep('1h');
    }
  },
});`,
});
let server: ServerProcess;
const cli = (args: string[]) => autoflow(args, { cwd: folder.dir, env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: TOKEN } });
/** The run once it is no longer running (long poll). */
const ended = async (id: string) => (await (await server.api(`/api/v1/runs/${id}?wait=20`)).json()) as { status: string; result?: unknown };
/** How many cancel requests run `id`'s history records. */
const cancelRequests = async (id: string) => {
  const history = (await (await server.api(`/api/v1/runs/${id}/history`)).json()) as { events: Array<{ type: string }> };
  return history.events.filter((event) => event.type === 'cancel_requested').length;
};

before(async () => {
  server = await startServerIn(folder.dir, TOKEN);
});
after(async () => {
  await server?.stop();
  folder.remove();
});

describe('runs that continued as new, through the API and the CLI', () => {
  test('a signal to a continued run reaches the latest run of its chain, which show links to', async () => {
    assert.equal(
      (await server.api('/api/v1/runs', { method: 'POST', body: JSON.stringify({ workflow: 'loop', input: { n: 0 }, id: 'L' }) })).status,
      201,
    );
    const first = await cli(['signal', 'L', 'tick', '--data', '1']);
    assert.equal(first.stdout, "signal tick sent to run L; the run receives it at its next signal('tick')\n", first.stderr);
    assert.equal((await ended('L')).status, 'continued');

    const second = await server.api('/api/v1/runs/L/signals/tick', { method: 'POST', body: '2' });
    assert.deepEqual([second.status, await second.json()], [202, { runId: 'L~2', duplicate: false }]);
    assert.equal((await ended('L~2')).status, 'continued');

    const third = await cli(['signal', 'L', 'tick', '--data', '3']);
    assert.equal(
      third.stdout,
      "signal tick sent to run L~3 (run L continued as it); the run receives it at its next signal('tick')\n",
      third.stderr,
    );
    const last = await ended('L~3');
    assert.deepEqual([last.status, last.result], ['completed', { n: 2, tick: 3 }]);

    const shown = await cli(['show', 'L~2']);
    assert.match(shown.stdout, /^continued from\s+L$/m, shown.stderr);
    assert.match(shown.stdout, /^continued as\s+L~3$/m);
    const refused = await cli(['signal', 'L', 'tick']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /run L continued as L~3, which is completed; only running, queued or stuck runs receive signals/);
  });

  test('a signal resent under its Idempotency-Key, over HTTP or by the CLI, reaches the run once', async () => {
    assert.equal(
      (await server.api('/api/v1/runs', { method: 'POST', body: JSON.stringify({ workflow: 'loop', input: { n: 2 }, id: 'K' }) })).status,
      201,
    );
    const send = () => server.api('/api/v1/runs/K/signals/tick', { method: 'POST', body: '7', headers: { 'idempotency-key': 'tick-7' } });
    const first = await send();
    assert.deepEqual([first.status, await first.json()], [202, { runId: 'K', duplicate: false }]);
    const resent = await cli(['signal', 'K', 'tick', '--data', '7', '--idempotency-key', 'tick-7']);
    assert.equal(resent.stdout, 'signal tick was sent to run K before under this key; not sent again\n', resent.stderr);
    const run = await ended('K');
    assert.deepEqual([run.status, run.result], ['completed', { n: 2, tick: 7 }]);
    const afterEnd = await send();
    assert.deepEqual([afterEnd.status, await afterEnd.json()], [202, { runId: 'K', duplicate: true }]);
    const badKey = await server.api('/api/v1/runs/K/signals/tick', { method: 'POST', body: '7', headers: { 'idempotency-key': 'é' } });
    const refusal = (await badKey.json()) as { error: { code: string; message: string } };
    assert.deepEqual([badKey.status, refusal.error.code], [400, 'invalid']);
  });

  test('runs --workflow-version lists the runs on a version, found by its start as VERSION prints it', async () => {
    const run = (await (await server.api('/api/v1/runs/L')).json()) as { version: string };
    const listed = await cli(['runs', '--workflow', 'loop', '--workflow-version', run.version.slice(0, 12), '-q']);
    assert.ok(listed.stdout.split('\n').includes('L'), listed.stderr);
    const none = await cli(['runs', '--workflow-version', '000000']);
    assert.equal(none.stderr, 'no runs\n');
    const bad = await cli(['runs', '--workflow-version', 'v1']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /version: a workflow version or its start: 6 to 64 hex digits/);
  });

  test('cancelling a run that is cancelling already says so, and records nothing more', async () => {
    assert.equal(
      (await server.api('/api/v1/runs', { method: 'POST', body: JSON.stringify({ workflow: 'slow-cleanup', id: 'C' }) })).status,
      201,
    );
    const first = await cli(['cancel', 'C', '--reason', 'first']);
    assert.equal(first.stdout, 'cancellation of run C requested; it ends once its finally blocks ran\n', first.stderr);
    for (let look = 0; (await cancelRequests('C')) === 0; look++) {
      if (look === 200) assert.fail('the run never received its cancel');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const again = await cli(['cancel', 'C']);
    assert.equal(again.stdout, 'cancellation of run C was requested already; it ends once its finally blocks ran\n', again.stderr);
    const answer = await server.api('/api/v1/runs/C/cancel', { method: 'POST', body: '{}' });
    const body = (await answer.json()) as { status: string; alreadyRequested?: boolean };
    assert.deepEqual([answer.status, body.status, body.alreadyRequested], [200, 'running', true]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await cancelRequests('C'), 1);
  });
});
