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

/**
 * Delay before attempt `attempt + 1` after `attempt` failed: exponential, capped, with "equal
 * jitter" (half fixed, half random) so that many runs failing together do not retry in lockstep.
 * A server's Retry-After wins when it asks for longer.
 */
export function retryDelay(
  policy: Required<RetryPolicy>,
  attempt: number,
  random: () => number,
  retryAfterMs?: number,
): number {
  const exponential = policy.initialInterval * policy.backoffCoefficient ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxInterval, exponential);
  const jittered = capped / 2 + (capped / 2) * random();
  return retryAfterMs === undefined ? Math.round(jittered) : Math.max(retryAfterMs, Math.round(jittered));
}
