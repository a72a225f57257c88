/**
 * While a run's calls are being made on the fast path, whatever else happens to the run reaches it
 * at once: the answer of another call, a timer, a signal, a cancel. Calls still running when the run
 * ends or the engine stops answer through the store. Activities here answer when the test says so;
 * time is virtual.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import type { Engine, EngineEvents } from '../../src/core/engine.js';
import type { HistoryEvent, Json } from '../../src/core/model.js';
import type { Capability, Clock, Sandbox, Store } from '../../src/core/ports.js';
import { createQuickJsSandbox } from '../../src/sandbox/quickjs-sandbox.js';
import { createMemoryStore } from '../../src/store/memory/memory-store.js';
import { virtualTimeEngine } from '../helpers/engine.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'calls-race.ts': `import { activities, race, workflow } from 'autoflow';
export default workflow({
  name: 'calls-race',
  permissions: { activities: ['slow', 'fast'] },
  async run() {
    const first = await race({ slow: activities.slow(), fast: activities.fast('fast') });
    return first.key;
  },
});`,
  'timeout.ts': `import { activities, race, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'timeout',
  permissions: { activities: ['slow'] },
  async run() {
    const first = await race({ call: activities.slow(), timeout: sleep('3s') });
    return first.key;
  },
});`,
  'cleanup.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'cleanup',
  permissions: { activities: ['slow', 'fast'] },
  async run() {
    try {
      return await activities.slow();
    } finally {
      await activities.fast('cleaned up');
    }
  },
});`,
  'gate.ts': `import { activities, race, signal, workflow } from 'autoflow';
export default workflow({
  name: 'gate',
  permissions: { activities: ['slow'] },
  async run() {
    const first = await race({ call: activities.slow(), go: signal('go') });
    return { key: first.key, value: first.value };
  },
});`,
  'steps.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'steps',
  permissions: { activities: ['fast'] },
  async run(input: { steps: number }) {
    let total = 0;
    for (let i = 0; i < input.steps; i++) total += (await activities.fast(i)) as number;
    return total;
  },
});`,
  'one-slow.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'one-slow',
  permissions: { activities: ['slow'] },
  async run() {
    return await activities.slow();
  },
});`,
  'bounded.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'bounded',
  permissions: { activities: ['slow'] },
  async run() {
    try {
      return await activities.slow(null, { timeoutMs: 5000, retry: { maxAttempts: 2, initialInterval: 1000 } });
    } catch (error) {
      return { name: error.name, code: error.details?.code, message: error.message };
    }
  },
});`,
  'then-sleep.ts': `import { activities, race, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'then-sleep',
  permissions: { activities: ['slow', 'fast'] },
  async run() {
    const first = await race({ slow: activities.slow(), fast: activities.fast('fast') });
    await sleep('1h');
    return first.key;
  },
});`,
});
after(() => folder.remove());

/**
 * Activities whose answers the test controls: `fast` answers its argument at once; `slow` answers
 * `'slow'` when the test calls `answerSlow()`, whatever its signal says. `slowStarted` resolves once
 * a `slow` attempt began; `slowSignal` is that attempt's signal.
 */
function controlledActivities() {
  const invoked: string[] = [];
  /** Each attempt of `slow`: its signal and its attempt number. */
  const slowAttempts: Array<{ signal: AbortSignal; attempt: number }> = [];
  const slowWaiters: Array<{ count: number; resolve: () => void }> = [];
  let answerSlow = (): void => {};
  const slowAnswer = new Promise<Json>((resolve) => (answerSlow = () => resolve('slow')));
  let started = (): void => {};
  const slowStarted = new Promise<void>((resolve) => (started = resolve));
  const capability: Capability = {
    name: 'activities',
    invoke: (method, args, context) => {
      invoked.push(method);
      if (method !== 'slow') return Promise.resolve(args);
      slowAttempts.push({ signal: context.signal, attempt: context.attempt });
      for (const waiter of slowWaiters) if (slowAttempts.length >= waiter.count) waiter.resolve();
      started();
      return slowAnswer;
    },
  };
  /** Resolves once `count` attempts of `slow` began. */
  const slowAttemptsBegan = (count: number) =>
    slowAttempts.length >= count ? Promise.resolve() : new Promise<void>((resolve) => slowWaiters.push({ count, resolve }));
  return { capability, invoked, slowStarted, answerSlow, slowAttempts, slowAttemptsBegan, slowSignal: () => slowAttempts[0]?.signal };
}

