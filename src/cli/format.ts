import type { CallView, DeployProblemView, RetryView, TaskView, WorkflowView } from '../app/operations.js';
import { BUILT_IN_PATCH_NOTE, isBuiltInPatch } from '../core/built-in-patches.js';
import { cronHasSeconds } from '../core/cron-pattern.js';
import { causeChainOf } from '../core/errors.js';
import { childRunsByStep } from '../core/history.js';
import { describeOutcome, waitDeadlines, type WaitStarted } from '../core/human-task-rules.js';
import { TASK_CLOSED_EVENT } from '../core/human-task.js';
import type { ErrorInfo, HistoryEvent, Json, TriggerSpec } from '../core/model.js';
import { cutPoint } from '../core/text-cut.js';

/** Pretty JSON for results that a person reads or a script parses. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** `text` within `max` characters, its end replaced by `…` when cut. */
function cutLine(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, cutPoint(text, max - 1))}…` : text;
}

/** One-line JSON, cut to `max` characters: for facts inside a line. */
export function formatInline(value: Json | undefined, max = 60): string {
  return cutLine(JSON.stringify(value) ?? 'undefined', max);
}

/** `2026-01-02T03:04:05Z`: UTC to the second, the same on every machine. */
export function formatTime(time: string | number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * An error and its causes, less each cause that the error before it quotes whole at the end of its message (a failed
 * child's ChildRunFailedError ends with the child's `Name: message`): printed twice, it read as two failures.
 */
function shownChain(error: ErrorInfo): ErrorInfo[] {
  return causeChainOf(error).filter((link, i, chain) => i === 0 || !chain[i - 1]!.message.endsWith(`${link.name}: ${link.message}`));
}

/**
 * `Name: message`, and each cause after it: `…; caused by Name: message`. Whole, however long: see formatErrorLine.
 * With `indent`, a message of several lines (a list of failed rules) keeps them, each after a line break and `indent`.
 */
export function formatError(error: ErrorInfo, indent?: string): string {
  const message = (text: string) => (indent === undefined ? printable(text) : printableLines(text).join(`\n${indent}`));
  return shownChain(error)
    .map((link) => `${link.name}: ${message(link.message)}`)
    .join('; caused by ');
}

/** Text of several lines as terminal lines, each `printable`. */
function printableLines(text: string): string[] {
  return text.split(/\r?\n/).map(printable);
}

/**
 * How much of an error `show` prints. A workflow's message may hold whatever it was given (one of 8 KB, with an
 * issue list in it, was printed whole twice and put its root cause out of sight); `--json` has it whole.
 */
const ERROR_CUTS = {
  /** In a line of the history, the open calls or the retries: each message, and the answer's body. */
  line: { message: 200, body: 60 },
  /** Under `error`, where each cause has a line of its own. */
  fact: { message: 500, body: 200 },
} as const;

/**
 * `Name: message`, and the body of the answer that failed the call when there is one (`details.body` of an HTTP or
 * GitLab error: the service's own "why", such as `{"message":"no such deployment target"}`), each cut. The body is
 * as stored, its secrets redacted when the call failed.
 */
function describeError(error: ErrorInfo, cut: { message: number; body: number }, keepLines = false): string {
  const { details } = error;
  const body = details !== null && typeof details === 'object' && !Array.isArray(details) ? details.body : undefined;
  const answered = body === undefined || body === null || body === '' ? '' : ` (body ${printable(formatInline(body, cut.body))})`;
  const message = keepLines
    ? printableLines(cutLine(error.message, cut.message)).join('\n')
    : cutLine(printable(error.message), cut.message);
  return `${error.name}: ${message}${answered}`;
}

/** An error in one line of `show`: formatError's form, each message cut, with the bodies of failed answers. */
export function formatErrorLine(error: ErrorInfo): string {
  return shownChain(error)
    .map((link) => describeError(link, ERROR_CUTS.line))
    .join('; caused by ');
}

/**
 * A run's error for `show`: the error (each line of its message a line here), where it was thrown in the author's
 * code (see errorFrames), then each cause on a line of its own, `caused by Name: message`, messages cut.
 */
export function formatErrorLines(error: ErrorInfo): string[] {
  const [top, ...causes] = shownChain(error);
  return [
    ...describeError(top ?? error, ERROR_CUTS.fact, true).split('\n'),
    ...errorFrames(error),
    ...causes.map((cause) => `caused by ${describeError(cause, ERROR_CUTS.fact)}`),
  ];
}

/**
 * Text from a run (a log line, an error's message, which may hold an issue title) as one line of a terminal: control
 * characters (an escape sequence that would recolour or clear the screen, a line break that would start a record of
 * its own) are written as escapes (`\n`, `\x1b`), so one record is one line and shows only what it holds. So are the
 * embeddings, overrides and isolates that reorder text (U+202A–U+202E, U+2066–U+2069): an issue title with one would show the rest of its line reversed, the
 * run id and status printed after it included.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (char) => {
    if (char === '\n') return '\\n';
    if (char === '\r') return '\\r';
    const code = char.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

/** A frame the sandbox mapped to the author's sources is relative (`gate.ts`, `@acme/blocks/src/x.ts`); host frames are not. */
const AUTHOR_FRAME = /^\s*at (?:.+ \()?(?![a-z]+:|\/|[A-Za-z]:\\|workflow\.js:)[^()\s]+:\d+:\d+\)?\s*$/;

/** The most frames of an error's stack `show` prints: where it was thrown and the calls that led there. */
const SHOWN_FRAMES = 6;

/** The frames of an error's stack in the author's sources, innermost first, as `at run (gate.ts:14:7)`. */
function authorFrames(error: ErrorInfo): string[] {
  return (error.stack?.split('\n') ?? []).filter((line) => AUTHOR_FRAME.test(line)).map((line) => printable(line.trim()));
}

/** A frame in an error class's own constructor (`at ReportError (errors.ts:5:5)`, its `super()`): not where it was thrown. */
const CONSTRUCTOR_FRAME = /^at [A-Z]\w*Error \(/;

/**
 * Where the error was thrown in the author's code: its stack's first frame in their sources, `at run (gate.ts:14:7)`,
 * past the constructors of the author's error classes. The stored stack has it (`--json` and the web UI show it); a
 * one-line error without it sends the reader looking.
 */
export function errorLocation(error: ErrorInfo): string | undefined {
  const frames = authorFrames(error);
  return frames.find((frame) => !CONSTRUCTOR_FRAME.test(frame)) ?? frames[0];
}

/**
 * The author's frames of an error's stack, at most SHOWN_FRAMES and a count of the rest: a helper in `lib/parse.ts`
 * that threw is found from the workflow's line that called it (the SDK's frames were left out when it was mapped).
 */
export function errorFrames(error: ErrorInfo): string[] {
  const frames = authorFrames(error).map((frame) => cutLine(frame, ERROR_CUTS.fact.message));
  if (frames.length <= SHOWN_FRAMES) return frames;
  return [...frames.slice(0, SHOWN_FRAMES), `… ${frames.length - SHOWN_FRAMES} more frames`];
}

/** `at` as the clock on the wall shows it in `timeZone`, with its weekday: `Mon 2026-12-07 09:00` (seconds when asked). */
export function wallTime(at: Date, timeZone: string, seconds: boolean): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}),
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((item) => item.type === type)?.value ?? '';
  const time = `${part('hour')}:${part('minute')}${seconds ? `:${part('second')}` : ''}`;
  return `${part('weekday')} ${part('year')}-${part('month')}-${part('day')} ${time}`;
}

/**
 * The people of a task in one cell: who may answer while it is open, who answered once it closed (the form's submitter,
 * each approver who decided), or `none` for a task that closed unanswered.
 */
export function formatTaskPeople(task: Pick<TaskView, 'status' | 'eligible' | 'decisions' | 'outcome'>): string {
  if (task.status === 'open') return task.eligible.join(',');
  const outcome = task.outcome;
  if (outcome !== undefined && 'by' in outcome) return outcome.by;
  return task.decisions.length === 0 ? 'none' : task.decisions.map((decision) => `${decision.by} (${decision.decision})`).join(',');
}

/**
 * A workflow's triggers in one cell: event types with their filters, and schedules with their time zone (the same pattern runs at other
 * hours elsewhere) and, when the server said, when each fires next on the zone's clocks.
 */
export function formatTriggers(triggers: readonly TriggerSpec[], schedules: WorkflowView['schedules'] = []): string {
  if (triggers.length === 0) return 'manual';
  let cron = 0;
  return triggers
    .map((trigger) => {
      if ('event' in trigger) return trigger.filter === undefined ? trigger.event : `${trigger.event} if ${JSON.stringify(trigger.filter)}`;
      const timeZone = trigger.timezone ?? 'UTC';
      const next = schedules[cron++]?.next;
      const when =
        next === undefined ? '' : ` (next ${next === null ? 'never' : wallTime(new Date(next), timeZone, cronHasSeconds(trigger.cron))})`;
      return `cron ${trigger.cron} ${timeZone}${when}`;
    })
    .join(', ');
}

/**
 * A workflow file that fails to build, for a person: the file and since when, what still runs instead (`deployed`: the
 * workflows listed), then the error's lines, indented.
 */
export function formatDeployProblem(problem: DeployProblemView, deployed: readonly WorkflowView[]): string[] {
  const active = deployed.find((workflow) => workflow.name === problem.workflow);
  const runs =
    problem.workflow === undefined
      ? 'no workflow of it is deployed'
      : active === undefined
        ? `no version of ${problem.workflow} is deployed`
        : `${active.name} is still running version ${active.version.slice(0, 12)} deployed ${formatTime(active.deployedAt)}`;
  return [
    `✗ ${printable(problem.file)} fails to build (since ${formatTime(problem.since)}); ${runs}`,
    ...problem.message.split('\n').map((line) => `  ${printable(line)}`),
  ];
}

/** Left-aligned columns separated by two spaces (pass a header as the first row). */
export function formatColumns(rows: ReadonlyArray<readonly string[]>): string {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const at = (site: string | undefined): string => (site === undefined ? '' : `  at ${site}`);
/** The source of an event a person sent through the web UI (a signal): `autoflow:user/<username>`. */
const USER_SOURCE = 'autoflow:user/';

/** Who sent the event a wait got: a person through the web UI (a signal), or the people who answered a task. */
function sender(event: Extract<HistoryEvent, { type: 'wait_satisfied' }>['event']): string {
  if (event.source.startsWith(USER_SOURCE)) return ` from @${event.source.slice(USER_SOURCE.length)}`;
  const answered = event.type === TASK_CLOSED_EVENT ? describeOutcome(event.data) : undefined;
  return answered === undefined ? '' : ` ${answered}`;
}

/** What a history line needs from the rest of the history. */
interface HistoryContext {
  /** A wait's deadline (see `waitDeadlines`): a task's wait also wakes to re-check, which is no deadline. */
  deadlineOf: (wait: WaitStarted) => number | undefined;
  /** The child run a step started (see `childRunsByStep`). */
  childOf: (step: number) => string | undefined;
}

/** `#3 rel1-api`: a child's step, and its run when the history has its start. */
function childStep(step: number, childOf: HistoryContext['childOf']): string {
  const id = childOf(step);
  return `#${step}${id === undefined ? '' : ` ${id}`}`;
}

