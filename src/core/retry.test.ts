import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveRetryPolicy, retryDelay } from './retry.js';

test('backoff grows exponentially with jitter, is capped, and yields to a longer Retry-After', () => {
  const policy = resolveRetryPolicy({ initialInterval: 1000, backoffCoefficient: 2, maxInterval: 10_000 });
  assert.equal(retryDelay(policy, 1, () => 0), 500);
  assert.equal(retryDelay(policy, 1, () => 1), 1000);
  assert.equal(retryDelay(policy, 3, () => 1), 4000);
  assert.equal(retryDelay(policy, 10, () => 1), 10_000);
  assert.equal(retryDelay(policy, 1, () => 1, 30_000), 30_000);
  assert.equal(retryDelay(policy, 3, () => 1, 100), 4000);
  assert.equal(resolveRetryPolicy(undefined).maxAttempts, 10);
});
