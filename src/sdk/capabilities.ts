/**
 * Side effects. Each is a durable `call` command to a host capability; the host checks the
 * definition's permissions, executes it at least once with retries, records the result, and the
 * workflow sees that result exactly once. A failure rejects with a RemoteError carrying the
 * original `name`, `message` and `details`.
 *
 * New facades (like `gitlab` in gitlab.ts) are thin wrappers over `callCapability`.
 */
import type { CallOptions, Json } from '../core/model.js';
import { checkEventType, checkSignalName } from './durable.js';
import { currentRuntime } from './runtime.js';
import type { HttpRequest, HttpResponse } from './types.js';

/**
 * Calls `method` of the host capability `capability` with `args`. The building block of every
 * facade below, exported for capabilities that have no facade yet.
 */
export function callCapability<TResult = Json>(
  capability: string,
  method: string,
  args: Json = null,
  options?: CallOptions,
): Promise<TResult> {
  const timeoutMs = options?.timeoutMs;
  if (timeoutMs !== undefined && !(Number.isSafeInteger(timeoutMs) && timeoutMs > 0)) {
    throw new TypeError(`${capability}.${method}(): timeoutMs must be a positive whole number of milliseconds, not ${String(timeoutMs)}`);
  }
  const callOptions: CallOptions = {
    ...(options?.retry !== undefined && { retry: options.retry }),
    ...(timeoutMs !== undefined && { timeoutMs }),
  };
  return currentRuntime().schedule(`${capability}.${method}()`, () => ({
    kind: 'call',
    capability,
    method,
    args,
    ...(Object.keys(callOptions).length > 0 && { options: callOptions }),
  })) as Promise<TResult>;
}

export const http = {
  /**
   * An HTTP request to a URL the definition's `permissions.http` allows. It carries
   * `Idempotency-Key: <runId>:<step>`. 5xx, 429 (after its Retry-After) and network failures are
   * retried with backoff; a 4xx rejects at once with an error named `HttpError` whose `details`
   * hold `status` and `body`. 2xx and 3xx answers are returned (redirects are not followed).
   * When the retries give up, `details.code` says why: `http_unavailable` (with `details.status`),
   * `timeout` (an attempt took longer than `timeoutMs`) or `network_error`.
   */
  request(request: HttpRequest, options?: CallOptions): Promise<HttpResponse> {
    if (typeof request?.url !== 'string') throw new TypeError('http.request({ url }): url must be a string');
    return callCapability<HttpResponse>('http', 'request', request as unknown as Json, options);
  },
};

export const secrets = {
  /** A secret the definition's `permissions.secrets` names. Never logged or written to history. */
  get(name: string): Promise<string> {
    return callCapability<string>('secrets', 'get', { name });
  },
};

/** Publishes a CloudEvent of `type` (other workflows' triggers and waits can react to it). */
export function emit(type: string, data: Json = null, options: { subject?: string } = {}): Promise<void> {
  checkEventType(type, 'emit');
  const args = { type, data, ...(options.subject !== undefined && { subject: options.subject }) };
  return callCapability('emit', 'emit', args).then(() => undefined);
}

/**
 * Sends signal `name` to run `runId`, as `autoflow signal` does: its `signal(name)` receives `payload` (`true` when
 * none is given). The target's workflow must be in `permissions.signals`. Once per call, however often the call is
 * made again. Resolves with the id of the run that received it (a run that continued as new passes it to the latest of
 * its chain); rejects with a `CapabilityError` whose `code` is `run_not_found` or `run_ended`, which the workflow may
 * catch.
 */
export function sendSignal(runId: string, name: string, payload?: Json): Promise<{ runId: string }> {
  if (typeof runId !== 'string' || runId === '') throw new TypeError('sendSignal(runId, name): runId must be the id of a run');
  checkSignalName(name, `sendSignal(${JSON.stringify(runId)}, ${JSON.stringify(name)})`);
  const args = { runId, name, ...(payload !== undefined && { payload }) };
  return callCapability<{ runId: string }>('signals', 'send', args);
}

/**
 * Operator-registered custom activities, by name: `activities.createTicket({ ... })` calls the
 * capability `activities`, method `createTicket`, with the argument as `args` (and an optional
 * second argument `{ retry, timeoutMs }`). Declare your activities to type them:
 *
 * @example
 * declare module 'autoflow' {
 *   interface Activities {
 *     createTicket(args: { title: string }): Promise<{ id: string }>;
 *   }
 * }
 */
export interface Activities {
  // `any`, not a function type: under noUncheckedIndexedAccess an index signature of functions
  // reads as `F | undefined`, and `activities.anything()` would not compile.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [name: string]: any;
}

// The target is never read; it is typed Activities so that declared (augmented) members type-check.
export const activities: Activities = new Proxy<Activities>(Object.create(null) as Activities, {
  get(_target, name) {
    // `then` stays undefined, or `await activities` would call an activity named "then".
    if (typeof name !== 'string' || name === 'then') return undefined;
    return (args: Json = null, options?: CallOptions) => callCapability('activities', name, args, options);
  },
});