/** The key facts of one history event, e.g. `#3 http.request  at flow.ts:12:5`. */
function describeHistoryEvent(event: HistoryEvent, { deadlineOf, childOf }: HistoryContext): string {
  switch (event.type) {
    case 'run_started':
      return `${event.workflow} ${event.version.slice(0, 12)} input ${formatInline(event.input)}${event.parentId ? ` parent ${event.parentId}` : ''}`;
    case 'workflow_task':
      return '';
    case 'call_scheduled':
      return `#${event.step} ${event.capability}.${event.method}${at(event.site)}`;
    case 'call_completed':
      return `#${event.step} ${formatInline(event.value)}${event.attempts > 1 ? ` after ${event.attempts} attempts` : ''}`;
    case 'call_failed':
      return `#${event.step} ${formatErrorLine(event.error)}${/\(gave up after \d+ attempts?\)$/.test(event.error.message) ? '' : ` after ${event.attempts} attempt${event.attempts === 1 ? '' : 's'}`}`;
    case 'timer_started':
      return `#${event.step} ${event.timeout ? "the run's timeout, " : ''}until ${formatTime(event.fireAt)}${at(event.site)}`;
    case 'timer_fired':
    case 'wait_timed_out':
      return `#${event.step}`;
    case 'wait_started': {
      const deadline = deadlineOf(event);
      return `#${event.step} ${event.eventType} ${formatInline(event.match)}${deadline === undefined ? '' : ` until ${formatTime(deadline)}`}${at(event.site)}`;
    }
    case 'wait_satisfied':
      return `#${event.step} ${event.event.type} ${event.event.id}${sender(event.event)}`;
    case 'child_started':
      return `#${event.step} ${event.workflow} ${event.childId}${at(event.site)}`;
    case 'child_completed':
      return `${childStep(event.step, childOf)} ${formatInline(event.value)}`;
    case 'child_failed':
      return `${childStep(event.step, childOf)} ${formatErrorLine(event.error)}`;
    case 'cancel_requested':
      return [event.by === undefined ? undefined : `by @${event.by}`, event.reason].filter((part) => part !== undefined).join(': ');
    case 'patch_marker':
      return `${event.patchId}${isBuiltInPatch(event.patchId) ? ` ${BUILT_IN_PATCH_NOTE}` : at(event.site)}`;
    case 'run_completed':
      return formatInline(event.result);
    case 'run_failed':
      return formatErrorLine(event.error);
    case 'run_cancelled':
      return '';
    case 'run_continued':
      return `as ${event.newRunId}`;
  }
}

