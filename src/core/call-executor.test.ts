import { createSecretSource } from '../capabilities/secrets.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attemptCall, type CallExecutorOptions } from './call-executor.js';
import { CapabilityError } from './errors.js';
import type { CallRecord, Json } from './model.js';
import type { Capability, Clock } from './ports.js';

/** A clock that reads `time.now` and schedules nothing: the executor only reads it. */
function clockAt(time: { now: number }): Clock {
  return { now: () => time.now, schedule: () => () => {} };
}

function optionsFor(capability: Capability, time = { now: 0 }): CallExecutorOptions {
  return {
    capabilities: new Map([[capability.name, capability]]),
    secrets: createSecretSource({}),
    random: () => 0,
    clock: clockAt(time),
  };
}

function callOf(capability: string, maxAttempts: number, attempts = 0): CallRecord {
  return {
    runId: 'r',
    step: 1,
    capability,
    method: 'get',
    args: null,
    options: { retry: { maxAttempts, initialInterval: 1000 } },
    attempts,
    nextAt: 0,
  };
}

test('a retryable failure that used up its attempts says how many, in the right number', async () => {
  const failing: Capability = {
    name: 'flaky',
    invoke: () => Promise.reject(new CapabilityError('down', 'it is down', { retryable: true })),
  };
  const message = async (maxAttempts: number) => {
    const outcome = await attemptCall(
      callOf('flaky', maxAttempts, maxAttempts - 1),
      { workflow: 'wf', permissions: {}, now: 0 },
      optionsFor(failing),
    );
    assert.ok(outcome.kind === 'resolved' && !outcome.resolution.ok);
    return outcome.resolution.error.message;
  };
  assert.equal(await message(1), 'it is down (gave up after 1 attempt)');
  assert.equal(await message(3), 'it is down (gave up after 3 attempts)');
});

test('the backoff before the next attempt counts from when the attempt failed, not from when it started', async () => {
  const time = { now: 10_000 };
  // The attempt takes 5 s, far longer than the 1 s backoff (0.5 s with this jitter) that follows it.
  const slowFailure: Capability = {
    name: 'slow',
    invoke: () => {
      time.now += 5000;
      return Promise.reject(new CapabilityError('timeout', 'no answer in 5 s', { retryable: true }));
    },
  };
  const outcome = await attemptCall(callOf('slow', 3), { workflow: 'wf', permissions: {}, now: 10_000 }, optionsFor(slowFailure, time));
  assert.equal(outcome.kind, 'retry');
  assert.equal(outcome.kind === 'retry' && outcome.nextAt, 15_500);
});

test('an answer nested deeper than a run may receive fails the call at once, whatever its depth', async () => {
  let deep: Json = 'bottom';
  for (let level = 0; level < 1_000_000; level++) deep = [deep];
  const service: Capability = { name: 'deep', invoke: () => Promise.resolve(deep) };
  const outcome = await attemptCall(callOf('deep', 5), { workflow: 'wf', permissions: {}, now: 0 }, optionsFor(service));
  assert.ok(outcome.kind === 'resolved' && !outcome.resolution.ok, 'no retry');
  assert.equal(outcome.resolution.error.details && (outcome.resolution.error.details as { code?: unknown }).code, 'response_too_deep');
  assert.match(outcome.resolution.error.message, /^deep\.get answered with data nested more than 128 levels deep/);
});
