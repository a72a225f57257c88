/**
 * Time, events, child runs and the run's own deterministic facts. Every function that waits
 * issues its command synchronously (it gets its step number before the caller can await).
 */
import { SIGNAL_EVENT_PREFIX, type CloudEvent, type Json } from '../core/model.js';
import { toMilliseconds, type Duration } from './duration.js';
import { ContinueAsNewSignal } from './errors.js';
import { lostDataIn } from './plain-data.js';
import { currentRuntime, runtimeIfAny } from './runtime.js';
import { Observed } from './wait-channels.js';
import { SIGNAL_NAME_PATTERN, SIGNAL_NAME_RULE } from '../core/signal-name.js';
import { defaultChildRunId } from '../core/run-id.js';
import { MAX_EVENT_TYPE_CHARS, textProblem } from '../core/storable-json.js';
import type { ChildHandle, ChildOptions, RunInfo, SignalOptions, WaitOptions, WorkflowDefinition } from './types.js';

export { SIGNAL_EVENT_PREFIX };

/** A CloudEvent whose `data` has a known shape. */
export type EventOf<TData = Json> = Omit<CloudEvent, 'data'> & { data?: TData };

function timerAt(fireAt: number): Promise<void> {
  return currentRuntime().schedule('sleep()', () => ({ kind: 'timer', fireAt })) as Promise<void>;
}

/** ECMAScript's range of time values (±100,000,000 days from 1970): a time past it is no date, and could be neither stored nor shown. */
const TIME_RANGE_MS = 8.64e15;

function timeValueOf(when: Date | number | string): number {
  const value = when instanceof Date ? when.getTime() : typeof when === 'string' ? Date.parse(when) : when;
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > TIME_RANGE_MS) {
    throw new TypeError(
      `sleep.until(${String(when)}): pass a Date, epoch milliseconds or an ISO 8601 string, within the years -271821 to 275760`,
    );
  }
  return value;
}

/** When `duration` from now ends, for `call`; a TypeError when that is past the last time a date can hold. */
function endOf(duration: Duration, what: 'duration' | 'timeout', call: string): number {
  const ms = toMilliseconds(duration, what);
  const end = Math.ceil(currentRuntime().now() + ms);
  if (end > TIME_RANGE_MS) {
    throw new TypeError(
      `${call}: a ${what} of ${String(duration)} ends past the last date JavaScript can hold (the year 275760); pass a shorter one`,
    );
  }
  return end;
}

/**
 * Waits durably: the run may be unloaded and resumed on another node meanwhile.
 *
 * @example
 * await sleep('2h');
 * await sleep.until(new Date('2030-01-01T09:00:00Z'));
 */
export const sleep: {
  (duration: Duration): Promise<void>;
  /** Waits until the given time; a time in the past fires at once. */
  until(when: Date | number | string): Promise<void>;
} = Object.assign((duration: Duration): Promise<void> => timerAt(endOf(duration, 'duration', 'sleep()')), {
  until: (when: Date | number | string): Promise<void> => timerAt(Math.ceil(timeValueOf(when))),
});

/** The longest path of a `waitFor` match: paths are stored as the wait's shape, an index key. */
const MAX_MATCH_PATH_CHARS = 200;

/**
 * A type given to `waitFor` or `emit` is one exact type. The events API refuses `*` and spaces in a type, and a
 * trigger's type may be a glob; taken literally here, `waitFor('com.example.*')` would wait for an event that never comes.
 */
/** A signal name as SIGNAL_NAME_PATTERN wants it, else a TypeError for `call` (what the author wrote), ending in `more`. */
export function checkSignalName(name: unknown, call: string, more = ''): void {
  if (typeof name !== 'string' || !SIGNAL_NAME_PATTERN.test(name)) {
    throw new TypeError(`${call}: a signal name must ${SIGNAL_NAME_RULE.replace(/^use/u, 'have')}${more}`);
  }
}

