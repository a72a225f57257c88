/**
 * Retrying a failed run (Engine.retry). The run goes on from where the workflow task that failed it
 * began: that task's history goes, what it had received goes back into the run's mailbox, except
 * failed calls, which run again, and whatever the run was still waiting for is open again. Everything
 * before that task stays, so calls that succeeded are not made again. Pure, apart from the two
 * lookups it is given.
 */
import { childEndError, failedWith } from './child-failure.js';
import { ConflictError } from './errors.js';
import { historyToResolution } from './history.js';
import type { Command, ErrorInfo, HistoryEvent, Resolution, RunRecord } from './model.js';
import type { RunRetry, SecretSource } from './ports.js';
import { callRecordOf, childExistsResolution, childStart, continuedAs, waitRowsOf, type TaskInput } from './task.js';

/** How many continue-as-new successors of a child are followed to find how it ended. */
const MAX_CHAIN = 10_000;

export interface RetryInput {
  /** The failed (or stuck) run. */
  run: RunRecord;
  history: readonly HistoryEvent[];
  /** The version the run goes on with. */
  version: string;
  time: number;
  /** Who asked for the retry, recorded with it. */
  by?: string;
  secrets: SecretSource;
  /** The secrets `version` may read (its permissions), as a task is given them. */
  readableSecrets?: readonly string[];
  /** A child whose start was refused is started again, checked as any start is (TaskInput's). */
  versionOf: TaskInput['versionOf'];
  concurrencyOf?: TaskInput['concurrencyOf'];
  inputProblem?: TaskInput['inputProblem'];
  /**
   * Replays the kept history in a sandbox of `version`: the durable commands the code issued and
   * the steps it received. Throws when the code does not replay it.
   */
  replay: (kept: readonly HistoryEvent[]) => Promise<{ commands: Command[]; resolvedSteps: ReadonlySet<number> }>;
  getRun: (id: string) => Promise<RunRecord | undefined>;
}

/**
 * Where the last workflow task of a failed run's history begins: at its first resolution, or at
 * its marker when it received none. 0 when it is the run's first task, whose stored commit also
 * holds `run_started`: the run then starts over.
 */
export function lastTaskStart(history: readonly HistoryEvent[]): number {
  let marker = history.length - 1;
  while (marker > 0 && history[marker]!.type !== 'workflow_task') marker--;
  let start = marker;
  while (start > 1 && historyToResolution(history[start - 1]!) !== undefined) start--;
  return start <= 1 ? 0 : start;
}

/** What a retry of `input.run` changes (see RunRetry). ConflictError when the run cannot be retried. */
export async function planRetry(input: RetryInput): Promise<RunRetry> {
  const { run, history, time } = input;
  const end = history.at(-1);
  if (end?.type !== 'run_failed') {
    throw new ConflictError(`run ${run.id} has no failure at the end of its history to retry from`);
  }
  // Its timeout fired in the history a retry replays: it would be cancelled and fail again at once.
  if (end.error.name === 'RunTimeoutError') {
    throw new ConflictError(
      `run ${run.id} failed because its timeout passed (${end.error.message}); a retry would replay that and fail again at once: start a new run instead`,
      { code: RUN_TIMED_OUT, workflow: run.workflow },
    );
  }
  const keep = lastTaskStart(history);
  const retry: RunRetry = {
    runId: run.id,
    expectedHistoryLength: history.length,
    expectedUpdatedAt: run.updatedAt,
    keepHistoryLength: keep,
    version: input.version,
    at: time,
    ...(input.by !== undefined && { by: input.by }),
    pending: [],
    calls: [],
    timers: [],
    waits: [],
    children: [],
  };
  if (keep === 0) return retry;

  const kept = history.slice(0, keep);
  const { commands, resolvedSteps } = await input.replay(kept);
  const answered = new Set<number>();
  const refusedStarts = new Set<number>();
  const failedCalls = new Map<number, ErrorInfo>();
  for (const event of history.slice(keep)) {
    const resolution = historyToResolution(event);
    if (resolution?.kind === 'child' && !resolution.ok && resolution.notStarted) refusedStarts.add(resolution.step);
    if (resolution?.kind === 'call' && !resolution.ok) failedCalls.set(resolution.step, resolution.error);
    // Failed calls run again; children are asked how they ended (they may have been retried).
    if (!resolution || resolution.kind === 'child' || (resolution.kind === 'call' && !resolution.ok)) continue;
    if ('step' in resolution) answered.add(resolution.step);
    retry.pending.push({ resolution, at: event.at, ...('attempts' in event && { attempts: event.attempts }) });
  }
  const issuedAt = issueTimes(kept);
  for (const command of commands) {
    if (!('step' in command) || resolvedSteps.has(command.step) || answered.has(command.step)) continue;
    await reopen(command, issuedAt.get(command.step) ?? time, retry, input, refusedStarts, failedCalls);
  }
  return retry;
}