interface Node {
  engine: Engine;
  /** Task commits the store applied, by run. */
  commits: Map<string, number>;
  /** Mailbox reads, and timers the engine set on the clock. */
  reads: { loadPending: number };
  timersSet: () => number;
}

/**
 * An engine on `store` with the test's workflows deployed; the store and the clock count what they
 * are asked. One slot by default: while it advances a run, only the engine's own word reaches that
 * run (a claim through the ready queue needs a free slot).
 */
async function nodeOn(
  store: Store,
  sandbox: Sandbox,
  clock: VirtualClock,
  capability: Capability,
  { nodeId = 'a', concurrency = 1, heartbeatMs = null as number | null } = {},
): Promise<Node> {
  const commits = new Map<string, number>();
  const reads = { loadPending: 0 };
  const counting: Store = Object.assign(Object.create(store) as Store, {
    commitTask: async (commit: Parameters<Store['commitTask']>[0]) => {
      const result = await store.commitTask(commit);
      if (result.ok) commits.set(commit.runId, (commits.get(commit.runId) ?? 0) + 1);
      return result;
    },
    loadPending: (runId: string) => {
      reads.loadPending++;
      return store.loadPending(runId);
    },
  });
  let timers = 0;
  const countingClock: Clock = {
    now: () => clock.now(),
    schedule: (at, callback) => {
      timers++;
      return clock.schedule(at, callback);
    },
  };
  const engine = virtualTimeEngine({
    store: counting,
    sandbox,
    clock: countingClock,
    capabilities: new Map([['activities', capability]]),
    nodeId,
    concurrency,
    heartbeatMs,
    callLeaseMs: 60_000,
  });
  for (const file of ['calls-race', 'timeout', 'cleanup', 'gate', 'steps', 'then-sleep', 'one-slow', 'bounded']) {
    await engine.deploy(await buildDefinition(folder.path(`${file}.ts`), sandbox, clock.now()));
  }
  await engine.start();
  return { engine, commits, reads, timersSet: () => timers };
}

/** Resolves once an attempt of a call ended with `outcome`. */
function attempted(engine: Engine, outcome: EngineEvents['call:attempted']['outcome']): Promise<void> {
  return new Promise((resolve) => {
    const off = engine.events.on('call:attempted', (event) => {
      if (event.outcome !== outcome) return;
      off();
      resolve();
    });
  });
}

/** Resolves once `count` task commits of `runId` were applied. */
function commits(engine: Engine, runId: string, count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const off = engine.events.on('run:updated', ({ run }) => {
      if (run.id !== runId || ++seen < count) return;
      off();
      resolve();
    });
  });
}

async function setup(concurrency = 1, heartbeatMs: number | null = null) {
  const store = createMemoryStore();
  await store.migrate();
  const sandbox = await createQuickJsSandbox();
  const clock = new VirtualClock();
  const activities = controlledActivities();
  const node = await nodeOn(store, sandbox, clock, activities.capability, { concurrency, heartbeatMs });
  const { engine } = node;
  /** Starts a run; `finished` resolves when it ends (it may end before `submitRun` returns). */
  const start = (workflow: string, input: Json = null) => {
    const id = `${workflow}-1`;
    const finished = new Promise<Pick<EngineEvents['run:finished'], 'runId' | 'status'>>((resolve) => {
      const off = engine.events.on('run:finished', ({ runId, status }) => {
        if (runId !== id) return;
        off();
        resolve({ runId, status });
      });
    });
    const version = engine.activeDefinition(workflow)!.version;
    const submitted = engine.submitRun({ id, workflow, version, input, createdAt: clock.now() });
    return { id, finished, submitted };
  };
  const callResults = async (runId: string) =>
    (await store.loadHistory(runId)).filter(
      (event): event is Extract<HistoryEvent, { type: 'call_completed' | 'call_failed' }> =>
        event.type === 'call_completed' || event.type === 'call_failed',
    );
  return { store, sandbox, clock, activities, node, engine, start, callResults };
}

