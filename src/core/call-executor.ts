import { CapabilityError, PermissionDeniedError, toError, toErrorInfo, ValidationError } from './errors.js';
import type { CallRecord, ErrorInfo, Json, Resolution } from './model.js';
import type { GrantedPermissions } from './secret-access.js';
import type { Capability, Clock, SecretSource } from './ports.js';
import { resolveRetryPolicy, retryDelay } from './retry.js';
import { MAX_EVENT_DEPTH, nestingProblem } from './storable-json.js';
import { revealJson, sealJson, secretValuesOf } from './secrets.js';

/** A call's result or final failure, as its workflow receives it. */
export type CallResolution = Extract<Resolution, { kind: 'call' }>;

export type CallOutcome =
  | { kind: 'resolved'; resolution: CallResolution; attempts: number }
  | { kind: 'retry'; attempts: number; nextAt: number; error: ErrorInfo }
  /**
   * The attempt was given up from outside (`abandon` aborted). When the call is still this node's
   * (`handBack`: the server stops), it is handed back, the attempt counted, as it may have had effects.
   */
  | { kind: 'abandoned'; attempts: number; reason: string; handBack: boolean };

/** A call's resolution on its way to its run: how many attempts it took, and when it came. */
export interface CallAnswer {
  resolution: CallResolution;
  attempts: number;
  at: number;
}

export interface CallContext {
  workflow: string;
  /** As the operator grants them (secret-access.ts): a reference to a withheld secret fails the call. */
  permissions: GrantedPermissions;
  now: number;
}

export interface CallExecutorOptions {
  capabilities: ReadonlyMap<string, Capability>;
  secrets: SecretSource;
  random: () => number;
  /** Tells when an attempt failed (the next one is counted from then), and when it took too long. */
  clock: Clock;
}

/**
 * Why an attempt is given up from outside: its run ended, its lease passed to another node, or the
 * server stops. The message is a sentence for the log; `handBack` is set when the call is still this
 * node's to give back (the server stops), not when its run ended or another node holds it.
 */
export class AttemptAbandonedError extends Error {
  override readonly name = 'AttemptAbandonedError';
  constructor(
    message: string,
    readonly handBack = false,
  ) {
    super(message);
  }
}

/**
 * Runs one attempt of a call on the host and decides what follows: the result, a final failure,
 * or another attempt after a backoff. Arguments are revealed (secret references become values
 * the workflow may read) just before the capability sees them, unless it stores them
 * (`Capability.storesArguments`): it then gets the references. What comes back is sealed (see
 * `sealJson`) before anything stores it, and revealed again when the workflow receives it.
 */
export async function attemptCall(
  call: CallRecord,
  context: CallContext,
  options: CallExecutorOptions,
  abandon: AbortSignal = new AbortController().signal,
): Promise<CallOutcome> {
  const attempts = call.attempts + 1;
  const capability = options.capabilities.get(call.capability);
  const timeoutMs = call.options?.timeoutMs;
  let signal = abandon;
  let cancelTimeout: (() => void) | undefined;
  if (timeoutMs !== undefined) {
    // Not AbortSignal.any: on Node 20 its signal is held weakly and may be collected before it aborts.
    const bounded = new AbortController();
    signal = bounded.signal;
    const onAbandon = (): void => bounded.abort(abandon.reason);
    abandon.addEventListener('abort', onAbandon, { once: true });
    const stopTimer = options.clock.schedule(options.clock.now() + timeoutMs, () =>
      bounded.abort(
        new CapabilityError('timeout', `${call.capability}.${call.method} took longer than its timeoutMs (${timeoutMs} ms)`, {
          retryable: true,
          details: { timeoutMs },
        }),
      ),
    );
    cancelTimeout = () => {
      stopTimer();
      abandon.removeEventListener('abort', onAbandon);
    };
  }
  try {
    if (!capability) {
      throw new CapabilityError('unknown_capability', `no capability named '${call.capability}' is installed on this server`, {
        retryable: false,
      });
    }
    const granted = capability.storesArguments === true ? [] : context.permissions.secrets;
    const withheld = capability.storesArguments === true ? [] : context.permissions.withheldSecrets;
    const invoked = capability.invoke(call.method, revealJson(call.args, options.secrets, granted, withheld), {
      runId: call.runId,
      step: call.step,
      attempt: attempts,
      // A call made again by a run's retry keeps the error its last attempt failed with (run-retry.ts).
      attemptedBefore: attempts > 1 || call.lastError !== undefined,
      idempotencyKey: `${call.runId}:${call.step}`,
      workflow: context.workflow,
      permissions: context.permissions,
      now: context.now,
      signal,
    });
    const value = await untilAborted(invoked, signal);
    // Checked without recursion: the copies and the redaction below recurse, and such an answer would overflow
    // the stack at every attempt.
    if (nestingProblem('answer', value) !== undefined) {
      throw new CapabilityError(
        'response_too_deep',
        `${call.capability}.${call.method} answered with data nested more than ${MAX_EVENT_DEPTH} levels deep, deeper than a run may receive; ask the service for less`,
        { retryable: false },
      );
    }
    return {
      kind: 'resolved',
      attempts,
      resolution: { kind: 'call', step: call.step, ok: true, value: sealJson(toJsonValue(call, value), options.secrets) },
    };
  } catch (caught) {
    if (abandon.aborted) {
      const reason = abandon.reason as AttemptAbandonedError;
      return { kind: 'abandoned', attempts, reason: reason.message, handBack: reason.handBack };
    }
    const error = toError(caught);
    const info = sealJson(toErrorInfo(error, secretValuesOf(options.secrets)) as unknown as Json, options.secrets) as unknown as ErrorInfo;
    delete info.stack;
    // A ValidationError says the call's arguments are refused (a store refusing an emitted event's text, say): the
    // same arguments would be refused again.
    const retryable =
      error instanceof CapabilityError ? error.retryable : !(error instanceof PermissionDeniedError || error instanceof ValidationError);
    const policy = resolveRetryPolicy(call.options?.retry);
    if (retryable && attempts < policy.maxAttempts) {
      const retryAfter = error instanceof CapabilityError ? error.retryAfterMs : undefined;
      // From the failure, not from `context.now` (the attempt's start): an attempt that took longer
      // than the backoff would otherwise be retried at once.
      const nextAt = options.clock.now() + retryDelay(policy, attempts, options.random, retryAfter);
      return { kind: 'retry', attempts, error: info, nextAt };
    }
    if (retryable) info.message = `${info.message} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`;
    return { kind: 'resolved', attempts, resolution: { kind: 'call', step: call.step, ok: false, error: info } };
  } finally {
    cancelTimeout?.();
  }
}

