import { childEndError } from './child-failure.js';
import { withConcurrency } from './concurrency.js';
import { hashedWaitIndexEntry, waitIndexEntry } from './correlation.js';
import { withoutStack } from './errors.js';
import { commandToHistory, redactHistoryPayload, resolutionToHistory } from './history.js';
import type {
  CallRecord,
  ConcurrencySpec,
  Command,
  ErrorInfo,
  EventIdentity,
  HistoryEvent,
  HistoryPayload,
  Json,
  LogLevel,
  LogRecord,
  NewRun,
  Resolution,
  RunRecord,
  RunStatus,
  TimerRecord,
  WaitRecord,
} from './model.js';
import type { SecretSource, TaskCommit } from './ports.js';
import { wellFormedText } from './storable-json.js';
import { holdsSecretValue, redactJson, redactText, sealJson } from './secrets.js';
import { childRunIdProblem, defaultChildRunId } from './run-id.js';
import { cutText } from './text-cut.js';

/** The longest wait key stored as it is; a longer one is stored hashed (waitRowsOf). */
const MAX_PLAIN_WAIT_KEY_CHARS = 512;

/** Log lines kept per workflow task; more are dropped with a warning line (see LogRecord.index). */
export const MAX_LOGS_PER_TASK = 1000;
/** A log line longer than this is cut: logs are for reading, and a task's lines are stored and served whole. */
export const MAX_LOG_LINE_CHARS = 16 * 1024;
/**
 * Characters of log lines kept per workflow task; the line that passes it becomes a note, and the rest are dropped.
 * A loop of sleeps that logs the most lines at their longest would otherwise store 16 MiB per task.
 */
export const MAX_LOG_CHARS_PER_TASK = 1024 * 1024;

export interface DeliveredResolution {
  resolution: Resolution;
  at: number;
  attempts?: number;
}

export interface TaskInput {
  run: RunRecord;
  owner: string;
  /** The workflow task's time. */
  time: number;
  /** Resolutions delivered in this task, in delivery order. */
  delivered: DeliveredResolution[];
  /** Every pending id the task consumed, delivered or discarded as a duplicate. */
  consumedPending: number[];
  /** Steps the fast path resolved in memory (their call rows go). */
  resolvedCalls: number[];
  commands: Command[];
  secrets: SecretSource;
  /** The secrets the workflow may read (its permissions): text it cut may end in the first part of one. */
  readableSecrets?: readonly string[];
  /** When set, new calls are leased to `owner` until then, to be executed right after the commit. */
  callLeaseUntil?: number;
  /** The server wrote `commands` itself, without the run's code (see the `workflow_task` event). */
  withoutCode?: boolean;
  /** Active version of a workflow name, for child runs. */
  versionOf(workflow: string): string | undefined;
  /** The concurrency limit the active version of a workflow declares, for child runs (core/concurrency.ts). */
  concurrencyOf?(workflow: string): ConcurrencySpec | undefined;
  /**
   * Why `input` cannot start a run of the active version of `workflow` (its JSON Schema refuses it), or undefined.
   * A run started through the API is checked there; child runs and continue-as-new successors are checked here.
   */
  inputProblem?(workflow: string, input: Json): string | undefined;
}

export interface TaskOutput {
  commit: TaskCommit;
  /** The status the run ends with, when this task ended it. */
  ended?: { status: RunStatus; result?: Json; error?: ErrorInfo };
  /** Resolutions known at once (a child of an undeployed workflow) for the next task. */
  immediate: DeliveredResolution[];
}

/**
 * The time of a task commit, for the run's `updatedAt` and for what the commit adds elsewhere
 * (the parent's pending, inbox events). TaskCommit carries no clock reading of its own; every task
 * records a `workflow_task` marker, so its last history event has the task's time. `fallback` (the
 * run's previous `updatedAt`) is used for a commit without history; null leaves it to the database.
 */
