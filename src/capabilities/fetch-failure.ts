import { setMaxListeners } from 'node:events';
import { toError } from '../core/errors.js';
import type { Clock } from '../core/ports.js';

/** What `fetch` throws when it refuses a port it blocks for safety (the request is never sent). */
const BLOCKED_PORT = 'bad port';

/** Why a `fetch` threw, in words: undici's `fetch failed` says nothing; its cause (`connect ECONNREFUSED …`) does. */
export interface FetchFailure {
  error: Error;
  /** `fetch failed (connect ECONNREFUSED 127.0.0.1:8080)`, or the error's message when it has no cause. */
  description: string;
  /** The timeout signal fired. */
  timedOut: boolean;
  /** fetch refused the port: no retry can cure it. */
  blockedPort: boolean;
}

export function fetchFailure(caught: unknown): FetchFailure {
  const error = toError(caught);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return {
    error,
    description: cause === undefined ? error.message : `${error.message} (${cause})`,
    timedOut: error.name === 'TimeoutError',
    blockedPort: cause === BLOCKED_PORT,
  };
}

/**
 * The signal of one request: it aborts after `timeoutMs` (a TimeoutError, as AbortSignal.timeout's), or
 * when the call that makes it is given up. Not AbortSignal.any: on Node 20 that signal is held weakly,
 * and one collected mid-request never aborts.
 */
export function withTimeout(timeoutMs: number, givenUp: AbortSignal | undefined): AbortSignal {
  return requestDeadline(timeoutMs, givenUp).signal;
}

/**
 * withTimeout's signal, and `clear` to call once the answer is read. With `clock` the time is that clock's (a test's
 * virtual one, on which a simulated GitLab's latency runs), and `clear` takes the timer off it, so that a request that
 * answered leaves no timer for the test to move time to.
 */
export function requestDeadline(
  timeoutMs: number,
  givenUp: AbortSignal | undefined,
  clock?: Clock,
): { signal: AbortSignal; clear(): void } {
  if (!givenUp && !clock) return { signal: AbortSignal.timeout(timeoutMs), clear: () => undefined };
  const request = new AbortController();
  const timedOut = () => request.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  const cancelTimer = clock ? clock.schedule(clock.now() + timeoutMs, timedOut) : realTimer(timeoutMs, timedOut);
  const onGivenUp = (): void => {
    cancelTimer();
    request.abort(givenUp?.reason);
  };
  if (givenUp) {
    givenUp.addEventListener('abort', onGivenUp, { once: true });
    // A call that reads many pages adds a listener per page to its one signal, which lives as long as the call.
    setMaxListeners(0, givenUp);
  }
  return {
    signal: request.signal,
    clear: () => {
      cancelTimer();
      givenUp?.removeEventListener('abort', onGivenUp);
    },
  };
}

/** A timer that does not keep the process alive; returns how to cancel it. */
function realTimer(ms: number, callback: () => void): () => void {
  const timer = setTimeout(callback, ms);
  timer.unref();
  return () => clearTimeout(timer);
}
