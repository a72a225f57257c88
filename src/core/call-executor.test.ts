import { createSecretSource } from '../capabilities/secrets.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attemptCall, type CallExecutorOptions } from './call-executor.js';
import { CapabilityError, ValidationError } from './errors.js';
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

test('a call whose arguments the store refuses fails at once: the same arguments would be refused again', async () => {
  // emit on PostgreSQL: the inbox refused the event's text (ValidationError), and the call was retried for minutes.
  const refusing: Capability = {
    name: 'emit',
    invoke: () => Promise.reject(new ValidationError('PostgreSQL refused a value', ['unsupported Unicode escape sequence (22P05)'])),
  };
  const outcome = await attemptCall(callOf('emit', 10), { workflow: 'wf', permissions: {}, now: 0 }, optionsFor(refusing));
  assert.ok(outcome.kind === 'resolved' && !outcome.resolution.ok, `no retry: ${outcome.kind}`);
  assert.equal(outcome.attempts, 1);
  assert.match(outcome.resolution.error.message, /^PostgreSQL refused a value/);
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

describe("a capability's answer that JSON would write as {} though it holds data", () => {
  const answer = async (value: unknown) => {
    const service: Capability = { name: 'svc', invoke: () => Promise.resolve(value as Json) };
    return attemptCall(callOf('svc', 5), { workflow: 'wf', permissions: {}, now: 0 }, optionsFor(service));
  };
  const refusal = async (value: unknown) => {
    const outcome = await answer(value);
    assert.ok(outcome.kind === 'resolved' && !outcome.resolution.ok, `refused for good, not retried: ${JSON.stringify(outcome)}`);
    assert.equal((outcome.resolution.error.details as { code?: unknown } | undefined)?.code, 'result_not_json');
    return outcome.resolution.error.message;
  };
  const accepted = async (value: unknown) => {
    const outcome = await answer(value);
    assert.ok(outcome.kind === 'resolved' && outcome.resolution.ok, `accepted: ${JSON.stringify(outcome)}`);
    return outcome.resolution.value;
  };

  test('fails the call at once, naming where it is, what it is and what to return instead', async () => {
    assert.equal(
      await refusal({ m: new Map([['a', 1]]) }),
      'svc.get answered with data that JSON cannot hold: result.m is a Map, which JSON writes as {} (convert it with Object.fromEntries(map) or [...map])',
    );
    assert.equal(
      await refusal({ items: [{ tags: new Set(['x']) }] }),
      'svc.get answered with data that JSON cannot hold: result.items[0].tags is a Set, which JSON writes as {} (convert it with [...set])',
    );
    assert.equal(
      await refusal(new Map()),
      'svc.get answered with data that JSON cannot hold: result is a Map, which JSON writes as {} (convert it with Object.fromEntries(map) or [...map])',
    );
    assert.equal(
      await refusal({ ticket: Promise.resolve(1) }),
      'svc.get answered with data that JSON cannot hold: result.ticket is a Promise, which JSON writes as {} (did you forget `await`?)',
    );
    assert.equal(
      await refusal({ failure: new TypeError('boom') }),
      'svc.get answered with data that JSON cannot hold: result.failure is an Error, which JSON writes as {} (return its message, or throw it)',
    );
    assert.equal(
      await refusal({ pattern: /x+/ }),
      'svc.get answered with data that JSON cannot hold: result.pattern is a RegExp, which JSON writes as {} (return its pattern as text: regexp.source)',
    );
    assert.equal(
      await refusal({ bytes: new ArrayBuffer(4) }),
      'svc.get answered with data that JSON cannot hold: result.bytes is an ArrayBuffer, which JSON writes as {} (return its bytes as base64 text, or as an array of numbers)',
    );
  });

  test('plain data passes as JSON writes it: null-prototype objects, Dates, Buffers, empty objects and classes of data', async () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    // As the Kubernetes client gives `emptyDir: {}`: an instance of a model class with no property set.
    class EmptyDirVolumeSource {}
    class Ticket {
      constructor(readonly id: number) {}
    }
    assert.deepEqual(
      await accepted({
        bare,
        at: new Date(Date.UTC(2026, 0, 5)),
        bytes: Buffer.from('hi'),
        empty: {},
        emptyDir: new EmptyDirVolumeSource(),
        ticket: new Ticket(7),
        list: [],
        missing: undefined,
      }),
      {
        bare: { a: 1 },
        at: '2026-01-05T00:00:00.000Z',
        bytes: { type: 'Buffer', data: [104, 105] },
        empty: {},
        emptyDir: {},
        ticket: { id: 7 },
        list: [],
      },
    );
  });
});
