import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestEnv } from 'autoflow/testing';

const workflows = ['hello.ts', 'wait-for-approval.ts'].map((file) => new URL(file, import.meta.url).pathname);

describe('hello', () => {
  test('greets by name after a durable one-second sleep, and refuses input its schema rejects', async () => {
    const env = await createTestEnv({ workflows });
    try {
      const id = await env.start('hello', { name: 'Ada' });
      assert.equal((await env.run(id)).status, 'running', 'asleep until virtual time moves');
      const run = await env.result(id);
      assert.deepEqual(run.result, { greeting: 'Hello, Ada!' });
      assert.equal(run.updatedAt - run.createdAt, 1000);
      assert.deepEqual(await env.logs(id), ['hello, Ada']);
      await assert.rejects(env.start('hello', { name: '' }), /input of workflow 'hello' is invalid/);
      const world = await env.result(await env.start('hello'));
      assert.deepEqual(world.result, { greeting: 'Hello, world!' }, 'no input at all, as `autoflow run hello` sends');
    } finally {
      await env.close();
    }
  });
});

describe('wait-for-approval', () => {
  test('an approval before the reminder ends the run at once', async () => {
    const env = await createTestEnv({ workflows });
    try {
      const id = await env.start('wait-for-approval', { change: 'DNS cut-over' });
      await env.advance('20m');
      await env.signal(id, 'approve', { by: 'alice' });
      assert.deepEqual((await env.run(id)).result, { approved: true, change: 'DNS cut-over', by: { by: 'alice' } });
      assert.deepEqual(await env.logs(id), []);
    } finally {
      await env.close();
    }
  });

  test('silence brings one reminder after an hour, and a refusal-by-timeout after a day', async () => {
    const env = await createTestEnv({ workflows });
    try {
      const id = await env.start('wait-for-approval', { change: 'DNS cut-over' });
      await env.advance('1h');
      assert.deepEqual(await env.logs(id), ['no answer yet for DNS cut-over: reminding']);
      const run = await env.result(id);
      assert.deepEqual(run.result, { approved: false, change: 'DNS cut-over', reason: 'no answer within a day' });
      assert.equal(run.updatedAt - run.createdAt, 24 * 3_600_000);
    } finally {
      await env.close();
    }
  });

  test('an approval after the reminder still counts', async () => {
    const env = await createTestEnv({ workflows });
    try {
      const id = await env.start('wait-for-approval', {});
      await env.advance('5h');
      await env.signal(id, 'approve', 'bob');
      assert.deepEqual((await env.run(id)).result, { approved: true, change: 'the change', by: 'bob' });
    } finally {
      await env.close();
    }
  });

  test('a bare `autoflow signal <run> approve`, with no data, approves too: only silence is a timeout', async () => {
    const env = await createTestEnv({ workflows });
    try {
      const id = await env.start('wait-for-approval', {});
      await env.advance('5h');
      await env.signal(id, 'approve');
      assert.deepEqual((await env.run(id)).result, { approved: true, change: 'the change', by: true });
    } finally {
      await env.close();
    }
  });
});