/**
 * The retry of a stuck run, whose replay diverged from its history: it goes on from where it stopped, once the code
 * of `input.version` (its own, after a fix of the server; or a new version) replays its whole history — else the
 * replay throws and nothing changes. Nothing of the history goes and nothing is opened again: a stuck run's calls,
 * timers and waits stayed open, and what reached it since waits in its mailbox.
 */
export async function planStuckRetry(input: Pick<RetryInput, 'run' | 'history' | 'version' | 'time' | 'by' | 'replay'>): Promise<RunRetry> {
  const { run, history } = input;
  await input.replay(history);
  return {
    runId: run.id,
    expectedHistoryLength: history.length,
    expectedUpdatedAt: run.updatedAt,
    keepHistoryLength: history.length,
    version: input.version,
    at: input.time,
    ...(input.by !== undefined && { by: input.by }),
    pending: [],
    calls: [],
    timers: [],
    waits: [],
  };
}

/** The run's record as every store holds it once `retry` is applied: what a read after the retry returns. */
export function retriedRecord(run: RunRecord, retry: RunRetry): RunRecord {
  const { result: _result, error: _error, ...rest } = run;
  return { ...rest, status: 'running', version: retry.version, historyLength: retry.keepHistoryLength, updatedAt: retry.at };
}

/** When each step was issued: the time of the workflow task that recorded it. */
function issueTimes(history: readonly HistoryEvent[]): Map<number, number> {
  const times = new Map<number, number>();
  for (const event of history) if ('step' in event && historyToResolution(event) === undefined) times.set(event.step, event.at);
  return times;
}

/** Opens again an operation the run was still waiting for, or answers it at once (a child that ended). */
async function reopen(
  command: Command,
  issuedAt: number,
  retry: RunRetry,
  input: RetryInput,
  refusedStarts: ReadonlySet<number>,
  failedCalls: ReadonlyMap<number, ErrorInfo>,
): Promise<void> {
  const { run, time } = input;
  switch (command.kind) {
    case 'call': {
      const call = callRecordOf(run.id, command, time, input.secrets);
      // Made again with its attempts from 0, it keeps what its last attempt failed with: `show` tells why it is made
      // again, and its capability that an earlier attempt may have had its effect (CapabilityContext.attemptedBefore).
      const failed = failedCalls.get(command.step);
      if (failed !== undefined) call.lastError = failed;
      retry.calls.push(call);
      return;
    }
    case 'timer':
      // The run's timeout counts again from the retry, whole: a run that failed otherwise after its deadline would
      // otherwise be cancelled by it at once, the call the retry makes again thrown away.
      retry.timers.push({
        runId: run.id,
        step: command.step,
        kind: 'sleep',
        fireAt: command.timeout ? retry.at + (command.fireAt - issuedAt) : command.fireAt,
      });
      return;
    case 'wait': {
      // Registered when it was first: the events that came while the run was failed still reach it.
      const rows = waitRowsOf(run.id, command, issuedAt, input.secrets);
      retry.waits.push(rows.wait);
      if (rows.timeout) retry.timers.push(rows.timeout);
      return;
    }
    case 'child': {
      // A start that was refused (say, the workflow was not deployed yet) is made again; a child that existed and
      // is gone (retention) is not: it ran, and its run is what the parent waited for.
      if (refusedStarts.has(command.step) && !(await input.getRun(command.childId))) {
        const start = childStart(command, run.id, time, input);
        if ('refused' in start) retry.pending.push({ resolution: start.refused, at: time });
        else retry.children?.push(start.run);
        return;
      }
      const resolution = await childOutcome(command, input);
      if (resolution) retry.pending.push({ resolution, at: time });
      return;
    }
    default:
      return;
  }
}