export function taskTime<F extends number | null>(commit: TaskCommit, fallback: F): number | F {
  return commit.history.at(-1)?.at ?? commit.at ?? fallback;
}

/** The run's record as every store holds it once `commit` is applied: what a read after the commit returns. */
export function committedRecord(run: RunRecord, commit: TaskCommit): RunRecord {
  const record: RunRecord = {
    ...run,
    historyLength: run.historyLength + commit.history.length,
    updatedAt: taskTime(commit, run.updatedAt),
  };
  if (commit.status) {
    const { status, result, error } = commit.status;
    record.status = status;
    delete record.result;
    delete record.error;
    if (result !== undefined) record.result = result;
    if (error !== undefined) record.error = error;
  }
  return record;
}

/** The record of a run just created: `running`, no history, optional fields only when given. */
export function newRunRecord(run: NewRun): RunRecord {
  const record: RunRecord = {
    id: run.id,
    workflow: run.workflow,
    version: run.version,
    input: run.input,
    createdAt: run.createdAt,
    status: 'running',
    updatedAt: run.createdAt,
    historyLength: 0,
  };
  if (run.parentId !== undefined) record.parentId = run.parentId;
  if (run.parentStep !== undefined) record.parentStep = run.parentStep;
  if (run.triggerEventSeq !== undefined) record.triggerEventSeq = run.triggerEventSeq;
  if (run.concurrency !== undefined) record.concurrency = run.concurrency;
  return record;
}

/** The dedupe key of the copy of a signal event carried to the run `to` (TaskCommit.carrySignals). */
export function carriedSignalKey(to: string, event: EventIdentity): string {
  return `carried:${to}:${event.source}:${event.id}`;
}

/** `<id>~2`, `<id>~3`…: the runs a continue-as-new chain creates. */
export function successorId(runId: string): string {
  const match = /^(.*)~(\d+)$/.exec(runId);
  return match ? `${match[1]}~${Number(match[2]) + 1}` : `${runId}~2`;
}

/**
 * The run that `runId` would have continued, by `successorId` backwards: `x` for `x~2`, `x~2` for `x~3`.
 * Only a candidate, since any run may be given an id that ends in `~N`: check that it continued as `runId`.
 */
export function predecessorId(runId: string): string | undefined {
  const match = /^(.*)~([1-9]\d*)$/.exec(runId);
  const n = Number(match?.[2]);
  if (!match || n < 2) return undefined;
  return n === 2 ? match[1] : `${match[1]}~${n - 1}`;
}

/** The run a `continued` run went on as (its result `{ continuedAs }`); undefined for any other run. */
export function continuedAs(run: Pick<RunRecord, 'status' | 'result'>): string | undefined {
  if (run.status !== 'continued') return undefined;
  const next = (run.result as { continuedAs?: unknown } | null | undefined)?.continuedAs;
  return typeof next === 'string' ? next : undefined;
}

/** The name of the error a child's start fails with when its id is taken (Temporal's WorkflowExecutionAlreadyStartedError). */
export const CHILD_RUN_EXISTS_ERROR = 'ChildRunExistsError';

/**
 * What a parent receives, in the commit that asked for it, for a child whose id another run holds already:
 * `startChild(…, { id })` given an id twice, or the id of an unrelated or finished run. Insert-or-ignore would
 * otherwise leave the parent waiting forever for a run that will never report to it. Undefined for a child
 * without a parent step, which nothing waits for.
 */