export function checkEventType(type: unknown, call: 'waitFor' | 'emit'): void {
  if (typeof type !== 'string' || type === '') throw new TypeError(`${call}(type): the event type must be a non-empty string`);
  // No event can have such a type: the events API and the stores refuse it.
  const unstorable = textProblem(type);
  if (unstorable !== undefined) throw new TypeError(`${call}(type): the event type contains ${unstorable}`);
  if (type.length > MAX_EVENT_TYPE_CHARS) {
    throw new TypeError(`${call}(type): an event type has at most ${MAX_EVENT_TYPE_CHARS} characters (this one has ${type.length})`);
  }
  if (/[\s*]/u.test(type)) {
    throw new TypeError(
      `${call}('${type}'): an event type has no '*' or spaces; ${call} takes one exact type, such as 'com.example.deployed'. ` +
        "Globs belong in a workflow's triggers: triggers: [{ event: 'com.example.*' }]",
    );
  }
}

/**
 * Waits for an event of `eventType` whose dotted paths equal `match`. Resolves to the event, or to
 * `null` when `timeout` passes first. Events that arrived shortly before the wait still match, and so
 * does one that reached a `waitFor` of this run that lost a `race` (wait-channels.ts).
 *
 * @example
 * const merged = await waitFor('com.gitlab.events.merge_request_merged', {
 *   match: { 'object_attributes.iid': 42 },
 *   timeout: '7d',
 * });
 */
export function waitFor<TData = Json>(eventType: string, options: WaitOptions = {}): Promise<EventOf<TData> | null> {
  checkEventType(eventType, 'waitFor');
  const runtime = currentRuntime();
  const match: Record<string, Json> = {};
  for (const [path, value] of Object.entries(options.match ?? {})) {
    if (path.length > MAX_MATCH_PATH_CHARS || textProblem(path) !== undefined) {
      throw new TypeError(
        `waitFor('${eventType}'): a match path is a dotted path of at most ${MAX_MATCH_PATH_CHARS} characters, in well-formed text`,
      );
    }
    if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
      throw new TypeError(`waitFor('${eventType}'): match['${path}'] must be a string, number, boolean or null`);
    }
    match[path] = value;
  }
  if (eventType.startsWith(SIGNAL_EVENT_PREFIX) && !('subject' in match)) {
    runtime.requireRunning(`waitFor('${eventType}')`);
    match.subject = runtime.runInfo().runId;
  }
  const timeoutAt = options.timeout === undefined ? undefined : endOf(options.timeout, 'timeout', `waitFor('${eventType}')`);
  return runtime.waits.open('event', `waitFor('${eventType}')`, eventType, match, timeoutAt) as Promise<EventOf<TData> | null>;
}

/**
 * What a signal's event gives `signal()`. One sent with a payload says it carries JSON (`datacontenttype`), so that
 * `null` arrives as sent; one without has no data and gives `true`. A signal stored before that attribute was set has
 * `data: null` when it was sent without a payload, and replays as it ran then: `true`.
 */
function signalData(event: CloudEvent): Json {
  if (event.datacontenttype !== undefined) return event.data ?? null;
  return event.data ?? true;
}

/**
 * Waits for the next signal `name` sent to this run (`autoflow signal`, or the API) and returns its
 * payload, or `null` when `timeout` passes first. A signal sent without a payload returns `true`, and one
 * sent with `null` returns `null` (as a timeout does). Signals of one name are a queue: each call takes the next
 * one, in call order, and one sent before the call is kept for it; a `signal()` that lost a `race`
 * takes none (wait-channels.ts).
 */