/**
 * A readable history: one line per event with its offset from the first, e.g. `+0.012s  call_scheduled  #3 http.request`.
 * An event a wait found by looking back was received before the run started: its offset is negative (`-18.205s`).
 */
export function formatHistory(events: readonly HistoryEvent[]): string[] {
  const start = events[0]?.at ?? 0;
  const types = Math.max(0, ...events.map((event) => event.type.length));
  const offsets = events.map((event) => `${(Math.abs(event.at - start) / 1000).toFixed(3)}s`);
  // Right-aligned, so that a run of days keeps its columns: `+   0.012s` under `+86400.000s`.
  const width = Math.max(0, ...offsets.map((offset) => offset.length));
  const context: HistoryContext = { deadlineOf: waitDeadlines(events), childOf: childRunsByStep(events) };
  return events.map((event, i) =>
    `${event.at < start ? '-' : '+'}${offsets[i]!.padStart(width)}  ${event.type.padEnd(types)}  ${describeHistoryEvent(event, context)}`.trimEnd(),
  );
}

/**
 * A run's retries, oldest first, one line each: `2026-…Z  by alice, version 1a2b3c4d5e6f, went on from event 4; it had
 * stopped with Error: boom`. A failed run's failing task is no longer in the history, and a stuck run's divergence never
 * was: this is where what stopped it is told.
 */
