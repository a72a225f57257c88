import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CloudEvent, Command, Resolution } from '../core/model.js';
import { collect, runtime } from '../../test/helpers/sdk-runtime.js';
import { race, signal, sleep, startChild, workflow } from './index.js';

const durable = (commands: Command[]): Array<Record<string, unknown>> =>
  commands
    .filter((command) => command.kind !== 'log')
    .map(({ kind, ...rest }) => ({
      kind,
      ...('step' in rest && { step: rest.step }),
      ...('patchId' in rest && { patchId: rest.patchId }),
    }));

function signalEvent(id: string, data: string): CloudEvent {
  return { specversion: '1.0', id, source: 'autoflow:api', type: 'autoflow.signal.x', subject: 'r', data };
}

/** Runs `run` through a start and the given tasks; each task's durable commands, and the ending if there was one. */
async function drive(
  run: () => Promise<unknown>,
  tasks: Resolution[][],
  replaying = false,
): Promise<Array<Array<Record<string, unknown>>>> {
  runtime().registerModule({ default: workflow({ name: 'w', run }) });
  const out: Array<Array<Record<string, unknown>>> = [];
  runtime().activate({ time: 0, start: { input: null }, resolutions: [], replaying, patches: [] });
  await new Promise((resolve) => setImmediate(resolve));
  out.push(durable(collect()));
  for (const [index, resolutions] of tasks.entries()) {
    runtime().activate({ time: (index + 1) * 1000, resolutions, replaying, patches: [] });
    await new Promise((resolve) => setImmediate(resolve));
    out.push(durable(collect()));
  }
  return out;
}

const sameTask = async (): Promise<unknown> => {
  const first = await race({ tick: sleep(5000), sig: signal('x') });
  return [first.key, await signal('x')];
};
const timerAndSignal: Resolution[] = [
  { kind: 'timer', step: 1 },
  { kind: 'wait', step: 2, event: signalEvent('e1', 'A') },
];

test('a signal taken in the task where its branch lost the race is given back: the next signal() takes it at once', async () => {
  const tasks = await drive(sameTask, [timerAndSignal]);
  assert.deepEqual(tasks, [
    [
      { kind: 'timer', step: 1 },
      { kind: 'wait', step: 2 },
    ],
    [{ kind: 'patch', patchId: 'autoflow.wait-channels' }, { kind: 'complete' }],
  ]);
});

test('a history recorded before the channels (no marker) replays as it ran: the signal stays with the branch that lost', async () => {
  const tasks = await drive(sameTask, [timerAndSignal], true);
  assert.deepEqual(tasks[1], [{ kind: 'wait', step: 3 }], 'the next signal() waits, as it did then');
});

test('signal() refuses a name that `autoflow signal` and the API refuse, naming signal()', async () => {
  const errors: string[] = [];
  await drive(async () => {
    for (const name of ['approve:v2', 'a/b', 'needs approval', '']) {
      await signal(name).catch((error: Error) => errors.push(error.message));
    }
  }, []);
  assert.equal(errors.length, 4);
  for (const message of errors) {
    assert.match(message, /^signal\(".*"\): a signal name must have 1–100 letters, digits and \. _ -, starting with a letter or digit/);
    assert.doesNotMatch(message, /waitFor|glob|trigger/);
  }
});

test('ChildHandle.cancel() asks the child in this task; a cancelled run asks its running children in the task that delivers the cancel', async () => {
  const tasks = await drive(async () => {
    const first = await startChild('c', null, { id: 'kid-1' });
    const second = await startChild('c', null, { id: 'kid-2' });
    // Its end is not awaited here: the cancel of the run rejects it too.
    first.result().catch(() => {});
    await first.cancel('enough');
    try {
      await second.result();
    } finally {
      await sleep(60_000);
    }
  }, [[{ kind: 'cancel', reason: 'stop' }], [{ kind: 'timer', step: 3 }]]);
  assert.deepEqual(tasks[0], [{ kind: 'child', step: 1 }, { kind: 'child', step: 2 }, { kind: 'cancelChild' }]);
  assert.deepEqual(tasks[1], [{ kind: 'cancelChild' }, { kind: 'cancelChild' }, { kind: 'timer', step: 3 }]);
  assert.deepEqual(tasks[2], [{ kind: 'cancelled' }]);
});

test('cancelChild commands carry the child and the reason; the ending names no children', async () => {
  runtime().registerModule({
    default: workflow({
      name: 'w',
      run: async () => {
        const child = await startChild('c', null, { id: 'kid' });
        await child.cancel('too slow');
        await child.result();
      },
    }),
  });
  runtime().activate({ time: 0, start: { input: null }, resolutions: [], replaying: false });
  await new Promise((resolve) => setImmediate(resolve));
  const commands = collect();
  assert.deepEqual(commands.at(-1), { kind: 'cancelChild', childId: 'kid', reason: 'its parent run r cancelled it: too slow' });
  runtime().activate({ time: 1, resolutions: [{ kind: 'cancel' }], replaying: false });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(collect(), [{ kind: 'cancelChild', childId: 'kid', reason: 'its parent run r was cancelled' }, { kind: 'cancelled' }]);
});
