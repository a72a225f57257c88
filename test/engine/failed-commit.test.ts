import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import { ValidationError } from '../../src/core/errors.js';
import type { Capability, Store, TaskCommit } from '../../src/core/ports.js';
import { createQuickJsSandbox } from '../../src/sandbox/quickjs-sandbox.js';
import { createMemoryStore } from '../../src/store/memory/memory-store.js';
import { virtualTimeEngine } from '../helpers/engine.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'three.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'three',
  permissions: { activities: ['step'] },
  async run() {
    let sum = 0;
    for (let i = 1; i <= 3; i++) sum += (await activities.step(i)) as number;
    return sum;
  },
});`,
});
after(() => folder.remove());

/** An engine on `store` with the three-step workflow deployed; `attempts` lists the arguments of each call made. */
async function threeStepsOn(store: Store, callLeaseMs: number) {
  await store.migrate();
  const attempts: number[] = [];
  const step: Capability = {
    name: 'activities',
    invoke: async (_method, args) => {
      attempts.push(args as number);
      return args;
    },
  };
  const sandbox = await createQuickJsSandbox();
  const clock = new VirtualClock();
  const engine = virtualTimeEngine({ store, sandbox, clock, capabilities: new Map([['activities', step]]), callLeaseMs });
  await engine.deploy(await buildDefinition(folder.path('three.ts'), sandbox, clock.now()));
  await engine.start();
  return { engine, clock, attempts };
}

/**
 * Found by the PostgreSQL-restart fault test: a commit that fails after the sandbox already moved on
 * (the database went away mid-commit) left the cached instance ahead of the stored history, and the
 * run stalled for good once its call was retried. The instance must be thrown away and rebuilt.
 */
test('a run whose task commit failed is rebuilt from its history and completes with the right result, its call made once', async () => {
  const real = createMemoryStore();
  let failNextCallResultCommit = true;
  const store: Store = Object.assign(Object.create(real) as Store, {
    commitTask: async (commit: TaskCommit) => {
      // The commit that records the first call's result (and schedules the second) fails once.
      if (failNextCallResultCommit && commit.history.some((event) => event.type === 'call_completed')) {
        failNextCallResultCommit = false;
        throw new Error('connection terminated during COMMIT');
      }
      return real.commitTask(commit);
    },
  });
  const { engine, clock, attempts } = await threeStepsOn(store, 5000);
  await engine.submitRun({
    id: 'r1',
    workflow: 'three',
    version: engine.activeDefinition('three')!.version,
    input: null,
    createdAt: clock.now(),
  });
  for (let i = 0; i < 20 && (await store.getRun('r1'))?.status === 'running'; i++) {
    await engine.whenIdle();
    await new Promise((resolve) => setImmediate(resolve));
    clock.advanceTo(clock.nextAt() ?? clock.now());
  }
  const run = await store.getRun('r1');
  assert.equal(run?.status, 'completed', `the run is ${run?.status}`);
  assert.equal(run?.result, 6, 'each step seen once: 1 + 2 + 3');
  assert.deepEqual(
    attempts,
    [1, 2, 3],
    "each call made once: the answer the failed commit held was stored on its own, before the call's lease passed",
  );
  await engine.stop();
});

test('an answer whose commit failed is stored once the store takes writes again, within its lease', async () => {
  const real = createMemoryStore();
  // The store is down for a while: the commit that records the first answer fails, and so do the
  // next two tries at storing that answer on its own.
  let commitFailures = 1;
  let answerFailures = 2;
  const store: Store = Object.assign(Object.create(real) as Store, {
    commitTask: async (commit: TaskCommit) => {
      if (commitFailures > 0 && commit.history.some((event) => event.type === 'call_completed')) {
        commitFailures--;
        throw new Error('connection terminated during COMMIT');
      }
      return real.commitTask(commit);
    },
    resolveCall: async (...args: Parameters<Store['resolveCall']>) => {
      if (answerFailures-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      return real.resolveCall(...args);
    },
  });
  const { engine, clock, attempts } = await threeStepsOn(store, 60_000);
  const started = clock.now();
  await engine.submitRun({
    id: 'r2',
    workflow: 'three',
    version: engine.activeDefinition('three')!.version,
    input: null,
    createdAt: started,
  });
  // The engine's work between timers is all in memory: a few turns of the event loop finish it.
  const settle = async () => {
    for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
  };
  for (let i = 0; i < 30 && (await store.getRun('r2'))?.status === 'running'; i++) {
    await settle();
    if ((await store.getRun('r2'))?.status !== 'running') break;
    clock.advanceTo(clock.nextAt() ?? clock.now());
  }
  const run = await store.getRun('r2');
  assert.equal(run?.status, 'completed', `the run is ${run?.status}`);
  assert.equal(run?.result, 6);
  assert.deepEqual(attempts, [1, 2, 3], 'no call was made twice');
  assert.ok(clock.now() - started < 60_000, 'the run did not wait for the call lease to pass');
  await engine.stop();
});

test('a stop does not wait out the back-off of an answer waiting to be stored again: it tries once more, then hands it back', async () => {
  const real = createMemoryStore();
  let resolveCalls = 0;
  const store: Store = Object.assign(Object.create(real) as Store, {
    commitTask: async (commit: TaskCommit) => {
      if (commit.history.some((event) => event.type === 'call_completed')) throw new Error('connection terminated during COMMIT');
      return real.commitTask(commit);
    },
    resolveCall: async () => {
      resolveCalls++;
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    },
  });
  const { engine } = await threeStepsOn(store, 60_000);
  await engine.submitRun({ id: 'r3', workflow: 'three', version: engine.activeDefinition('three')!.version, input: null, createdAt: 0 });
  const turns = async (count: number) => {
    for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
  };
  for (let turn = 0; turn < 100 && resolveCalls === 0; turn++) await turns(1);
  assert.equal(resolveCalls, 1, 'the answer was tried on its own once, and now waits out a back-off');
  // The virtual clock never moves here: before, the stop waited for it to reach the end of the back-off.
  const outcome = await Promise.race([engine.stop().then(() => 'stopped'), turns(200).then(() => 'still stopping')]);
  assert.equal(outcome, 'stopped');
  assert.equal(resolveCalls, 2, 'one more try when the stop began');
});

/**
 * A store that refuses a task's data (PostgreSQL refusing a text it cannot hold) refuses it however often it is asked:
 * the run was advanced again every minute for ever, running with nothing to show. It fails, saying why.
 */
test('a task commit the store refuses as data fails the run with the refusal, instead of retrying it for ever', async () => {
  const real = createMemoryStore();
  let refusals = 0;
  const store: Store = Object.assign(Object.create(real) as Store, {
    commitTask: async (commit: TaskCommit) => {
      if (commit.history.some((event) => event.type === 'call_completed')) {
        refusals++;
        throw new ValidationError('PostgreSQL refused a value', ['unsupported Unicode escape sequence (22P05)']);
      }
      return real.commitTask(commit);
    },
  });
  const { engine, clock } = await threeStepsOn(store, 5000);
  await engine.submitRun({ id: 'r4', workflow: 'three', version: engine.activeDefinition('three')!.version, input: null, createdAt: 0 });
  for (let i = 0; i < 20 && (await store.getRun('r4'))?.status === 'running'; i++) {
    await engine.whenIdle();
    await new Promise((resolve) => setImmediate(resolve));
    clock.advanceTo(clock.nextAt() ?? clock.now());
  }
  const run = await store.getRun('r4');
  assert.equal(run?.status, 'failed', `the run is ${run?.status}`);
  assert.equal(run?.error?.name, 'UnstorableTaskError');
  assert.match(run?.error?.message ?? '', /the store refused what this workflow task produced.*22P05/);
  assert.equal(refusals, 1, 'the refused task was not tried again');
  await engine.stop();
});
