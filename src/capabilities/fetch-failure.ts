import { toError } from '../core/errors.js';

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