export function childExistsResolution(child: Pick<NewRun, 'id' | 'workflow' | 'parentId' | 'parentStep'>): Resolution | undefined {
  if (child.parentStep === undefined) return undefined;
  // The id the run made itself was taken first (a client may start a run as `x.1`): "leave out its id" would not help.
  const ownDefault = child.parentId !== undefined && child.id === defaultChildRunId(child.parentId, child.parentStep);
  return {
    kind: 'child',
    step: child.parentStep,
    ok: false,
    notStarted: true,
    error: {
      name: CHILD_RUN_EXISTS_ERROR,
      message:
        `cannot start child run '${child.id}' of workflow '${child.workflow}': a run with this id exists already. ` +
        (ownDefault
          ? `It is the id this run gives the child it starts at step ${child.parentStep} without one, and another run was started under it first: give startChild an id of its own ({ id })`
          : "Give startChild an id no run has, or leave out its 'id' option"),
      details: { code: 'child_run_exists', childId: child.id, workflow: child.workflow },
    },
  };
}

/**
 * The row of a call a task issued at `time`: not attempted yet, due at once. Its arguments are
 * sealed (`sealJson`): the executor reveals them, so text that only looks like a reference (from an
 * issue, an event, the run's input) must reach the capability as that text, never as a value.
 */
export function callRecordOf(runId: string, command: Extract<Command, { kind: 'call' }>, time: number, secrets: SecretSource): CallRecord {
  const record: CallRecord = {
    runId,
    step: command.step,
    capability: command.capability,
    method: command.method,
    args: sealJson(command.args, secrets),
    attempts: 0,
    nextAt: time,
  };
  if (command.options !== undefined) record.options = command.options;
  return record;
}

/**
 * The router's row of a wait registered at `registeredAt`, and the timer of its timeout if it has one. A match that
 * holds a configured secret's value gets a hashed key (correlation.ts).
 */
export function waitRowsOf(
  runId: string,
  command: Extract<Command, { kind: 'wait' }>,
  registeredAt: number,
  secrets: SecretSource,
): { wait: WaitRecord; timeout?: TimerRecord } {
  // A key is matched as it is stored, so it cannot hold a reference in place of a secret's value: one that would
  // hold the value is stored hashed instead, and the router hashes events' keys for that shape (correlation.ts).
  // So is a key too long for an index entry (PostgreSQL's hold 2,704 bytes): its hash matches the same events.
  const values = Object.values(command.match);
  const plain = waitIndexEntry(command.match);
  const hashed = holdsSecretValue(values, secrets) || plain.key.length > MAX_PLAIN_WAIT_KEY_CHARS;
  const { paths, key } = hashed ? hashedWaitIndexEntry(command.match, (text) => secrets.fingerprint(text)) : plain;
  const wait: WaitRecord = { runId, step: command.step, eventType: command.eventType, paths, key, registeredAt };
  if (command.timeoutAt === undefined) return { wait };
  wait.timeoutAt = command.timeoutAt;
  return { wait, timeout: { runId, step: command.step, kind: 'wait_timeout', fireAt: command.timeoutAt } };
}

/**
 * What a workflow's start of a child run becomes: the run to create, or the refusal its parent receives instead (in
 * the next task; `notStarted`, so that a retry of a parent that failed on it starts the child again, run-retry.ts).
 */
