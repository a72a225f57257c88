import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attemptCall } from './call-executor.js';
import { CapabilityError } from './errors.js';
import type { Capability } from './ports.js';

test('a retryable failure that used up its attempts says how many, in the right number', async () => {
  const failing: Capability = {
    name: 'flaky',
    invoke: () => Promise.reject(new CapabilityError('down', 'it is down', { retryable: true })),
  };
  const options = { capabilities: new Map([['flaky', failing]]), secrets: { get: () => undefined, values: () => [] }, random: () => 0 };
  const message = async (maxAttempts: number) => {
    const call = {
      runId: 'r',
      step: 1,
      capability: 'flaky',
      method: 'get',
      args: null,
      options: { retry: { maxAttempts } },
      attempts: maxAttempts - 1,
      nextAt: 0,
    };
    const outcome = await attemptCall(call, { workflow: 'wf', permissions: {}, now: 0 }, options);
    assert.ok(outcome.kind === 'resolved' && outcome.resolution.kind === 'call' && !outcome.resolution.ok);
    return outcome.resolution.error.message;
  };
  assert.equal(await message(1), 'it is down (gave up after 1 attempt)');
  assert.equal(await message(3), 'it is down (gave up after 3 attempts)');
});
