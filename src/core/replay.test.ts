/**
 * Replay re-executes every workflow task of a run, each up to the CPU limit of one task. It must
 * let the event loop turn while it does (other runs, HTTP requests, lease heartbeats), and still
 * give exactly what replaying in one go gives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { QuickJsInstance } from '../sandbox/instance.js';
import { createQuickJsSandbox } from '../sandbox/quickjs-sandbox.js';
import { T0, deploy, workflowFolder } from '../sandbox/test-support.js';
import { commandToHistory, resolutionToHistory } from './history.js';
import type { DeployedDefinition, HistoryEvent, HistoryPayload, Json, Resolution } from './model.js';
import { replayHistory } from './replay.js';

const sandbox = await createQuickJsSandbox();
const folder = workflowFolder();
after(() => folder.remove());

const TASKS = 40;
const INPUT = { tasks: TASKS - 1, work: 100_000 };

/**
 * Runs the workflow live to its end, one task per timer, and writes the history the engine would
 * have: each task's resolutions, its marker, its commands.
 */
function recordHistory(definition: DeployedDefinition, runId: string, input: Json): HistoryEvent[] {
  const history: HistoryEvent[] = [];
  const push = (payload: HistoryPayload, at: number) => history.push({ ...payload, seq: history.length, at });
  push({ type: 'run_started', workflow: definition.name, version: definition.version, input }, T0);
  const instance = sandbox.createInstanceNow(definition, { runId, seed: runId });
  try {
    let resolutions: Resolution[] = [];
    for (let task = 0; ; task++) {
      const time = T0 + task * 1000;
      for (const resolution of resolutions) push(resolutionToHistory(resolution, undefined), time);
      push({ type: 'workflow_task', time }, time);
      const { commands } = instance.activateNow({ time, ...(task === 0 ? { start: { input } } : {}), resolutions, replaying: false });
      resolutions = [];
      for (const command of commands) {
        const record = commandToHistory(command);
        if (record) push(record, time);
        if (command.kind === 'timer') resolutions.push({ kind: 'timer', step: command.step });
      }
      if (resolutions.length === 0) return history;
    }
  } finally {
    instance.dispose();
  }
}

describe('replaying a long history', () => {
  let definition: DeployedDefinition;
  let history: HistoryEvent[];
  before(async () => {
    definition = await deploy(
      sandbox,
      folder.write(
        'long.ts',
        `import { sleep, workflow } from 'autoflow';
export default workflow({
  name: 'long',
  async run(input: { tasks: number; work: number }) {
    let sum = 0;
    for (let task = 0; task < input.tasks; task++) {
      // Work enough that the whole replay takes longer than one slice on any machine.
      for (let i = 0; i < input.work; i++) sum = (sum + i * task) % 1000003;
      await sleep('1s');
    }
    return sum;
  },
});
`,
      ),
    );
    history = recordHistory(definition, 'long-1', INPUT);
  });

  test('lets other work run between its tasks, not only after the last one', async () => {
    const instance = sandbox.createInstanceNow(definition, { runId: 'long-1', seed: 'long-1' });
    // Counts the tasks replayed so far, as seen from outside.
    let activated = 0;
    const activateNow = instance.activateNow.bind(instance);
    instance.activateNow = (activation) => {
      activated++;
      return activateNow(activation);
    };
    // Other work on the event loop: each turn notes how far the replay was.
    const seen: number[] = [];
    let done = false;
    const tick = () => {
      seen.push(activated);
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    try {
      const outcome = await replayHistory(instance, history, { runId: 'long-1', workflow: 'long' });
      done = true;
      assert.equal(outcome.tasks, TASKS);
      assert.equal(activated, TASKS);
      const during = seen.filter((count) => count > 0 && count < TASKS);
      assert.ok(
        during.length >= 1,
        `the event loop turned after ${JSON.stringify(seen)} tasks replayed, never between two of the ${TASKS}`,
      );
    } finally {
      done = true;
      instance.dispose();
    }
  });

  test('gives what replaying in one go gives', async () => {
    const sliced = sandbox.createInstanceNow(definition, { runId: 'long-1', seed: 'long-1' });
    const whole = sandbox.createInstanceNow(definition, { runId: 'long-1', seed: 'long-1' });
    try {
      const options = { runId: 'long-1', workflow: 'long' };
      const inSlices = await replayHistory(sliced, history, options);
      const inOneGo = await replayHistory(
        {
          ...whole,
          replay: (activations) => Promise.resolve({ results: activations.map((activation) => whole.activateNow(activation)) }),
        } as QuickJsInstance,
        history,
        options,
      );
      assert.deepEqual(inSlices, inOneGo);
      assert.deepEqual(inSlices.commands.at(-1)?.kind, 'complete');
      assert.equal(inSlices.resolvedSteps.size, TASKS - 1);
    } finally {
      sliced.dispose();
      whole.dispose();
    }
  });

  test('a task that fails stops the replay there, with the results before it', async () => {
    const instance = sandbox.createInstanceNow(definition, { runId: 'long-1', seed: 'long-1' });
    // A history whose 20th task resolves a step the code never issued as a timer: a protocol error in that task.
    const broken = history.map((event) =>
      event.type === 'timer_fired' && event.step === 19 ? { ...event, type: 'call_completed' as const, value: null, attempts: 1 } : event,
    );
    await assert.rejects(
      replayHistory(instance, broken, { runId: 'long-1', workflow: 'long' }),
      /protocol error: step 19 is a timer, but a call resolution was delivered/,
    );
  });
});
