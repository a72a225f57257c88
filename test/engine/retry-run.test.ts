import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import type { Engine } from '../../src/core/engine.js';
import { CapabilityError, ConflictError, NotFoundError } from '../../src/core/errors.js';
import type { Json } from '../../src/core/model.js';
import type { Capability, Store } from '../../src/core/ports.js';
import { createQuickJsSandbox } from '../../src/sandbox/quickjs-sandbox.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { createTestEnv } from '../../src/testing/test-env.js';
import { virtualTimeEngine } from '../helpers/engine.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder();
const dir = mkdtempSync(join(tmpdir(), 'autoflow-retry-'));
after(() => {
  folder.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** Activities whose `send` fails while `outage` is set: with a retryable error, so its retry policy runs out. */
class Activities implements Capability {
  readonly name = 'activities';
  outage = true;
  readonly invoked: Array<{ method: string; key: string }> = [];
  invoke(method: string, args: Json, context: { idempotencyKey: string }): Promise<Json> {
    this.invoked.push({ method, key: context.idempotencyKey });
    if (method === 'send' && this.outage) {
      return Promise.reject(new CapabilityError('unavailable', 'the receiver is down', { retryable: true }));
    }
    return Promise.resolve(`${method}:${JSON.stringify(args)}`);
  }
  count(method: string): number {
    return this.invoked.filter((call) => call.method === method).length;
  }
}

interface Setup {
  store: Store;
  clock: VirtualClock;
  engine: Engine;
  activities: Activities;
  deploy(name: string, source: string): Promise<string>;
  start(workflow: string, id: string, input?: Json): Promise<void>;
  /** Advances virtual time until the run is no longer running (or 50 wake-ups passed). */
  settle(id: string): Promise<string>;
}

let databases = 0;

async function setup(): Promise<Setup> {
  const store = createSqliteStore({ path: join(dir, `retry-${++databases}.db`) });
  await store.migrate();
  const sandbox = await createQuickJsSandbox();
  const clock = new VirtualClock();
  const activities = new Activities();
  const engine = virtualTimeEngine({ store, sandbox, clock, capabilities: new Map([['activities', activities]]) });
  await engine.start();
  after(async () => {
    await engine.stop();
    await store.close();
  });
  return {
    store,
    clock,
    engine,
    activities,
    async deploy(name, source) {
      const definition = await buildDefinition(folder.write(name, source), sandbox, clock.now());
      await engine.deploy(definition);
      return definition.version;
    },
    async start(workflow, id, input = null) {
      await engine.submitRun({ id, workflow, version: engine.activeDefinition(workflow)!.version, input, createdAt: clock.now() });
    },
    async settle(id) {
      for (let i = 0; i < 50; i++) {
        await engine.whenIdle();
        await new Promise((resolve) => setImmediate(resolve));
        await engine.whenIdle();
        const run = await store.getRun(id);
        if (run?.status !== 'running') return run?.status ?? 'missing';
        clock.advanceTo(clock.nextAt() ?? clock.now());
      }
      return 'still running';
    },
  };
}

const SEND_AFTER_CREATE = `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'publish',
  permissions: { activities: ['create', 'send'] },
  async run() {
    const created = await activities.create('release');
    const sent = await activities.send(created, { retry: { maxAttempts: 2, initialInterval: 1000 } });
    return { created, sent };
  },
});`;

test('a retried run runs its failed call again, under its retry policy and idempotency key, and never the calls that succeeded', async () => {
  const s = await setup();
  await s.deploy('publish.ts', SEND_AFTER_CREATE);
  await s.start('publish', 'p1');
  assert.equal(await s.settle('p1'), 'failed');
  assert.equal(s.activities.count('send'), 2, 'maxAttempts 2');
  const failedHistory = await s.store.loadHistory('p1');

  // Still down: the call gets its two attempts again, then the run fails again.
  const failure = (await s.store.getRun('p1'))?.error;
  const retriedAt = s.clock.now();
  const { run: retried } = await s.engine.retry('p1', { by: 'alice' });
  assert.equal(retried.status, 'running');
  assert.equal(retried.error, undefined);
  assert.equal(await s.settle('p1'), 'failed');
  assert.equal(s.activities.count('send'), 4, 'the reopened call kept its policy of two attempts');

  s.activities.outage = false;
  const secondFailure = (await s.store.getRun('p1'))?.error;
  await s.engine.retry('p1');
  assert.equal(await s.settle('p1'), 'completed');
  const retries = await s.store.listRunRetries('p1');
  const version = s.engine.activeDefinition('publish')!.version;
  assert.ok(failure && secondFailure);
  assert.deepEqual(
    retries.map(({ at: _at, ...rest }) => rest),
    [
      { by: 'alice', version, keptHistoryLength: failedHistory.length - 3, previousError: failure },
      { version, keptHistoryLength: failedHistory.length - 3, previousError: secondFailure },
    ],
    'each retry is kept, with who asked and the failure it answered, which the history no longer holds',
  );
  assert.equal(retries[0]!.at, retriedAt);
  assert.ok(retries[1]!.at > retriedAt, 'the second retry came after two more attempts of the call');
  assert.ok(!(await s.store.loadHistory('p1')).some((event) => event.type === 'run_failed'));
  const run = await s.store.getRun('p1');
  assert.deepEqual(run?.result, { created: 'create:"release"', sent: 'send:"create:\\"release\\""' });
  assert.equal(s.activities.count('create'), 1, 'the call that succeeded was not made again');
  const history = await s.store.loadHistory('p1');
  const send = history.find((event) => event.type === 'call_scheduled' && event.method === 'send');
  const keys = new Set(s.activities.invoked.filter((call) => call.method === 'send').map((call) => call.key));
  assert.deepEqual(
    [...keys],
    [`p1:${send && 'step' in send ? send.step : '?'}`],
    'every attempt of the send carried the same idempotency key',
  );

  const kept = failedHistory.length - 3;
  assert.deepEqual(history.slice(0, kept), failedHistory.slice(0, kept), 'the history before the failed task is as it was');
  assert.deepEqual(
    history.slice(kept).map((event) => event.type),
    ['call_completed', 'workflow_task', 'run_completed'],
    'the failed task is gone; the run went on from there',
  );
  assert.deepEqual(
    history.map((event) => event.seq),
    history.map((_, index) => index),
  );
});

/** A version of the workflow `notes`, whose `run` is `body`. */
const notes = (body: string): string => `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'notes',
  permissions: { activities: ['create'] },
  async run() {
${body}
  },
});`;

test('on the latest version a fixed bug no longer fails the run; a version that does not replay the history is refused', async () => {
  const s = await setup();
  const broken = await s.deploy(
    'notes.ts',
    notes(`    const note = (await activities.create('note')) as string;
    return (null as unknown as { title: string }).title + note;`),
  );
  await s.start('notes', 'n1');
  assert.equal(await s.settle('n1'), 'failed');
  assert.match((await s.store.getRun('n1'))?.error?.message ?? '', /null/);

  await s.engine.retry('n1');
  assert.equal(await s.settle('n1'), 'failed', 'on its own version the bug is still there');

  const other = await s.deploy(
    'notes.ts',
    notes(`    await activities.remove('note');
    return 'other';`),
  );
  const historyBefore = await s.store.loadHistory('n1');
  // A dry run makes the same replay check, and says the same.
  await assert.rejects(s.engine.retry('n1', { latest: true, dryRun: true }), /cannot take run n1 over: Nondeterminism/);
  await assert.rejects(s.engine.retry('n1', { latest: true }), (error: unknown) => {
    assert.ok(error instanceof ConflictError);
    assert.match(error.message, /cannot take run n1 over: Nondeterminism .* history has call activities\.create/);
    assert.ok(error.message.startsWith(`version ${other.slice(0, 12)} cannot take run n1 over`), 'the short form of a version');
    assert.ok(!error.message.includes(other), error.message);
    return true;
  });
  const refused = await s.store.getRun('n1');
  assert.equal(refused?.status, 'failed', 'a refused retry changes nothing');
  assert.equal(refused?.version, broken);
  assert.deepEqual(await s.store.loadHistory('n1'), historyBefore);

  const fixed = await s.deploy(
    'notes.ts',
    notes(`    const note = (await activities.create('note')) as string;
    return 'fixed ' + note;`),
  );
  const { run: preview } = await s.engine.retry('n1', { latest: true, dryRun: true });
  assert.deepEqual([preview.status, preview.version], ['running', fixed], 'the run as it would go on');
  assert.equal((await s.store.getRun('n1'))?.status, 'failed', 'a dry run retries nothing');
  assert.deepEqual(await s.store.loadHistory('n1'), historyBefore);
  const { run: retried } = await s.engine.retry('n1', { latest: true });
  assert.equal(retried.version, fixed);
  assert.equal(await s.settle('n1'), 'completed');
  assert.equal((await s.store.getRun('n1'))?.result, 'fixed create:"note"');
  assert.equal(s.activities.count('create'), 1);
});

test('a wait open when the run failed is open again and receives the event that came meanwhile', async () => {
  const s = await setup();
  await s.deploy(
    'gate.ts',
    `import { activities, waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'gate',
  permissions: { activities: ['send'] },
  async run() {
    const [approval] = await Promise.all([
      waitFor('approved', { match: { subject: 'release-1' }, timeout: '1d' }),
      activities.send('notice', { retry: { maxAttempts: 1 } }),
    ]);
    return approval ? approval.id : 'timed out';
  },
});`,
  );
  await s.start('gate', 'g1');
  assert.equal(await s.settle('g1'), 'failed');
  await s.engine.ingest({ specversion: '1.0', id: 'ev-1', source: 'test', type: 'approved', subject: 'release-1' }, 'test/ev-1');
  s.clock.advanceTo(s.clock.now() + 60 * 60 * 1000);
  await s.engine.whenIdle();

  s.activities.outage = false;
  await s.engine.retry('g1');
  assert.equal(await s.settle('g1'), 'completed');
  assert.equal((await s.store.getRun('g1'))?.result, 'ev-1', 'the event that came while the run was failed');
});

test('a run that failed in its first task starts over; runs that did not fail are not retried', async () => {
  const s = await setup();
  await s.deploy(
    'early.ts',
    `import { now, workflow } from 'autoflow';
export default workflow({
  name: 'early',
  async run(input: { notBefore: number }) {
    if (now() < input.notBefore) throw new Error('too early');
    return 'on time';
  },
});`,
  );
  await s.start('early', 'e1', { notBefore: s.clock.now() + 1000 });
  assert.equal(await s.settle('e1'), 'failed');
  s.clock.advanceTo(s.clock.now() + 1000);
  const { run: retried } = await s.engine.retry('e1');
  assert.equal(retried.historyLength, 0);
  assert.equal(await s.settle('e1'), 'completed');
  assert.equal((await s.store.getRun('e1'))?.result, 'on time');
  assert.equal((await s.store.loadHistory('e1'))[0]?.type, 'run_started');

  await assert.rejects(
    s.engine.retry('e1'),
    (error: unknown) => error instanceof ConflictError && /e1 is completed; only a failed or stuck run/.test(error.message),
  );
  await assert.rejects(s.engine.retry('nope'), NotFoundError);
});

test('a form its failure cancelled is open again after the retry, and the answer reaches the run', async () => {
  let down = true;
  const env = await createTestEnv({
    workflows: [
      folder.write(
        'review.ts',
        `import { activities, tasks, workflow } from 'autoflow';
export default workflow({
  name: 'review',
  permissions: { activities: ['announce'] },
  async run() {
    const form = await tasks.openForm({ title: 'Review', assignees: ['alice'], fields: [{ name: 'ok', label: 'OK', type: 'boolean' }] });
    await activities.announce(form.url, { retry: { maxAttempts: 1 } });
    const answer = await form.result();
    return answer.status === 'submitted' ? answer.values : answer.status;
  },
});`,
      ),
    ],
    activities: {
      announce: () =>
        down ? Promise.reject(new CapabilityError('chat_down', 'chat is down', { retryable: false })) : Promise.resolve(null),
    },
  });
  try {
    const id = await env.start('review');
    assert.equal((await env.run(id)).status, 'failed');
    const [task] = await env.tasks({ runId: id, status: 'cancelled' });
    assert.ok(task, 'the failure cancelled the form');

    down = false;
    await env.retry(id);
    assert.deepEqual(
      (await env.tasks({ assignee: 'alice' })).map((open) => open.id),
      [task.id],
      'the same form, back in the inbox',
    );
    await env.submitTask(task.id, 'alice', { ok: true });
    const run = await env.result(id);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.deepEqual(run.result, { ok: true });
  } finally {
    await env.close();
  }
});

test('a child whose start was refused (its workflow not deployed) is started by a retry once it is deployed', async () => {
  const s = await setup();
  await s.deploy(
    'parent.ts',
    `import { startChild, workflow } from 'autoflow';
export default workflow({
  name: 'parent',
  async run() {
    const kid = await startChild('kid', { n: 2 });
    return { kid: await kid.result() };
  },
});`,
  );
  await s.start('parent', 'p1');
  assert.equal(await s.settle('p1'), 'failed');
  const notDeployed = /workflow 'kid' is not deployed; deploy it before starting it as a child/;
  assert.match(String((await s.store.getRun('p1'))?.error?.message), notDeployed);

  // Still not deployed: the start is refused again, as a start is, and the run fails as before.
  await s.engine.retry('p1');
  assert.equal(await s.settle('p1'), 'failed');
  assert.match(String((await s.store.getRun('p1'))?.error?.message), notDeployed);

  await s.deploy(
    'kid.ts',
    `import { workflow } from 'autoflow';
export default workflow({ name: 'kid', async run(input: { n: number }) { return input.n * 21; } });`,
  );
  await s.engine.retry('p1', { latest: true });
  assert.equal(await s.settle('p1'), 'completed');
  assert.deepEqual((await s.store.getRun('p1'))?.result, { kid: 42 });
  const [child] = (await s.store.listRuns({ limit: 10, workflow: 'kid' })).runs;
  assert.equal(child?.parentId, 'p1');
  assert.equal(child?.status, 'completed');
});

test('a parent that failed with its child is refused a retry while that child is still failed, and goes on once it is not', async () => {
  const s = await setup();
  await s.deploy(
    'release.ts',
    `import { executeChild, workflow } from 'autoflow';
export default workflow({
  name: 'release',
  async run() {
    return { notes: await executeChild('release-notes', { version: 'v1' }) };
  },
});`,
  );
  const notes = (check: string) => `import { workflow } from 'autoflow';
export default workflow({
  name: 'release-notes',
  async run(input: { version: string }) {
    ${check}
    return 'notes for ' + input.version;
  },
});`;
  await s.deploy('release-notes.ts', notes(`if (!/^\\d+$/.test(input.version)) throw new TypeError('invalid version segment');`));
  await s.start('release', 'rt-1');
  assert.equal(await s.settle('rt-1'), 'failed');
  const failed = await s.store.getRun('rt-1');

  // Retried as it is, it would only receive the same failure again: refused, naming the child to retry first.
  for (const latest of [false, true]) {
    await assert.rejects(
      s.engine.retry('rt-1', { latest }),
      (error: unknown) =>
        error instanceof ConflictError &&
        error.message.startsWith('run rt-1 failed because its child run rt-1.1 (workflow release-notes) failed') &&
        error.message.includes('Retry the child first (autoflow retry rt-1.1, with --latest once its fix is deployed), then rt-1'),
    );
  }
  assert.deepEqual(await s.store.getRun('rt-1'), failed, 'left as it was');

  await s.deploy('release-notes.ts', notes(`if (!/^v?\\d+$/.test(input.version)) throw new TypeError('invalid version segment');`));
  await s.engine.retry('rt-1.1', { latest: true });
  assert.equal(await s.settle('rt-1.1'), 'completed');
  await s.engine.retry('rt-1');
  assert.equal(await s.settle('rt-1'), 'completed');
  assert.deepEqual((await s.store.getRun('rt-1'))?.result, { notes: 'notes for v1' });
});