export function childStart(
  command: Extract<Command, { kind: 'child' }>,
  parentId: string,
  time: number,
  input: Pick<TaskInput, 'secrets' | 'readableSecrets' | 'versionOf' | 'concurrencyOf' | 'inputProblem'>,
): { run: NewRun } | { refused: Resolution } {
  const { secrets } = input;
  const refuse = (error: ErrorInfo) => ({ refused: { kind: 'child', step: command.step, ok: false, notStarted: true, error } as const });
  // A run id is shown by the API, the web UI and the logs, and must stay what it is to address the run: one
  // holding a secret's value is refused rather than redacted.
  if (redactText(command.childId, secrets) !== command.childId) {
    return refuse({
      name: 'ValidationError',
      message: `cannot start a child run of workflow '${command.workflow}': its id holds the value of a secret, and run ids are shown in the API, the web UI and logs; derive the id from something that is not secret`,
      details: { code: 'secret_in_child_id', workflow: command.workflow },
    });
  }
  const childIdProblem = childRunIdProblem(command.childId, defaultChildRunId(parentId, command.step));
  if (childIdProblem !== undefined) {
    return refuse({
      name: 'ValidationError',
      message: `cannot start a child run of workflow '${command.workflow}' with id '${cutText(command.childId, 100)}': ${childIdProblem}`,
      details: { code: 'invalid_child_id', workflow: command.workflow },
    });
  }
  const version = input.versionOf(command.workflow);
  if (version === undefined) {
    return refuse({
      name: 'NotFoundError',
      message: `workflow '${command.workflow}' is not deployed; deploy it before starting it as a child`,
    });
  }
  const inputProblem = input.inputProblem?.(command.workflow, command.input);
  if (inputProblem !== undefined) {
    return refuse({
      name: 'ValidationError',
      message: `cannot start a child run of workflow '${command.workflow}': ${inputProblem}`,
      details: { code: 'invalid_input', workflow: command.workflow },
    });
  }
  const child: NewRun = {
    id: command.childId,
    workflow: command.workflow,
    version,
    input: redactJson(command.input, secrets, input.readableSecrets ?? []),
    parentId,
    parentStep: command.step,
    createdAt: time,
  };
  return { run: withConcurrency(child, input.concurrencyOf?.(command.workflow)) };
}

/**
 * Turns what one workflow task did into the single atomic commit that records it: the consumed
 * resolutions, a marker with the task's time, the commands as history, and the index rows that
 * let executors, the scheduler and the router act on them. Pure; secrets are redacted here.
 */