export function formatRetries(retries: readonly RetryView[]): string[] {
  return retries.map((retry) => {
    const who = retry.by === undefined ? '' : `by ${retry.by}, `;
    const from = retry.keptHistoryLength === 0 ? 'started over' : `went on from event ${retry.keptHistoryLength}`;
    const failure = retry.previousError === undefined ? '' : `; it had stopped with ${formatErrorLine(retry.previousError)}`;
    return `${formatTime(retry.at)}  ${who}version ${retry.version.slice(0, 12)}, ${from}${failure}`;
  });
}

/**
 * A run's open calls, one line each: `#1 gitlab.issues.get  attempt 3 failed, next at 2026-…Z: GitLabUnavailableError: …`;
 * `running on node n1 (lease until …)` while a node makes it; `lease of node n1 passed at …` when that node stopped
 * and another is to take the call over. What a run that looks stuck at `call_scheduled` is waiting for.
 */
export function formatCalls(calls: readonly CallView[]): string[] {
  const names = Math.max(0, ...calls.map((call) => `#${call.step} ${call.capability}.${call.method}`.length));
  return calls.map((call) => {
    const name = `#${call.step} ${call.capability}.${call.method}`.padEnd(names);
    const { lease } = call;
    if (lease?.passed) return `${name}  lease of node ${lease.node} passed at ${formatTime(lease.until)}: another node takes it over`;
    if (lease) {
      const attempt = call.attempts === 0 ? '' : `attempt ${call.attempts + 1} `;
      const failed = call.lastError ? `; last error ${formatErrorLine(call.lastError)}` : '';
      return `${name}  ${attempt}running on node ${lease.node} (lease until ${formatTime(lease.until)})${failed}`;
    }
    if (call.lastError === undefined)
      return `${name}  ${call.attempts === 0 ? 'first attempt due' : `attempt ${call.attempts + 1} due`} ${formatTime(call.nextAt)}`;
    return `${name}  attempt ${call.attempts} failed, next attempt ${formatTime(call.nextAt)}: ${formatErrorLine(call.lastError)}`;
  });
}
