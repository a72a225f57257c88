import type { RetryPolicy } from './model.js';

export const DEFAULT_RETRY: Required<RetryPolicy> = {
  maxAttempts: 10,
  initialInterval: 1000,
  backoffCoefficient: 2,
  maxInterval: 300_000,
};

export function resolveRetryPolicy(policy: RetryPolicy | undefined): Required<RetryPolicy> {
  return { ...DEFAULT_RETRY, ...policy };
}

/** The spread after a server's delay is a quarter of it, kept within these bounds. */
const MIN_SERVER_SPREAD_MS = 1000;
const MAX_SERVER_SPREAD_MS = 30_000;

/**
 * Delay before attempt `attempt + 1` after `attempt` failed: exponential, capped, with "equal
 * jitter" (half fixed, half random) so that many runs failing together do not retry in lockstep.
 * A server's delay (`Retry-After`, GitLab's `RateLimit-Reset`) is a floor, never shortened: runs
 * held back together would all come back at the second it names, so a random spread of up to a
 * quarter of it (at least 1 s, at most 30 s) is added after it; the backoff wins when longer.
 */
export function retryDelay(policy: Required<RetryPolicy>, attempt: number, random: () => number, retryAfterMs?: number): number {
  const exponential = policy.initialInterval * policy.backoffCoefficient ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxInterval, exponential);
  // One draw for both, as before there was a spread: a seeded random source (a test's) keeps giving the same delays.
  const draw = random();
  const jittered = Math.round(capped / 2 + (capped / 2) * draw);
  if (retryAfterMs === undefined) return jittered;
  const spread = Math.min(MAX_SERVER_SPREAD_MS, Math.max(MIN_SERVER_SPREAD_MS, retryAfterMs / 4));
  return Math.max(retryAfterMs + Math.round(spread * draw), jittered);
}