/**
 * How a child run ended, following its continue-as-new chain; undefined while it goes on (running
 * or stuck), for its end then reaches the retried parent like any child's. A run with the child's
 * id that this parent did not start at this step is not its child: the start failed, as it did then.
 */
async function childOutcome(
  { step, childId, workflow }: Extract<Command, { kind: 'child' }>,
  input: RetryInput,
): Promise<Resolution | undefined> {
  const { run, getRun } = input;
  let child = await getRun(childId);
  if (child && (child.parentId !== run.id || child.parentStep !== step)) {
    return childExistsResolution({ id: childId, workflow, parentStep: step });
  }
  for (let hops = 0; child?.status === 'continued' && hops < MAX_CHAIN; hops++) {
    const next = continuedAs(child);
    child = next === undefined ? undefined : await getRun(next);
  }
  if (!child) return { kind: 'child', step, ok: false, error: { name: 'NotFoundError', message: `child run ${childId} no longer exists` } };
  switch (child.status) {
    case 'completed':
      return { kind: 'child', step, ok: true, value: child.result ?? null };
    case 'failed':
      refuseStillFailedChild(input, child);
      return { kind: 'child', step, ok: false, error: childEndError(child, child.status, child.error) };
    case 'cancelled':
      return { kind: 'child', step, ok: false, error: childEndError(child, child.status, child.error) };
    default:
      return undefined;
  }
}

/** `details.code` of the ConflictError refusing the retry of a parent whose failed child must be retried first. */
export const CHILD_STILL_FAILED = 'child_still_failed';
/** `details.code` of the refusal to retry a run that failed by its `timeout`. */
export const RUN_TIMED_OUT = 'run_timed_out';

/**
 * A parent that failed with the failure of a child that is still failed would receive it again, on the code it
 * failed on, and fail again at once: the retry is refused, naming the child to retry first. A retry on another
 * version goes on, as that code may handle the failure (docs/engine.md).
 */
function refuseStillFailedChild({ run, version }: RetryInput, child: RunRecord): void {
  if (version !== run.version || !failedWith(run.error, child)) return;
  if (child.error?.name === 'RunTimeoutError') {
    // The child cannot be retried either (planRetry): pointing at it would send the operator from one refusal to another.
    throw new ConflictError(
      `run ${run.id} failed because its child run ${child.id} (workflow ${child.workflow}) did not end within its timeout, ` +
        `which a retry cannot undo: retried on this version, ${run.id} would fail again at once. Start a new run, or ` +
        `retry ${run.id} with --latest on code that handles the child's failure`,
      { code: RUN_TIMED_OUT, childId: child.id, workflow: child.workflow },
    );
  }
  throw new ConflictError(
    `run ${run.id} failed because its child run ${child.id} (workflow ${child.workflow}) failed, and that child is still ` +
      `failed: retried now, ${run.id} would receive the same failure and fail again. Retry the child first ` +
      `(autoflow retry ${child.id}, with --latest once its fix is deployed), then ${run.id}`,
    // `code` lets a client that retries the child in the same batch (`autoflow retry --failed --dry-run`) tell this refusal apart.
    { code: CHILD_STILL_FAILED, childId: child.id, workflow: child.workflow },
  );
}
