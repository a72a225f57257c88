import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestEnv, type TestEnv } from 'autoflow/testing';

// One engine for this file: in memory, on a virtual clock. `autoflow test` runs this file.
let env: TestEnv;
before(async () => {
  env = await createTestEnv({ workflows: [new URL('./hello.ts', import.meta.url)] });
});
// `?.`: when createTestEnv fails, env is unset, and the report shows that failure instead of a TypeError here.
after(() => env?.close());

test('hello returns the reply it was sent', async () => {
  const id = await env.start('hello', { name: 'Ada' });
  await env.signal(id, 'reply', 'Hi!');
  const run = await env.result(id);
  assert.equal(run.status, 'completed');
  assert.deepEqual(run.result, { greeting: 'Hello, Ada!', reply: 'Hi!' });
  assert.deepEqual(await env.logs(id), ['hello, Ada']);
});

test('without a reply, hello gives up after exactly one day — and the test does not wait for it', async () => {
  const id = await env.start('hello', {});
  const run = await env.result(id);
  assert.deepEqual(run.result, { greeting: 'Hello, world!', reply: 'no reply within a day' });
  assert.equal(run.updatedAt - run.createdAt, 24 * 60 * 60 * 1000);
});
