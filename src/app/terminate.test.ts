/**
 * Terminate ends a run whose cleanup blocks, which a cancel cannot: at once, as `cancelled`, without its code — over
 * the HTTP API on loopback and the CLI, against a real SQLite file, in virtual time. Its parent hears of it as of a
 * cancelled child, its children are asked to cancel, and a node that was executing the run cannot write after it.
 * Cancel and terminate of the first id of a continue-as-new chain act on the run the chain goes on in.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { autoflow, type CliOutcome } from '../../test/helpers/cli-process.js';
import { virtualTimeEngine } from '../../test/helpers/engine.js';
import type { HistoryEvent, Json } from '../core/model.js';
import type { Capability } from '../core/ports.js';
import { createQuickJsSandbox } from '../sandbox/quickjs-sandbox.js';
import { workflowFolder } from '../sandbox/test-support.js';
import { createApp } from '../server/http/app.js';
import { serve, type RunningServer } from '../server/serve.js';
import { VirtualClock } from './clocks.js';
import { buildDefinition } from './deploy.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from './runtime.js';

const TOKEN = 'terminate-test-token';
const folder = workflowFolder();
folder.write(
  'workflows/blocked-cleanup.ts',
  `import { signal, sleep, workflow } from 'autoflow';
export default workflow({ name: 'blocked-cleanup', async run() { try { await sleep('1h'); } finally { await signal('ack'); } } });
`,
);
folder.write(
  'workflows/parent.ts',
  `import { startChild, workflow } from 'autoflow';
export default workflow({
  name: 'parent',
  async run() {
    const child = await startChild('blocked-cleanup', null);
    try {
      await child.result();
      return 'child completed';
    } catch (error) {
      return { name: (error as Error).name, message: (error as Error).message };
    }
  },
});
`,
);
folder.write(
  'workflows/chain.ts',
  `import { continueAsNew, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'chain',
  async run(input: { n?: number } | null) {
    if ((input?.n ?? 1) === 1) { await sleep('1s'); continueAsNew({ n: 2 }); }
    try { await sleep('1h'); } finally { await sleep('1h'); }
  },
});
`,
);
// Executed by a second node only, which the server's runtime does not deploy.
const stepFile = folder.write(
  'elsewhere/one-step.ts',
  `import { activities, workflow } from 'autoflow';
export default workflow({ name: 'one-step', permissions: { activities: ['slow'] }, async run() { return await activities.slow(); } });
`,
);

let clock: VirtualClock;
let runtime: Runtime;
let server: RunningServer;

before(async () => {
  clock = new VirtualClock(Date.UTC(2026, 0, 5, 9));
  runtime = await createRuntime(
    embeddedRuntimeConfig({
      db: { kind: 'sqlite', path: join(folder.dir, 'server.db') },
      workflowsDir: join(folder.dir, 'workflows'),
      apiToken: TOKEN,
    }),
    { clock, pollIntervalMs: null },
  );
  await runtime.start();
  server = await serve(createApp({ operations: runtime.operations, logger: runtime.logger }), {
    port: 0,
    host: '127.0.0.1',
    shutdownGraceMs: 0,
  });
});
after(async () => {
  await server.close();
  await runtime.stop();
  folder.remove();
});

async function api(path: string, body?: Json, token: string | null = TOKEN): Promise<{ status: number; body: Record<string, Json> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const init: RequestInit = body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) };
  const response = await fetch(`${server.url}/api/v1${path}`, init);
  return { status: response.status, body: (await response.json()) as Record<string, Json> };
}

function cli(args: string[]): Promise<CliOutcome> {
  return autoflow(args, { cwd: folder.dir, env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: TOKEN } });
}

async function start(workflow: string, id: string, input: Json = null): Promise<void> {
  assert.equal((await api('/runs', { workflow, id, input })).status, 201);
  await runtime.engine.whenIdle();
}

const lastEvents = async (id: string, count: number): Promise<HistoryEvent['type'][]> =>
  (await runtime.operations.getHistory(id)).slice(-count).map((event) => event.type);

describe('terminate', () => {
  test('ends a run whose cleanup blocks, which cancel cannot; the history and autoflow show say who and why', async () => {
    await start('blocked-cleanup', 'stuck-cleanup');
    assert.equal((await api('/runs/stuck-cleanup/cancel', { reason: 'not needed' })).status, 200);
    await runtime.engine.whenIdle();
    const again = await api('/runs/stuck-cleanup/cancel', {});
    assert.deepEqual([again.body.status, again.body.alreadyRequested], ['running', true], 'the cleanup waits for a signal');

    assert.equal((await api('/runs/stuck-cleanup/terminate', { reason: 'x' }, null)).status, 401, 'the API token, as for cancel');
    assert.equal((await api('/runs/stuck-cleanup/terminate', { reason: 5 })).status, 400);
    const terminated = await api('/runs/stuck-cleanup/terminate', { reason: 'cleanup hangs' });
    assert.equal(terminated.status, 200);
    assert.equal(terminated.body.status, 'cancelled');
    assert.equal(
      (terminated.body.error as { message: string }).message,
      'run stuck-cleanup was cancelled: terminated through the API: cleanup hangs',
    );
    const history = await runtime.operations.getHistory('stuck-cleanup');
    assert.deepEqual(
      history.slice(-3).map(({ type, ...rest }) => (type === 'cancel_requested' ? [type, (rest as { reason?: string }).reason] : [type])),
      [['cancel_requested', 'terminated through the API: cleanup hangs'], ['workflow_task'], ['run_cancelled']],
    );
    assert.deepEqual(await runtime.operations.listCalls('stuck-cleanup'), []);
    assert.deepEqual(await runtime.store.listWaitShapes('autoflow.signal.ack'), [], 'the wait of its cleanup went with it');

    const refused = await api('/runs/stuck-cleanup/terminate', {});
    assert.equal(refused.status, 409);
    assert.match(JSON.stringify(refused.body), /run stuck-cleanup already ended as cancelled; there is nothing to terminate/);

    const shown = await cli(['show', 'stuck-cleanup']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^error\s+CancelledError: run stuck-cleanup was cancelled: terminated through the API: cleanup hangs$/m);
    assert.match(shown.stdout, /cancel_requested\s+terminated through the API: cleanup hangs$/m);

    // Its code replays up to the task the server wrote without it: the cleanup that never ran is no divergence.
    const exported = await cli(['export', 'stuck-cleanup', '--out', 'stuck-cleanup.json']);
    assert.equal(exported.code, 0, exported.stderr);
    const replayed = await cli(['replay', 'stuck-cleanup.json', '--workflow', 'workflows']);
    assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
    assert.match(replayed.stdout, /✓ stuck-cleanup \(blocked-cleanup\): 2 workflow tasks replayed/);
  });

  test('its parent hears of it as of a cancelled child; a terminated parent asks its children to cancel', async () => {
    await start('parent', 'p1');
    const [child] = (await runtime.operations.listRuns({ workflow: 'blocked-cleanup' })).runs.filter((run) => run.parentId === 'p1');
    assert.ok(child);
    const terminated = await cli(['terminate', child.id, '--reason', 'by hand']);
    assert.equal(terminated.stdout, `run ${child.id} terminated: it is cancelled; its finally blocks did not run\n`, terminated.stderr);
    await runtime.engine.whenIdle();
    const parent = await runtime.operations.getRun('p1');
    assert.deepEqual(parent.result, {
      name: 'CancelledError',
      message: `run ${child.id} was cancelled: terminated through the API: by hand`,
    });

    await start('parent', 'p2');
    const second = (await runtime.operations.listRuns({ workflow: 'blocked-cleanup' })).runs.find((run) => run.parentId === 'p2');
    assert.ok(second);
    await runtime.operations.terminateRun('p2', 'whole tree', 'alice');
    const requests = (await runtime.operations.getHistory('p2')).filter((event) => event.type === 'cancel_requested');
    assert.deepEqual(
      requests.map((event) => [event.reason, event.by]),
      [['terminated: whole tree', 'alice']],
    );
    assert.match((await runtime.operations.getRun('p2')).error?.message ?? '', /was cancelled: terminated by alice: whole tree$/);
    assert.notEqual(await runtime.store.cancelRequestedAt(second.id), undefined, 'the child was asked to cancel');
    await runtime.engine.whenIdle();
    assert.equal((await runtime.operations.getRun(second.id)).status, 'running', 'its own cleanup runs, as for a cancel');
    assert.match(await lastEvents(second.id, 1).then(String), /timer_started|wait_started/);
  });

  test('cancel and terminate of the first id of a continued chain act on the run it goes on in, and say which', async () => {
    await start('chain', 'chain-1', { n: 1 });
    clock.advance(1000);
    await runtime.engine.whenIdle();
    assert.equal((await runtime.operations.getRun('chain-1')).status, 'continued');

    const cancelled = await cli(['cancel', 'chain-1', '--reason', 'stop']);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(
      cancelled.stdout,
      'cancellation of run chain-1~2 (run chain-1 continued as it) requested; it ends once its finally blocks ran\n',
    );
    await runtime.engine.whenIdle();
    assert.equal((await runtime.operations.getRun('chain-1~2')).status, 'running', 'its finally sleeps');

    const terminated = await api('/runs/chain-1/terminate', {});
    assert.deepEqual([terminated.status, terminated.body.id, terminated.body.status], [200, 'chain-1~2', 'cancelled']);
    const refused = await cli(['terminate', 'chain-1']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /run chain-1 continued as chain-1~2, which ended as cancelled; there is nothing to terminate/);
    const refusedCancel = await api('/runs/chain-1/cancel', {});
    assert.equal(refusedCancel.status, 409);
  });

  test('a node executing the run when it is terminated cannot write after it: its commit is fenced', async () => {
    let answer = (_value: Json): void => {};
    let began = (): void => {};
    const started = new Promise<void>((resolve) => (began = resolve));
    const slow: Capability = {
      name: 'activities',
      invoke: () => {
        began();
        return new Promise<Json>((resolve) => (answer = resolve));
      },
    };
    const sandbox = await createQuickJsSandbox();
    const nodeB = virtualTimeEngine({
      store: runtime.store,
      sandbox,
      clock,
      capabilities: new Map([['activities', slow]]),
      nodeId: 'node-b',
    });
    const definition = await buildDefinition(stepFile, sandbox, clock.now());
    await nodeB.deploy(definition);
    await nodeB.start();
    let fenced = 0;
    nodeB.events.on('write:fenced', () => fenced++);
    try {
      await nodeB.submitRun({ id: 'elsewhere', workflow: 'one-step', version: definition.version, input: null, createdAt: clock.now() });
      await started;
      const ended = await runtime.operations.terminateRun('elsewhere', 'node b hangs');
      assert.equal(ended.status, 'cancelled');
      const length = (await runtime.operations.getHistory('elsewhere')).length;

      answer('too late');
      await nodeB.whenIdle();
      const run = await runtime.operations.getRun('elsewhere');
      assert.deepEqual([run.status, run.result], ['cancelled', undefined]);
      const history = await runtime.operations.getHistory('elsewhere');
      assert.equal(history.length, length, 'nothing written after the termination');
      assert.equal(history.at(-1)?.type, 'run_cancelled');
      assert.ok(fenced > 0 || !history.some((event) => event.type === 'call_completed'), 'node b was refused');
    } finally {
      await nodeB.stop();
      await sandbox.close();
    }
  });
});
