import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import type { Command, Resolution } from '../core/model.js';
import { WorkflowRuntime, setCurrentRuntime } from './runtime.js';
import { CancelledError, callCapability, continueAsNew, sleep, workflow } from './index.js';

// How a cancellation ends a run, driven on the pure runtime: activation in, commands out.
let runtime: WorkflowRuntime;
let time = 0;
beforeEach(() => {
  runtime = new WorkflowRuntime();
  setCurrentRuntime(runtime);
  runtime.init({ runId: 'r', seed: 'r', workflow: 'w' });
  time = 0;
});

/** One workflow task: delivers the resolutions, lets the workflow run to its next awaits, returns its commands. */
async function activate(resolutions: Resolution[], start?: boolean, replay?: { patches: string[] }): Promise<Command[]> {
  runtime.activate({ time: ++time, resolutions, replaying: replay !== undefined, ...replay, ...(start && { start: { input: null } }) });
  // The workflow's promise jobs, as the host's executePendingJobs() runs them.
  for (let turn = 0; turn < 20; turn++) await Promise.resolve();
  return JSON.parse(runtime.collect()) as Command[];
}

const record = (what: string): Promise<unknown> => callCapability('activities', 'record', what);

test('a second cancel while the cleanup of the first runs is ignored: the finally block runs to its end', async () => {
  runtime.registerModule({
    default: workflow({
      name: 'w',
      async run() {
        try {
          await sleep('1h');
        } finally {
          await record('f1');
          await sleep('10m');
          await record('f2');
        }
      },
    }),
  });
  assert.deepEqual(
    (await activate([], true)).map((command) => command.kind),
    ['timer'],
  );
  const [f1] = await activate([{ kind: 'cancel', reason: 'first' }]);
  assert.ok(f1?.kind === 'call' && f1.args === 'f1');
  const [cleanupSleep] = await activate([{ kind: 'call', step: f1.step, ok: true, value: null }]);
  assert.ok(cleanupSleep?.kind === 'timer', JSON.stringify(cleanupSleep));
  assert.deepEqual(await activate([{ kind: 'cancel', reason: 'second' }]), [], 'the repeated cancel changes nothing');
  const [f2] = await activate([{ kind: 'timer', step: cleanupSleep.step }]);
  assert.ok(f2?.kind === 'call' && f2.args === 'f2', JSON.stringify(f2));
  assert.deepEqual(await activate([{ kind: 'call', step: f2.step, ok: true, value: null }]), [{ kind: 'cancelled', reason: 'first' }]);
});

test('a workflow that catches the cancellation and throws another error fails with that error, the cancellation as its cause', async () => {
  runtime.registerModule({
    default: workflow({
      name: 'w',
      async run() {
        try {
          await sleep('1h');
        } catch (error) {
          throw new Error('compensation failed', { cause: error });
        }
      },
    }),
  });
  await activate([], true);
  const [end] = await activate([{ kind: 'cancel', reason: 'no longer needed' }]);
  assert.ok(end?.kind === 'fail', JSON.stringify(end));
  assert.equal(end.error.message, 'compensation failed');
  assert.deepEqual(end.error.cause, { name: 'CancelledError', message: 'The run was cancelled: no longer needed' });
});

test('the cancellation rethrown, or let through, ends the run cancelled', async () => {
  runtime.registerModule({
    default: workflow({
      name: 'w',
      async run() {
        try {
          await sleep('1h');
        } catch (error) {
          if (error instanceof CancelledError) throw error;
        }
      },
    }),
  });
  await activate([], true);
  assert.deepEqual(await activate([{ kind: 'cancel', reason: 'stop' }]), [{ kind: 'cancelled', reason: 'stop' }]);
});

test('a cancel that comes in the task where the run continues as new ends it cancelled, not continued; a run recorded before replays as it ran', async () => {
  const continuing = workflow({
    name: 'w',
    async run() {
      await sleep('1h');
      return continueAsNew({ round: 2 });
    },
  });
  runtime.registerModule({ default: continuing });
  const [timer] = await activate([], true);
  assert.ok(timer?.kind === 'timer');
  const fired: Resolution = { kind: 'timer', step: timer.step };
  const cancelled = await activate([fired, { kind: 'cancel', reason: 'stop the loop' }]);
  assert.deepEqual(
    cancelled.map((command) => command.kind),
    ['patch', 'cancelled'],
  );
  assert.deepEqual(cancelled[1], { kind: 'cancelled', reason: 'stop the loop' });

  // The same history replayed by this SDK without the marker: as an older SDK ran it, the run continued.
  runtime = new WorkflowRuntime();
  setCurrentRuntime(runtime);
  runtime.init({ runId: 'r', seed: 'r', workflow: 'w' });
  runtime.registerModule({ default: continuing });
  await activate([], true, { patches: [] });
  const replayed = await activate([fired, { kind: 'cancel', reason: 'stop the loop' }], false, { patches: [] });
  assert.deepEqual(
    replayed.map((command) => command.kind),
    ['continueAsNew'],
  );
});