/**
 * `work`, or the signal's reason as soon as it aborts: a capability that ignores its signal does
 * not hold up its run, nor a server that stops. What such an attempt does later is not wanted,
 * so its late failure is dropped on purpose.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  let onAbort = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/**
 * Capabilities return JSON; anything else (undefined, Dates) is normalised the way JSON.stringify would, except what
 * it would write as `{}` and so lose without a word (`lostDataProblem`): that fails the call for good, since another
 * attempt would only answer the same.
 */
function toJsonValue(call: CallRecord, value: unknown): Json {
  if (value === undefined) return null;
  const json = JSON.stringify(value);
  const lost = lostDataProblem(value, json);
  if (lost !== undefined) {
    throw new CapabilityError('result_not_json', `${call.capability}.${call.method} answered with data that JSON cannot hold: ${lost}`, {
      retryable: false,
    });
  }
  return JSON.parse(json) as Json;
}

/**
 * The built-ins that hold their data where JSON does not look (internal slots, not own properties), each with what
 * to return instead. Any other class is written with its own properties, as a library's model classes expect (the
 * Kubernetes client's `V1EmptyDirVolumeSource` for `emptyDir: {}` has none, and is `{}` indeed).
 */
const LOSSY_BUILT_INS: Readonly<Record<string, string>> = {
  Map: 'convert it with Object.fromEntries(map) or [...map]',
  Set: 'convert it with [...set]',
  WeakMap: 'return the data it holds as a plain object or array',
  WeakSet: 'return the data it holds as a plain object or array',
  Promise: 'did you forget `await`?',
  Error: 'return its message, or throw it',
  RegExp: 'return its pattern as text: regexp.source',
  ArrayBuffer: 'return its bytes as base64 text, or as an array of numbers',
  SharedArrayBuffer: 'return its bytes as base64 text, or as an array of numbers',
  DataView: 'return its bytes as base64 text, or as an array of numbers',
};

/**
 * Where `value`, whose JSON is `json`, has a built-in that JSON writes as `{}` though it holds data (a Map, a Set, a
 * Promise, an Error…), as "result.m is a Map, which JSON writes as {} (convert it with …)"; undefined when it has none.
 * Each is seen after its toJSON, as JSON sees it: a Date is its ISO text, a Buffer `{ type, data }`. One with own
 * enumerable properties is not written as `{}`, and is not refused. Costs a search of `json`, and a second writing
 * only when that finds a `{}`.
 */
export function lostDataProblem(value: unknown, json: string | undefined): string | undefined {
  if (json === undefined || !json.includes('{}')) return undefined;
  const paths = new WeakMap<object, string>();
  let problem: string | undefined;
  // Written again with a replacer, which sees each value as the JSON above did: each object is given its path, so
  // that the one lost can be named.
  JSON.stringify(value, function (this: object, key: string, item: unknown) {
    if (problem !== undefined || typeof item !== 'object' || item === null) return item;
    const parent = paths.get(this);
    const at = parent === undefined ? 'result' : Array.isArray(this) ? `${parent}[${key}]` : `${parent}.${key}`;
    // The tag, not instanceof: it names the built-in whatever realm (vm context) the value was made in.
    const tag = Object.prototype.toString.call(item).slice('[object '.length, -1);
    const hint = Object.hasOwn(LOSSY_BUILT_INS, tag) ? LOSSY_BUILT_INS[tag] : undefined;
    if (hint !== undefined && Object.keys(item).length === 0) {
      problem = `${at} is ${/^[AEIO]/.test(tag) ? 'an' : 'a'} ${tag}, which JSON writes as {} (${hint})`;
      return undefined;
    }
    paths.set(item, at);
    return item;
  });
  return problem;
}