export function buildTaskCommit(input: TaskInput): TaskOutput {
  const { run, time, secrets } = input;
  const readable = input.readableSecrets ?? [];
  const history: HistoryEvent[] = [];
  const push = (payload: HistoryPayload, at: number): void => {
    // Redacted, never sealed again: a call's outcome arrived sealed and is kept exactly as it was
    // delivered, so that a replay delivers what this task received.
    history.push({ ...redactHistoryPayload(payload, secrets, readable), seq: run.historyLength + history.length, at });
  };
  if (run.historyLength === 0) {
    const started: HistoryPayload = { type: 'run_started', workflow: run.workflow, version: run.version, input: run.input };
    if (run.parentId !== undefined) started.parentId = run.parentId;
    push(started, run.createdAt);
  }
  for (const delivered of input.delivered) push(resolutionToHistory(delivered.resolution, delivered.attempts), delivered.at);
  const markerSeq = run.historyLength + history.length;
  push({ type: 'workflow_task', time, ...(input.withoutCode && { withoutCode: true }) }, time);

  const calls: TaskCommit['calls'] = [];
  const timers: TimerRecord[] = [];
  const waits: WaitRecord[] = [];
  const children: NewRun[] = [];
  const logs: LogRecord[] = [];
  let logChars = 0;
  let logsFull = false;
  const immediate: DeliveredResolution[] = [];
  const commit: TaskCommit = {
    runId: run.id,
    expectedHistoryLength: run.historyLength,
    owner: input.owner,
    consumedPending: input.consumedPending,
    history,
    calls,
    resolvedCalls: input.resolvedCalls,
    timers,
    waits,
    children,
    logs,
  };
  let ended: TaskOutput['ended'];
  const end = (
    status: Extract<RunStatus, 'completed' | 'failed' | 'cancelled' | 'continued'>,
    outcome: { result?: Json; error?: ErrorInfo },
  ): void => {
    ended = { status, ...outcome };
    const redacted = redactJson(outcome as Json, secrets, readable) as { result?: Json; error?: ErrorInfo };
    commit.status = { status, ...redacted };
    if (run.parentId !== undefined && run.parentStep !== undefined && status !== 'continued') {
      const resolution: Resolution =
        status === 'completed'
          ? { kind: 'child', step: run.parentStep, ok: true, value: outcome.result ?? null }
          : // From the redacted error: the parent's quotes it cut, and a cut could leave part of a secret unredacted.
            { kind: 'child', step: run.parentStep, ok: false, error: childEndError(run, status, redacted.error) };
      commit.notifyParent = {
        runId: run.parentId,
        resolution: redactJson(resolution as unknown as Json, secrets, readable) as unknown as Resolution,
      };
    }
  };

  /** Each child once per commit: the store keeps one cancel per run, and a second would only be refused. */
  const cancelChild = (childId: string, reason: string): void => {
    const list = (commit.cancelChildren ??= []);
    if (!list.some((child) => child.runId === childId)) list.push({ runId: childId, reason });
  };

  const log = (level: LogLevel, text: string): void => {
    if (logsFull) return;
    // Text for people, stored alike on every store: PostgreSQL cannot hold U+0000 or a lone surrogate, and SQLite
    // turned a lone surrogate into three U+FFFD. Made well-formed before the cut, which keeps pairs whole.
    const line = cutText(wellFormedText(redactText(text, secrets)), MAX_LOG_LINE_CHARS);
    logChars += line.length;
    const overflow =
      logs.length === MAX_LOGS_PER_TASK - 1
        ? `more than ${MAX_LOGS_PER_TASK} log lines`
        : logChars > MAX_LOG_CHARS_PER_TASK
          ? `more than ${MAX_LOG_CHARS_PER_TASK / 1024 / 1024} MiB of log lines`
          : undefined;
    logsFull = overflow !== undefined;
    const message = overflow === undefined ? line : `(${overflow} in one workflow task; the rest of this task's lines are dropped)`;
    logs.push({ runId: run.id, index: markerSeq * MAX_LOGS_PER_TASK + logs.length, at: time, level, message });
  };

  for (const command of input.commands) {
    switch (command.kind) {
      case 'log':
        log(command.level, command.message);
        continue;
      case 'call': {
        const record: CallRecord & { leaseUntil?: number } = callRecordOf(run.id, command, time, secrets);
        if (input.callLeaseUntil !== undefined) record.leaseUntil = input.callLeaseUntil;
        calls.push(record);
        break;
      }
      case 'timer':
        timers.push({ runId: run.id, step: command.step, kind: 'sleep', fireAt: command.fireAt });
        break;
      case 'wait': {
        const rows = waitRowsOf(run.id, command, time, secrets);
        waits.push(rows.wait);
        if (rows.timeout) timers.push(rows.timeout);
        break;
      }
      case 'child': {
        const start = childStart(command, run.id, time, input);
        if ('refused' in start) immediate.push({ resolution: start.refused, at: time });
        else children.push(start.run);
        break;
      }
      case 'complete':
        end('completed', { result: command.result });
        break;
      case 'fail':
        end('failed', { error: command.error });
        break;
      case 'cancelled':
        end('cancelled', {
          error: {
            name: 'CancelledError',
            message: `run ${run.id} was cancelled${command.reason === undefined ? '' : `: ${command.reason}`}`,
            ...(command.cause !== undefined && { cause: command.cause }),
          },
        });
        // From SDKs before `cancelChild`: they asked the children only now, at the end of the cleanup.
        for (const childId of command.children ?? []) cancelChild(childId, `its parent run ${run.id} was cancelled`);
        break;
      case 'continueAsNew': {
        const problem = input.inputProblem?.(run.workflow, command.input);
        if (problem !== undefined) {
          const error: ErrorInfo = { name: 'ValidationError', message: `continueAsNew(): ${problem}`, details: { code: 'invalid_input' } };
          end('failed', { error });
          push({ type: 'run_failed', error }, time);
          continue;
        }
        const successor: NewRun = {
          id: successorId(run.id),
          workflow: run.workflow,
          version: input.versionOf(run.workflow) ?? run.version,
          input: redactJson(command.input, secrets, readable),
          createdAt: time,
        };
        if (run.parentId !== undefined) successor.parentId = run.parentId;
        if (run.parentStep !== undefined) successor.parentStep = run.parentStep;
        // The chain keeps the slot its first run took: the run ends and its successor starts in one commit.
        if (run.concurrency !== undefined) successor.concurrency = run.concurrency;
        commit.successor = successor;
        commit.carrySignals = { to: successor.id, kept: command.carry ?? [] };
        end('continued', { result: { continuedAs: successor.id } });
        push({ type: 'run_continued', newRunId: successor.id }, time);
        continue;
      }
      case 'patch':
        break;
      case 'cancelChild':
        cancelChild(command.childId, command.reason);
        continue;
    }
    const record = commandToHistory(command);
    if (record) push(record, time);
  }
  if (ended && calls.length > 0) {
    // The run's end deletes its calls, and these were committed with it: none of them was ever made.
    for (const command of input.commands) if (command.kind === 'call') log('warn', neverMadeCallWarning(command));
    calls.length = 0;
  }
  const output: TaskOutput = { commit, immediate };
  if (ended) output.ended = ended;
  return output;
}

