import { NondeterminismError } from './errors.js';
import { commandToHistory, describeRecord, historyToResolution, isCommandRecord } from './history.js';
import type { Activation, Command, HistoryEvent, HistoryPayload, Resolution } from './model.js';
import type { WorkflowInstance } from './ports.js';

export interface ReplayOptions {
  runId: string;
  workflow: string;
  /** Prepares a recorded resolution for delivery (secret references become values). */
  prepare?: (resolution: Resolution) => Resolution;
}

export interface ReplayOutcome {
  /** Steps whose resolution the instance has already received. */
  resolvedSteps: Set<number>;
  /** Workflow tasks replayed. */
  tasks: number;
  /** The durable commands the code issued while replaying, in order (logs left out). */
  commands: Command[];
}

/**
 * Re-executes a run's recorded workflow tasks in a fresh instance: each task gets the resolutions
 * and the time it had, and must issue exactly the commands recorded after it. The first
 * difference stops the replay with a NondeterminismError naming the task, the step, what history
 * has and what the code now does, with both call sites. The tasks go to the instance in one batch
 * (one message when it lives on another thread); the instance runs them in slices and lets its
 * thread's event loop turn in between, since a long history would otherwise hold the thread for as
 * long as all of its tasks took (docs/engine.md).
 */
export async function replayHistory(
  instance: WorkflowInstance,
  history: readonly HistoryEvent[],
  options: ReplayOptions,
): Promise<ReplayOutcome> {
  const resolvedSteps = new Set<number>();
  const first = history[0];
  if (!first) return { resolvedSteps, tasks: 0, commands: [] };
  if (first.type !== 'run_started') {
    throw new Error(`history of run ${options.runId} does not begin with run_started (found ${first.type}); the store is corrupt`);
  }
  const activations: Activation[] = [];
  const recordedPerTask: HistoryEvent[][] = [];
  let buffer: Resolution[] = [];
  let index = 1;
  while (index < history.length) {
    const event = history[index] as HistoryEvent;
    const resolution = historyToResolution(event);
    if (resolution) {
      buffer.push(options.prepare ? options.prepare(resolution) : resolution);
      if ('step' in resolution) resolvedSteps.add(resolution.step);
      index++;
      continue;
    }
    if (event.type !== 'workflow_task') {
      throw new Error(`history of run ${options.runId} has ${event.type} at seq ${event.seq} outside a workflow task; the store is corrupt`);
    }
    let next = index + 1;
    const recorded: HistoryEvent[] = [];
    while (next < history.length && isCommandRecord(history[next] as HistoryEvent)) recorded.push(history[next++] as HistoryEvent);
    activations.push({
      time: event.time,
      ...(activations.length === 0 ? { start: { input: first.input } } : {}),
      resolutions: buffer,
      replaying: true,
      patches: recorded.flatMap((record) => (record.type === 'patch_marker' ? [record.patchId] : [])),
    });
    recordedPerTask.push(recorded);
    buffer = [];
    index = next;
  }
  const { results, failure } = await instance.replay(activations);
  for (const [task, result] of results.entries()) {
    compareCommands(result.commands, recordedPerTask[task] as HistoryEvent[], task + 1, options);
  }
  if (failure) throw failure;
  const commands = results.flatMap((result) => result.commands.filter((command) => command.kind !== 'log'));
  return { resolvedSteps, tasks: activations.length, commands };
}

function identity(record: HistoryPayload): string {
  switch (record.type) {
    case 'call_scheduled':
      return `${record.step}:${record.capability}.${record.method}`;
    case 'timer_started':
    case 'wait_started':
    case 'child_started':
      return `${record.step}:${record.type === 'wait_started' ? record.eventType : record.type === 'child_started' ? record.workflow : ''}`;
    case 'patch_marker':
      return record.patchId;
    default:
      return '';
  }
}

function siteOf(record: HistoryPayload | undefined): string | null {
  return record && 'site' in record && record.site ? record.site : null;
}

function describeWithSite(record: HistoryPayload): string {
  const site = siteOf(record);
  const step = 'step' in record ? ` (step ${record.step})` : '';
  return `${describeRecord(record)}${step}${site === null ? '' : ` at ${site}`}`;
}

function compareCommands(produced: Command[], recorded: HistoryEvent[], task: number, options: ReplayOptions): void {
  const durable = produced.flatMap((command) => {
    const record = commandToHistory(command);
    return record ? [record] : [];
  });
  const length = Math.max(durable.length, recorded.length);
  for (let i = 0; i < length; i++) {
    const got = durable[i];
    const expected = recorded[i];
    if (got && expected && got.type === expected.type && identity(got) === identity(expected)) continue;
    const step = (expected && 'step' in expected ? expected.step : undefined) ?? (got && 'step' in got ? got.step : undefined);
    const where = `workflow task ${task} of run ${options.runId} (workflow ${options.workflow})`;
    const message = !got
      ? `Nondeterminism in ${where}: history has ${describeWithSite(expected as HistoryPayload)}, but the code no longer issues it.`
      : !expected
        ? `Nondeterminism in ${where}: the code now issues ${describeWithSite(got)}, which history does not have.`
        : `Nondeterminism in ${where}: history has ${describeWithSite(expected)}, but the code now issues ${describeWithSite(got)}.`;
    throw new NondeterminismError(
      `${message} Runs keep the version they started with; to change code under running runs, guard the change with patched('<id>').`,
      {
        runId: options.runId,
        workflow: options.workflow,
        task,
        step: step ?? null,
        expected: expected ? describeWithSite(expected) : null,
        got: got ? describeWithSite(got) : null,
        // Also apart from the descriptions, so that tools (`autoflow replay`, editors) can link to them.
        sites: { expected: siteOf(expected), got: siteOf(got) },
      },
    );
  }
}
