import { CapabilityError, PermissionDeniedError, toError, toErrorInfo } from './errors.js';
import type { CallRecord, ErrorInfo, Json, Permissions, Resolution } from './model.js';
import type { Capability, Clock, SecretSource } from './ports.js';
import { resolveRetryPolicy, retryDelay } from './retry.js';
import { jsonDepthProblem, MAX_EVENT_DEPTH } from './json-depth.js';
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
  permissions: Permissions;
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
    const invoked = capability.invoke(call.method, revealJson(call.args, options.secrets, granted), {
      runId: call.runId,
      step: call.step,
      attempt: attempts,
      idempotencyKey: `${call.runId}:${call.step}`,
      workflow: context.workflow,
      permissions: context.permissions,
      now: context.now,
      signal,
    });
    const value = await untilAborted(invoked, signal);
    // Checked without recursion: the copies and the redaction below recurse, and such an answer would overflow
    // the stack at every attempt.
    if (jsonDepthProblem('answer', value) !== undefined) {
      throw new CapabilityError(
        'response_too_deep',
        `${call.capability}.${call.method} answered with data nested more than ${MAX_EVENT_DEPTH} levels deep, deeper than a run may receive; ask the service for less`,
        { retryable: false },
      );
    }
    return {
      kind: 'resolved',
      attempts,
      resolution: { kind: 'call', step: call.step, ok: true, value: sealJson(toJsonValue(value), options.secrets) },
    };
  } catch (caught) {
    if (abandon.aborted) {
      const reason = abandon.reason as AttemptAbandonedError;
      return { kind: 'abandoned', attempts, reason: reason.message, handBack: reason.handBack };
    }
    const error = toError(caught);
    const info = sealJson(toErrorInfo(error, secretValuesOf(options.secrets)) as unknown as Json, options.secrets) as unknown as ErrorInfo;
    delete info.stack;
    const retryable = error instanceof CapabilityError ? error.retryable : !(error instanceof PermissionDeniedError);
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

/** Capabilities return JSON; anything else (undefined, Dates) is normalised the way JSON.stringify would. */
function toJsonValue(value: unknown): Json {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as Json;
}
