import { NondeterminismError } from './errors.js';
import { commandToHistory, describeRecord, historyToResolution, isCommandRecord, redactHistoryPayload } from './history.js';
import type { Activation, Command, HistoryEvent, HistoryPayload, Resolution } from './model.js';
import type { SecretSource, WorkflowInstance } from './ports.js';

export interface ReplayOptions {
  runId: string;
  workflow: string;
  /** Prepares a recorded resolution for delivery (secret references become values). */
  prepare?: (resolution: Resolution) => Resolution;
  /**
   * The secrets history was redacted with: the code's commands are compared as history recorded them. Without it, a
   * wait on `'sig' + secret` replayed as a divergence from the `sig{{secret:NAME}}` in history, and the run went stuck.
   */
  secrets?: SecretSource;
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
 * and the time it had, and must issue exactly the commands recorded after it, but for patch
 * markers of patches the code no longer asks about (see compareCommands). The first difference stops the replay with a NondeterminismError naming the task, the step, what history
 * has and what the code now does, with both call sites. The tasks go to the instance in one batch
 * (one message when it lives on another thread); a task the server wrote without the code (a terminate) ends the
 * replay. The instance runs them in slices and lets its
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
  // `patched(id)` answers, in every task, whether the run recorded the marker in any: code that now
  // asks in an earlier task than the run did must not get false there and take the old branch
  // (the marker recorded later would then be skipped as retired); it gets true, and the comparison
  // reports its marker out of place.
  const patches = [...new Set(history.flatMap((event) => (event.type === 'patch_marker' ? [event.patchId] : [])))];
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
      throw new Error(
        `history of run ${options.runId} has ${event.type} at seq ${event.seq} outside a workflow task; the store is corrupt`,
      );
    }
    // The server ended the run there without its code (a terminate): nothing of the code to compare from there on.
    if (event.withoutCode) break;
    let next = index + 1;
    const recorded: HistoryEvent[] = [];
    while (next < history.length && isCommandRecord(history[next] as HistoryEvent)) recorded.push(history[next++] as HistoryEvent);
    activations.push({
      time: event.time,
      ...(activations.length === 0 ? { start: { input: first.input } } : {}),
      resolutions: buffer,
      replaying: true,
      patches,
    });
    recordedPerTask.push(recorded);
    buffer = [];
    index = next;
  }
  const { results, failure } = await instance.replay(activations);
  const markedIn = new Map<string, number>();
  for (const [task, recorded] of recordedPerTask.entries()) {
    for (const record of recorded)
      if (record.type === 'patch_marker' && !markedIn.has(record.patchId)) markedIn.set(record.patchId, task + 1);
  }
  for (const [task, result] of results.entries()) {
    compareCommands(result.commands, recordedPerTask[task] as HistoryEvent[], task + 1, { ...options, markedIn });
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

/** A durable command the code issued, as history would record it, with its call site. */
interface Issued {
  record: HistoryPayload;
  site: string | null;
}

function issuedOf(command: Command, secrets: SecretSource | undefined): Issued[] {
  const written = commandToHistory(command);
  if (!written) return [];
  // Redacted as buildTaskCommit redacts what it records; the error that names a divergence shows no value either.
  const record = secrets ? redactHistoryPayload(written, secrets) : written;
  // Taken from the command, not the record: a patch command has a site when the SDK that wrote it
  // gives it one, and history does not keep it.
  const site = 'site' in command && typeof command.site === 'string' && command.site !== '' ? command.site : null;
  return [{ record, site }];
}

function siteOf(record: HistoryPayload | undefined): string | null {
  return record && 'site' in record && record.site ? record.site : null;
}

function describeWithSite(record: HistoryPayload, site: string | null = siteOf(record)): string {
  const step = 'step' in record ? ` (step ${record.step})` : '';
  return `${describeRecord(record)}${step}${site === null ? '' : ` at ${site}`}`;
}

interface CompareContext extends ReplayOptions {
  /** Patch id → the first workflow task (1-based) whose recorded commands have its marker. */
  markedIn: ReadonlyMap<string, number>;
}

/**
 * Compares what the code issued in one task with what history recorded after the task's marker,
 * in order, by kind and identity (step, capability and method, event type, child workflow, patch
 * id). One exception: a recorded patch marker whose id the code did not issue in this task is
 * skipped. The code no longer asks about that patch (the `patched` call was removed, or is now a
 * `deprecatePatch` the run had not reached). A marker the code issues is strict: it must be where
 * history has it, and since a replay answers `patched(id)` true only for a run that recorded it,
 * code that still asks never silently takes the old branch for a run that took the new one.
 */
function compareCommands(produced: Command[], recorded: HistoryEvent[], task: number, context: CompareContext): void {
  const issued = produced.flatMap((command) => issuedOf(command, context.secrets));
  const issuedPatches = new Set(issued.flatMap(({ record }) => (record.type === 'patch_marker' ? [record.patchId] : [])));
  let i = 0;
  let r = 0;
  while (i < issued.length || r < recorded.length) {
    const got = issued[i];
    const expected = recorded[r];
    if (got && expected && got.record.type === expected.type && identity(got.record) === identity(expected)) {
      i++;
      r++;
      continue;
    }
    if (expected?.type === 'patch_marker' && !issuedPatches.has(expected.patchId)) {
      r++;
      continue;
    }
    throw divergence(task, context, expected, got);
  }
}

function divergence(
  task: number,
  context: CompareContext,
  expected: HistoryEvent | undefined,
  got: Issued | undefined,
): NondeterminismError {
  const step = (expected && 'step' in expected ? expected.step : undefined) ?? (got && 'step' in got.record ? got.record.step : undefined);
  const where = `workflow task ${task} of run ${context.runId} (workflow ${context.workflow})`;
  const gotText = got ? describeWithSite(got.record, got.site) : null;
  const message = !got
    ? `Nondeterminism in ${where}: history has ${describeWithSite(expected as HistoryPayload)}, but the code no longer issues it.`
    : !expected
      ? `Nondeterminism in ${where}: the code now issues ${gotText}, which history does not have.`
      : `Nondeterminism in ${where}: history has ${describeWithSite(expected)}, but the code now issues ${gotText}.`;
  return new NondeterminismError(
    `${message}${patchHint(task, context, expected, got)} A run keeps the version it started with, and newer code replays its history only when ` +
      '`autoflow retry --latest` takes a failed or stuck run to it: to change what such a run does, guard the change with ' +
      "patched('<id>') (docs/engine.md, \"Changing a workflow's code\").",
    {
      runId: context.runId,
      workflow: context.workflow,
      task,
      step: step ?? null,
      expected: expected ? describeWithSite(expected) : null,
      got: gotText,
      // Also apart from the descriptions, so that tools (`autoflow replay`, editors) can link to them.
      sites: { expected: siteOf(expected), got: got?.site ?? null },
    },
  );
}

/** When a patch marker is out of place: where the run recorded it, or that the code asks elsewhere in this task. */
function patchHint(task: number, context: CompareContext, expected: HistoryEvent | undefined, got: Issued | undefined): string {
  const rule = 'patched() and deprecatePatch() must be called where the run called patched().';
  if (expected?.type === 'patch_marker') {
    return ` The code now calls patched('${expected.patchId}') at another point of this workflow task: ${rule}`;
  }
  if (got?.record.type !== 'patch_marker') return '';
  const { patchId } = got.record;
  const marked = context.markedIn.get(patchId);
  if (marked === undefined) return '';
  return ` The run recorded patched('${patchId}') ${marked === task ? 'at another point of this workflow task' : `in workflow task ${marked}`}: ${rule}`;
}
