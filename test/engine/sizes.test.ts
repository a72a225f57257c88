import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTestEnv } from '../../src/testing/index.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/**
 * What one step may record: a value (result, call arguments…) of at most 2 MiB fails the run with a message that
 * says so, instead of filling the database and every API answer; a long log line is cut, not refused, whatever its
 * size, and a task keeps 1 MiB of log lines.
 */
const MIB = 1024 * 1024;
const folder = workflowFolder({
  'big-result.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'big-result', async run() { return 'x'.repeat(${3 * MIB}); } });`,
  'big-call.ts': `import { activities, workflow } from 'autoflow';
export default workflow({ name: 'big-call', permissions: { activities: ['store'] }, async run() { return activities.store('y'.repeat(${3 * MIB})); } });`,
  'loud.ts': `import { log, workflow } from 'autoflow';
export default workflow({ name: 'loud', async run() { log.info('w'.repeat(${3 * MIB})); return 'said it'; } });`,
  'chatty.ts': `import { log, workflow } from 'autoflow';
export default workflow({ name: 'chatty', async run() {
  log.info('z'.repeat(100_000));
  for (let i = 0; i < 900; i++) log.info(String(i).padEnd(4_000, '.'));
  return 'said it all';
} });`,
  'deep.ts': `import { activities, executeChild, workflow } from 'autoflow';
export default workflow({ name: 'deep', permissions: { activities: ['store'] }, async run(input: { levels: number; as: string }) {
  let value: unknown = 'core';
  for (let i = 0; i < input.levels; i++) value = [value];
  if (input.as === 'call') return activities.store(value);
  if (input.as === 'child') return executeChild('deep', { levels: input.levels, as: 'result' });
  return value;
} });`,
});
after(() => folder.remove());

test('a value over 2 MiB fails its run with what it was and what to do; many small ones and long log lines do not', async () => {
  let stored = 0;
  const env = await createTestEnv({
    workflows: ['big-result.ts', 'big-call.ts', 'chatty.ts', 'loud.ts'].map((name) => folder.path(name)),
    activities: {
      store: (args: unknown) => {
        stored += 1;
        return Promise.resolve(String(args).length);
      },
    },
  });
  try {
    const result = await env.result(await env.start('big-result'));
    assert.equal(result.status, 'failed');
    assert.match(String(result.error?.message), /produced a result of 3\.0 MiB; a run records at most 2 MiB per value/);
    assert.match(String(result.error?.message), /pass references/);

    const call = await env.result(await env.start('big-call'));
    assert.equal(call.status, 'failed');
    assert.match(String(call.error?.message), /the arguments of a call of 3\.0 MiB/);
    assert.equal(stored, 0, 'the call was never made');

    const chatty = await env.result(await env.start('chatty'));
    assert.equal(chatty.status, 'completed', 'about 3.6 MB of log lines in one step, none a value over the limit');
    const [first, ...rest] = await env.logs(chatty.id);
    assert.equal(first?.length, 16 * 1024 + ' (83616 more characters cut)'.length + 1);
    assert.match(String(first), /^z+… \(83616 more characters cut\)$/);
    // The task keeps 1 MiB of them: the lines up to it, then a note.
    const kept = rest.slice(0, -1);
    assert.equal(kept.length, Math.floor((MIB - first.length) / 4_000));
    assert.ok(kept.every((line, i) => line === String(i).padEnd(4_000, '.')));
    assert.equal(rest.at(-1), "(more than 1 MiB of log lines in one workflow task; the rest of this task's lines are dropped)");

    // Over the 2 MiB of a value too: cut all the same.
    const loud = await env.result(await env.start('loud'));
    assert.equal(loud.status, 'completed', String(loud.error?.message));
    assert.deepEqual(await env.logs(loud.id), [`${'w'.repeat(16 * 1024)}… (${3 * MIB - 16 * 1024} more characters cut)`]);
  } finally {
    await env.close();
  }
});

test('a value nested deeper than 128 levels fails its run at once, with what it was; one of 128 is recorded whole', async () => {
  let stored = 0;
  const env = await createTestEnv({
    workflows: [folder.path('deep.ts')],
    activities: {
      store: () => {
        stored += 1;
        return Promise.resolve('stored');
      },
    },
  });
  try {
    // 5,000 levels overflowed the server's own JSON.stringify when the task was committed: the run was retried for ever.
    for (const [as, what] of [
      ['result', 'a result'],
      ['call', 'the arguments of a call'],
      ['child', 'a result'],
    ] as const) {
      const run = await env.result(await env.start('deep', { levels: 5_000, as }));
      assert.equal(run.status, 'failed', as);
      const message = as === 'child' ? String(run.error?.cause?.message) : String(run.error?.message);
      assert.match(message, new RegExp(`produced ${what} that nests arrays and objects more than 128 levels deep`), as);
    }
    assert.equal(stored, 0, 'the call was never made');

    const deepest = await env.result(await env.start('deep', { levels: 128, as: 'result' }));
    assert.equal(deepest.status, 'completed');
    let levels = 0;
    for (let value: unknown = deepest.result; Array.isArray(value); value = value[0] as unknown) levels++;
    assert.equal(levels, 128, 'recorded whole');
    assert.equal((await env.result(await env.start('deep', { levels: 129, as: 'result' }))).status, 'failed', 'one level more');
  } finally {
    await env.close();
  }
});