test('a race of a slow and a fast call is won by the fast one, and the slow call is given up when the run ends', async () => {
  const { store, activities, engine, start, callResults } = await setup();
  const fenced: unknown[] = [];
  engine.events.on('write:fenced', (event) => fenced.push(event));
  const { id, finished } = start('calls-race');
  await activities.slowStarted;
  assert.equal(activities.slowSignal()?.aborted, false);
  assert.deepEqual(await finished, { runId: id, status: 'completed' }, 'the run ends while the slow call is still running');
  assert.equal((await store.getRun(id))?.result, 'fast');
  assert.match(String(activities.slowSignal()?.reason), /its run ended \(completed\)/, "the slow call's signal aborted");
  // The slow activity ignores its signal and never answers: the engine does not wait for it.
  await engine.whenIdle();
  assert.deepEqual(
    (await callResults(id)).map((event) => event.step),
    [2],
    'only the answer the run received is in its history',
  );
  assert.deepEqual(fenced, [], 'the late answer is dropped quietly');
  await engine.stop();
});

test('a timer that races a call that hangs wins when it is due; the answer that comes later is dropped', async () => {
  const { store, clock, activities, engine, start, callResults } = await setup();
  const { id, finished } = start('timeout');
  await activities.slowStarted;
  const due = clock.nextAt();
  assert.equal(due, clock.now() + 3000, "the engine's wake-up for the timer");
  clock.advanceTo(due);
  assert.deepEqual(await finished, { runId: id, status: 'completed' });
  assert.equal((await store.getRun(id))?.result, 'timeout');

  assert.equal(activities.slowSignal()?.aborted, true, 'the hanging call was given up when the run ended');
  activities.answerSlow();
  await engine.whenIdle();
  assert.deepEqual(await callResults(id), [], 'the call never reached the run');
  assert.equal((await store.getRun(id))?.status, 'completed');
  await engine.stop();
});

test("a cancel reaches a run at once while its call is being made; the workflow's finally makes a durable call", async () => {
  const { store, activities, engine, start, callResults } = await setup();
  const { id, finished } = start('cleanup');
  await activities.slowStarted;
  await engine.cancel(id, 'no longer needed');
  assert.deepEqual(await finished, { runId: id, status: 'cancelled' });
  assert.match((await store.getRun(id))?.error?.message ?? '', /no longer needed/);
  assert.deepEqual(
    (await callResults(id)).map((event) => [event.step, event.type === 'call_completed' ? event.value : event.error.message]),
    [[2, 'cleaned up']],
    'the cleanup call was made and recorded; the slow call was not waited for',
  );

  activities.answerSlow();
  await engine.whenIdle();
  assert.equal((await callResults(id)).length, 1);
  await engine.stop();
});

test('a cancel another node writes reaches a run being advanced here at the wake-up that follows it (a NOTIFY)', async () => {
  const { store, sandbox, clock, activities, engine, start } = await setup(2);
  const { engine: other } = await nodeOn(store, sandbox, clock, controlledActivities().capability, { nodeId: 'b' });
  const { id, finished } = start('cleanup');
  await activities.slowStarted;
  await other.cancel(id, 'cancelled on b');
  await other.whenIdle();
  assert.equal((await store.getRun(id))?.status, 'running', 'b does not take a run that a holds');
  engine.notify();
  assert.deepEqual(await finished, { runId: id, status: 'cancelled' });
  assert.deepEqual(activities.invoked, ['slow', 'fast'], 'the cleanup call was made on a');
  activities.answerSlow();
  await Promise.all([engine.stop(), other.stop()]);
});

