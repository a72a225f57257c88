import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatLogArgs } from './log.js';
import { collect, runtime } from '../../test/helpers/sdk-runtime.js';
import { sleep, workflow } from './index.js';

test('durable operations outside run() fail with a message that says where they belong', () => {
  assert.throws(() => sleep(1000), /^Error: sleep\(\) can only be used while the workflow runs \(inside run\(\)\)/);
});

test('a resolution of the wrong kind for a step is a protocol error, not a silent mix-up', () => {
  runtime().registerModule({ default: workflow({ name: 'w', run: () => sleep(10) }) });
  runtime().activate({ time: 0, start: { input: null }, resolutions: [], replaying: false });
  assert.equal(collect()[0]?.kind, 'timer');
  assert.throws(
    () => runtime().activate({ time: 1, resolutions: [{ kind: 'call', step: 1, ok: true, value: 1 }], replaying: false }),
    /protocol error: step 1 is a timer, but a call resolution was delivered/,
  );
});

test('the manifest explains what is wrong with the module', () => {
  assert.deepEqual(runtime().manifest(), { ok: false, problem: 'the workflow module was not registered' });
  runtime().registerModule({ default: { name: 'x', run() {} } });
  assert.deepEqual(runtime().manifest(), { ok: false, problem: "the default export was not created by workflow() from 'autoflow'" });
  runtime().registerModule({ default: workflow({ name: 'x', input: [] as never, run() {} }) });
  const reply = runtime().manifest();
  assert.ok(!reply.ok && /'input' must be a JSON Schema object or a validator/.test(reply.problem));
});

test('workflow() refuses a declaration without a run function at once', () => {
  assert.throws(() => workflow({ name: 'x' } as never), /workflow\(\{ name: "x" \}\): 'run' must be a function/);
});

test('log arguments are formatted like a small util.format', () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.equal(
    formatLogArgs(['text', 42, { a: [1] }, null, undefined, new RangeError('bad'), 10n, circular]),
    'text 42 {"a":[1]} null undefined RangeError: bad 10 [object Object]',
  );
});
