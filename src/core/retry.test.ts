import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveRetryPolicy, retryDelay } from './retry.js';

test('backoff grows exponentially with jitter, is capped, and yields to a longer Retry-After', () => {
  const policy = resolveRetryPolicy({ initialInterval: 1000, backoffCoefficient: 2, maxInterval: 10_000 });
  assert.equal(
    retryDelay(policy, 1, () => 0),
    500,
  );
  assert.equal(
    retryDelay(policy, 1, () => 1),
    1000,
  );
  assert.equal(
    retryDelay(policy, 3, () => 1),
    4000,
  );
  assert.equal(
    retryDelay(policy, 10, () => 1),
    10_000,
  );
  assert.equal(
    retryDelay(policy, 1, () => 0, 30_000),
    30_000,
  );
  assert.equal(
    retryDelay(policy, 3, () => 1, 100),
    4000,
  );
  assert.equal(resolveRetryPolicy(undefined).maxAttempts, 10);
});

test("a server's delay is never shortened, and runs held back by it come back spread over a quarter of it (1 s to 30 s)", () => {
  const policy = resolveRetryPolicy(undefined);
  const draws = [0, 0.25, 0.5, 0.999, 1];
  const after = (serverMs: number): number[] => draws.map((draw) => retryDelay(policy, 1, () => draw, serverMs));
  // 30 runs told to wait 20 s: back over the 5 s after it, not in the second it named.
  assert.deepEqual(after(20_000), [20_000, 21_250, 22_500, 24_995, 25_000]);
  // At least 1 s of spread after a short wait, at most 30 s after a long one.
  assert.deepEqual(after(2000), [2000, 2250, 2500, 2999, 3000]);
  assert.deepEqual(after(600_000), [600_000, 607_500, 615_000, 629_970, 630_000]);
  for (const serverMs of [0, 999, 20_000, 3_600_000]) {
    for (let i = 0; i <= 100; i++) assert.ok(retryDelay(policy, 1, () => i / 100, serverMs) >= serverMs, `${serverMs} ms, draw ${i / 100}`);
  }
});