/**
 * A call issued in the workflow task that ended the run: it was not awaited (a forgotten `await`, an `emit` left to
 * run), and the run ended before the call could start. Said in the run's log, where the author looks for it.
 */
function neverMadeCallWarning(call: Extract<Command, { kind: 'call' }>): string {
  const site = call.site === undefined ? '' : ` (${call.site})`;
  return (
    `call #${call.step} ${call.capability}.${call.method}${site} was never made: the run ended in the same step that ` +
    'called it, without waiting for it. Await the call (or Promise.all of such calls) before the run returns.'
  );
}

/**
 * The commit that ends a run outside the sandbox (a limit hit, a cancel of a stuck run, a terminate): failed with
 * `error`, or cancelled. A cancel records `request` in the history as a cancel request (`by`: who asked), ends the run
 * with `reason` in its error, and asks `children` to cancel. A stuck run's error (the divergence, which its history has
 * no trace of) becomes the cancel's cause, so that ending it loses no diagnosis.
 */
export function buildTerminalCommit(
  run: RunRecord,
  owner: string,
  time: number,
  ending:
    | { status: 'failed'; error: ErrorInfo }
    | { status: 'cancelled'; request: { reason?: string; by?: string }; reason?: string; children?: string[] },
  secrets: SecretSource,
): TaskCommit {
  const ended: Pick<TaskInput, 'delivered' | 'commands'> =
    ending.status === 'failed'
      ? { delivered: [], commands: [{ kind: 'fail', error: ending.error }] }
      : {
          delivered: [{ resolution: { kind: 'cancel', ...ending.request }, at: time }],
          commands: [
            {
              kind: 'cancelled',
              ...(ending.reason !== undefined && { reason: ending.reason }),
              ...(ending.children !== undefined && { children: ending.children }),
              ...(run.status === 'stuck' && run.error !== undefined && { cause: run.error }),
            },
          ],
        };
  return buildTaskCommit({
    run,
    owner,
    time,
    ...ended,
    consumedPending: [],
    resolvedCalls: [],
    secrets,
    versionOf: () => undefined,
    withoutCode: true,
  }).commit;
}

/**
 * Parks a run whose replay diverged: its history stays as it is, only its status changes, and its `updatedAt` (when it
 * got stuck, which `runs --status stuck --since` filters on).
 */
export function buildStuckCommit(run: RunRecord, owner: string, error: ErrorInfo, secrets: SecretSource, time: number): TaskCommit {
  return {
    runId: run.id,
    expectedHistoryLength: run.historyLength,
    at: time,
    owner,
    consumedPending: [],
    history: [],
    calls: [],
    resolvedCalls: [],
    timers: [],
    waits: [],
    children: [],
    logs: [],
    // Without its stack: the replay's frames are the server's, and the message names both call sites.
    status: { status: 'stuck', error: redactJson(withoutStack(error) as unknown as Json, secrets) as unknown as ErrorInfo },
  };
}