test('a signal that arrives while a call is being made wins the race with it', async () => {
  const { store, activities, engine, start } = await setup();
  const { id, finished } = start('gate');
  await activities.slowStarted;
  await engine.ingest(
    { specversion: '1.0', id: 'signal-1', source: 'test', type: 'autoflow.signal.go', subject: id, data: { approved: true } },
    'signal:1',
  );
  assert.deepEqual(await finished, { runId: id, status: 'completed' });
  assert.deepEqual((await store.getRun(id))?.result, { key: 'go', value: { approved: true } });
  activities.answerSlow();
  await engine.whenIdle();
  await engine.stop();
});

test('sequential calls still cost one commit per step, with no mailbox read and no timer', async () => {
  const { node, engine, start, store } = await setup();
  const steps = 20;
  const { id, finished } = start('steps', { steps });
  assert.deepEqual(await finished, { runId: id, status: 'completed' });
  assert.equal((await store.getRun(id))?.result, (steps * (steps - 1)) / 2);
  assert.equal(node.commits.get(id), steps + 1, 'the first task, then one per answer (the last one completes the run)');
  assert.equal(node.reads.loadPending, 0);
  assert.equal(node.timersSet(), 0);
  await engine.whenIdle();
  await engine.stop();
});

test('a call still running when the engine stops gracefully has its answer kept, and is not made again', async () => {
  const { store, sandbox, clock, activities, engine, start, callResults } = await setup();
  // The first task starts both calls; the second receives the fast answer, and the run sleeps.
  const raceDecided = commits(engine, 'then-sleep-1', 2);
  const { id } = start('then-sleep');
  await Promise.all([activities.slowStarted, raceDecided]);
  assert.deepEqual(
    (await callResults(id)).map((event) => event.step),
    [2],
  );
  const stopped = engine.stop();
  activities.answerSlow();
  await stopped;

  const next = controlledActivities();
  const { engine: second } = await nodeOn(store, sandbox, clock, next.capability, { nodeId: 'c' });
  await second.whenIdle();
  clock.advanceTo(clock.nextAt()!);
  await second.whenIdle();
  const run = await store.getRun(id);
  assert.equal(run?.status, 'completed', JSON.stringify(run?.error));
  assert.equal(run?.result, 'fast');
  assert.deepEqual(
    (await callResults(id)).map((event) => [event.step, event.type === 'call_completed' && event.value]),
    [
      [2, 'fast'],
      [1, 'slow'],
    ],
    'the answer given while the engine stopped reached the run',
  );
  assert.deepEqual([...activities.invoked, ...next.invoked].sort(), ['fast', 'slow'], 'each call was made once');
  await second.stop();
});

test("a call's timeoutMs gives up each attempt that takes longer, aborting its signal; the last one fails with the code 'timeout'", async () => {
  const { store, clock, activities, engine, start } = await setup();
  const { id, finished } = start('bounded');
  await activities.slowStarted;
  const retried = attempted(engine, 'retry');
  clock.advanceTo(clock.now() + 5000);
  await retried;
  await engine.whenIdle();
  assert.match(String(activities.slowAttempts[0]?.signal.reason), /took longer than its timeoutMs \(5000 ms\)/);
  // The retry follows its backoff (1 s, half of it jittered), counted from the timeout.
  clock.advanceTo(clock.nextAt()!);
  await activities.slowAttemptsBegan(2);
  assert.equal(activities.slowAttempts[1]?.attempt, 2);
  assert.equal(activities.slowAttempts[1]?.signal.aborted, false);
  clock.advanceTo(clock.now() + 5000);
  assert.deepEqual(await finished, { runId: id, status: 'completed' });
  assert.deepEqual((await store.getRun(id))?.result, {
    name: 'CapabilityError',
    code: 'timeout',
    message: 'activities.slow took longer than its timeoutMs (5000 ms) (gave up after 2 attempts)',
  });
  assert.equal(activities.slowAttempts[1]?.signal.aborted, true);
  await engine.whenIdle();
  await engine.stop();
});