export function signal<TData = Json>(name: string, options: SignalOptions = {}): Promise<TData | null> {
  let waiting: Promise<CloudEvent | null>;
  try {
    // The names `autoflow signal` and the API accept: any other would park the run for a signal nobody can send.
    checkSignalName(name, `signal(${JSON.stringify(name)})`, ', as `autoflow signal` and the API accept');
    const runtime = currentRuntime();
    const operation = `signal('${name}')`;
    runtime.requireRunning(operation);
    const timeoutAt = options.timeout === undefined ? undefined : endOf(options.timeout, 'timeout', operation);
    waiting = runtime.waits.open('signal', operation, `${SIGNAL_EVENT_PREFIX}${name}`, { subject: runtime.runInfo().runId }, timeoutAt);
  } catch (error) {
    // Rejected, not thrown, as when signal() was an async function.
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  // One step after the wait's, as when signal() was an async function: concurrent branches go on in the same order.
  const result = new Observed<TData | null>((resolve, reject) => {
    waiting.then((event) => resolve(event ? (signalData(event) as TData) : null), reject);
  });
  const { waits } = currentRuntime();
  waits.onRelease(
    result,
    () => waits.release(waiting),
    () => waits.reacquire(waiting),
  );
  return result;
}

export type RaceResult<T extends Record<string, PromiseLike<unknown>>> = {
  [K in keyof T & string]: { key: K; value: Awaited<T[K]> };
}[keyof T & string];

/**
 * Settles with the first branch to settle: `{ key, value }` when it fulfils, its error when it
 * rejects. The other branches keep their commands (a pending timer or call is simply never used),
 * but a `signal()` or `waitFor()` passed as a branch that loses is set aside: a signal or event its
 * wait receives goes to the next `signal()` / matching `waitFor()`, or is kept for it, and one it took
 * in the task that decided the race is given back. So are a losing `race`'s branches. A promise set
 * aside that is used again (raced again, awaited) waits again and takes what was kept for it. A native
 * `Promise.race` does none of this: its losing `signal()` goes on waiting and takes the next signal.
 *
 * @example
 * const first = await race({ approved: signal('approve'), expired: sleep('3d') });
 * if (first.key === 'expired') …
 */
export function race<T extends Record<string, PromiseLike<unknown>>>(branches: T): Promise<RaceResult<T>> {
  const keys = Object.keys(branches);
  if (keys.length === 0) throw new TypeError('race({}) needs at least one branch, or it would never settle');
  let settled = false;
  const waits = runtimeIfAny()?.waits;
  // Called by the first branch to settle, before the race settles: the workflow never sees a loser that still consumes.
  const releaseLosers = (winner: string): void => {
    if (settled) return;
    settled = true;
    for (const key of keys) if (key !== winner) waits?.release(branches[key]);
  };
  // As Promise.race: the first branch to settle settles the race, and its losers are set aside before anyone sees it.
  const result = new Observed<RaceResult<T>>((resolve, reject) => {
    for (const key of keys) {
      Promise.resolve(branches[key]).then(
        (value) => {
          releaseLosers(key);
          resolve({ key, value } as RaceResult<T>);
        },
        (error: unknown) => {
          releaseLosers(key);
          reject(error);
        },
      );
    }
  });
  // A race that loses an outer race sets its branches aside while it has not settled, and takes them back when used again.
  waits?.onRelease(
    result,
    () => {
      if (!settled) for (const key of keys) waits.release(branches[key]);
    },
    () => {
      if (!settled) for (const key of keys) waits.reacquire(branches[key]);
    },
  );
  return result;
}

/** The time of the current workflow task (what `Date.now()` returns too). */
export function now(): Date {
  return new Date(currentRuntime().now());
}

/**
 * Whether this run takes the new branch of a change: `if (patched('fix')) { new } else { old }`.
 * A run is pinned to the version it started with, so newer code meets an older run only when it
 * replays the run's history: `autoflow retry --latest` of a failed run, or `autoflow replay`. A live
 * run gets true, and its history records a marker where it asked; a replay gets true if the run
 * recorded the marker, and false if it got there without one (the old code ran). The answer is the
 * same for the rest of the run. Retire a patch in two steps, `deprecatePatch(id)` and then no call
 * at all (docs/engine.md, "Changing a workflow's code").
 */
export function patched(patchId: string): boolean {
  if (typeof patchId !== 'string' || patchId === '') throw new TypeError('patched(id): id must be a non-empty string');
  return currentRuntime().patched(patchId);
}

/**
 * The second of the three steps that retire a patch: replaces `if (patched(id)) { new } else { old }`
 * with `deprecatePatch(id); new`, at the same place. It does not branch: it records the marker as
 * `patched(id)` does, so the histories of new runs still replay against code that calls
 * `patched(id)`, and a replay passes whether or not the run recorded the marker. Deploy it once no
 * run that took the old branch can be replayed against it; remove the call once no run can be taken
 * back to code that calls `patched(id)`: replay skips a marker the code no longer asks about.
 *
 * @example
 * // v2: if (patched('dedupe-comments')) await dedupe(); else await postAll();
 * // v3:
 * deprecatePatch('dedupe-comments');
 * await dedupe();
 * // v4: await dedupe();
 */
export function deprecatePatch(patchId: string): void {
  if (typeof patchId !== 'string' || patchId === '') throw new TypeError('deprecatePatch(id): id must be a non-empty string');
  currentRuntime().patched(patchId);
}

/** Ends this run and starts a fresh one of the same workflow with `input` (keeps history short). */
export function continueAsNew(input: Json = null): never {
  currentRuntime().requireRunning('continueAsNew()');
  let json: string;
  let copy: Json;
  try {
    json = JSON.stringify(input);
    copy = JSON.parse(json) as Json;
  } catch (error) {
    throw new TypeError(`continueAsNew(): the input is not JSON-serialisable (${(error as Error).message})`);
  }
  const lost = lostDataIn(input, json, 'input');
  if (lost !== undefined) throw new TypeError(`continueAsNew() ${lost}`);
  throw new ContinueAsNewSignal(copy);
}

export function runInfo(): RunInfo {
  return currentRuntime().runInfo();
}

/** A random UUID from the run's seeded generator: the same on every replay. */
export function uuid4(): string {
  return currentRuntime().uuid4();
}

/**
 * Starts a child run. The handle is there at once; `result()` settles when the child ends.
 * Passing the child's definition (imported from its module) types its input and result.
 */
export function startChild<TInput, TResult>(
  workflow: WorkflowDefinition<TInput, TResult>,
  input: TInput,
  options?: ChildOptions,
): Promise<ChildHandle<TResult>>;
export function startChild<TResult = Json>(workflow: string, input?: Json, options?: ChildOptions): Promise<ChildHandle<TResult>>;
export function startChild(
  workflow: string | WorkflowDefinition,
  input: unknown = null,
  options: ChildOptions = {},
): Promise<ChildHandle<unknown>> {
  return Promise.resolve(launchChild(workflow, input, options).handle);
}

/** A started child: its handle, and its result as `result()` gives it, without marking where it is awaited. */
function launchChild(
  workflow: string | WorkflowDefinition,
  input: unknown,
  options: ChildOptions,
): { handle: ChildHandle<unknown>; result: Promise<unknown> } {
  const name = typeof workflow === 'string' ? workflow : workflow?.name;
  if (typeof name !== 'string' || name === '') {
    throw new TypeError('startChild(workflow): pass the workflow name or its definition');
  }
  const runtime = currentRuntime();
  let id = '';
  let step = 0;
  const result = runtime.schedule(`startChild('${name}')`, (number) => {
    step = number;
    id = options.id ?? defaultChildRunId(runtime.runInfo().runId, step);
    return { kind: 'child', workflow: name, input: input as Json, childId: id };
  });
  const cancel = (reason?: string): Promise<void> => {
    if (reason !== undefined && typeof reason !== 'string')
      throw new TypeError(`cancel(reason) of child run ${id}: reason must be a string`);
    const parent = runtime.runInfo().runId;
    runtime.cancelChild(id, `its parent run ${parent} cancelled it${reason === undefined ? '' : `: ${reason}`}`);
    return Promise.resolve();
  };
  const awaited = (): Promise<unknown> => {
    runtime.childAwaited(step);
    return result;
  };
  return { handle: { id, result: awaited, cancel }, result };
}

/** `startChild` and wait for the child's result. */
export function executeChild<TInput, TResult>(
  workflow: WorkflowDefinition<TInput, TResult>,
  input: TInput,
  options?: ChildOptions,
): Promise<TResult>;
export function executeChild<TResult = Json>(workflow: string, input?: Json, options?: ChildOptions): Promise<TResult>;
export function executeChild(workflow: string | WorkflowDefinition, input: unknown = null, options: ChildOptions = {}): Promise<unknown> {
  const child = launchChild(workflow, input, options);
  // Not `handle.result()`: called in this callback, it would mark a stack without the author's line, where the
  // start's has executeChild's caller. As many turns as `startChild(…).then((h) => h.result())` takes: replays
  // of runs recorded before settle in the same order.
  return Promise.resolve(child).then(({ result }) => result);
}