test('a timeoutMs that is not a positive whole number fails the call at its site, before anything runs', async () => {
  const folderOfBad = workflowFolder({
    'bad-timeout.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'bad-timeout',
  permissions: { activities: ['slow'] },
  async run() {
    return await activities.slow(null, { timeoutMs: '5s' });
  },
});`,
  });
  try {
    const { store, sandbox, clock, activities, engine } = await setup();
    await engine.deploy(await buildDefinition(folderOfBad.path('bad-timeout.ts'), sandbox, clock.now()));
    const version = engine.activeDefinition('bad-timeout')!.version;
    await engine.submitRun({ id: 'bad-1', workflow: 'bad-timeout', version, input: null, createdAt: clock.now() });
    await engine.whenIdle();
    const run = await store.getRun('bad-1');
    assert.equal(run?.status, 'failed');
    assert.match(run?.error?.message ?? '', /activities\.slow\(\): timeoutMs must be a positive whole number of milliseconds, not 5s/);
    assert.deepEqual(activities.invoked, []);
    await engine.stop();
  } finally {
    folderOfBad.remove();
  }
});

test('a stop gives up a call that runs past its grace; the attempt counts, and the next node makes the call at once', async () => {
  const { store, sandbox, clock, activities, engine, start } = await setup();
  const { id } = start('one-slow');
  await activities.slowStarted;
  const stopped = engine.stop();
  clock.advanceTo(clock.now() + 10_000);
  await stopped;
  assert.match(String(activities.slowSignal()?.reason), /the server is stopping and the call ran past the 10000 ms grace/);

  const next = controlledActivities();
  next.answerSlow();
  const { engine: second } = await nodeOn(store, sandbox, clock, next.capability, { nodeId: 'c' });
  await second.whenIdle();
  const run = await store.getRun(id);
  assert.equal(run?.status, 'completed', JSON.stringify(run?.error));
  assert.equal(run?.result, 'slow');
  assert.deepEqual(
    next.slowAttempts.map((attempt) => attempt.attempt),
    [2],
    'the given-up attempt counts: a capability that checks for an earlier attempt (a GitLab create) does',
  );
  await second.stop();
});

test('a node whose call lease another node took over gives its attempt up at its next heartbeat', async () => {
  // The first node renews its leases every 90 s, longer than the 60 s call lease: as if it had frozen.
  const { store, sandbox, clock, activities, engine, start } = await setup(1, 90_000);
  const { id } = start('one-slow');
  await activities.slowStarted;
  const other = controlledActivities();
  const { engine: taker } = await nodeOn(store, sandbox, clock, other.capability, { nodeId: 'taker' });
  clock.advanceTo(clock.now() + 60_000);
  // The taker learns the call is due (a poll would tell it), and its wake-up for it fires.
  taker.notify();
  await new Promise((resolve) => setImmediate(resolve));
  clock.advanceTo(clock.now());
  await other.slowAttemptsBegan(1);
  assert.equal(activities.slowSignal()?.aborted, false, 'the first node has not heard yet');
  const givenUp = new Promise<void>((resolve) => activities.slowSignal()?.addEventListener('abort', () => resolve(), { once: true }));
  clock.advanceTo(clock.now() + 30_000);
  await givenUp;
  assert.match(String(activities.slowSignal()?.reason), /its lease is no longer this node’s/);
  other.answerSlow();
  await taker.whenIdle();
  // The run holds the first node's lease (its heartbeat renewed it): that node takes the answer, told as a poll would.
  engine.notify();
  await engine.whenIdle();
  assert.equal((await store.getRun(id))?.result, 'slow');
  await Promise.all([engine.stop(), taker.stop()]);
});
