import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { HistoryEvent } from '../../src/core/model.js';
import { createTestEnv, type TestEnv } from '../../src/testing/test-env.js';
import { replay } from '../../src/testing/replay.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/**
 * A `signal()` or `waitFor()` that lost a `race` takes nothing: the wait it left parked must not swallow
 * what the next `signal()` / `waitFor()` of the run needs (wait-channels.ts).
 */
const folder = workflowFolder({
  // The auditor's loop, verbatim but for the name.
  'loop.ts': `import { race, signal, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'loop',
  async run() {
    const got: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await race({ sig: signal('x'), tick: sleep('5s') });
      if (r.key === 'sig') got.push(r.value); else await sleep('10s');
    }
    return got;
  },
});`,
  // Two signal() calls pending together take two signals, in call order.
  'fifo.ts': `import { signal, workflow } from 'autoflow';
export default workflow({
  name: 'fifo',
  async run() {
    return await Promise.all([signal('x'), signal('x'), signal('x')]);
  },
});`,
  'events.ts': `import { race, sleep, waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'events',
  async run() {
    const first = await race({ merged: waitFor('com.example.merged', { match: { subject: 'mr-1' } }), tick: sleep('5s') });
    await sleep('10s');
    const other = await waitFor('com.example.merged', { match: { subject: 'mr-2' }, timeout: '1m' });
    const merged = await waitFor('com.example.merged', { match: { subject: 'mr-1' }, timeout: '1m' });
    return [first.key, other, merged && merged.data];
  },
});`,
  // A reminder loop: one signal() promise, raced again and again; the signal comes while a reminder is being sent.
  'reminders.ts': `import { log, race, signal, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'reminders',
  async run() {
    const approval = signal('approve');
    for (let reminders = 0; ; reminders++) {
      const r = await race({ approval, tick: sleep('1h') });
      if (r.key === 'approval') return { approvedBy: r.value, reminders };
      log.info('reminding');
      await sleep('10m');
    }
  },
});`,
  // A signal() that lost a race, awaited on its own afterwards.
  'awaits-loser.ts': `import { race, signal, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'awaits-loser',
  async run() {
    const approval = signal('approve');
    const first = await race({ approval, tick: sleep('5s') });
    await sleep('10s');
    return [first.key, await approval];
  },
});`,
  'native.ts': `import { signal, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'native',
  async run() {
    await Promise.race([signal('x'), sleep('5s')]);
    await sleep('10s');
    return await signal('x', { timeout: '1m' });
  },
});`,
});
after(() => folder.remove());

async function withEnv(
  files: string[],
  body: (env: TestEnv) => Promise<void>,
  activities?: Record<string, (args: unknown) => Promise<unknown>>,
): Promise<void> {
  const env = await createTestEnv({ workflows: files.map((file) => folder.path(file)), ...(activities && { activities }) });
  try {
    await body(env);
  } finally {
    await env.close();
  }
}

async function replaysTo(history: HistoryEvent[], file: string): Promise<void> {
  const report = await replay({ history, workflow: folder.path(file) });
  assert.ok(report.ok, JSON.stringify(report));
}

describe('a signal that reaches the wait of a race branch that lost', () => {
  test("goes to the loop's next signal(): the auditor's loop gets ['A'], and its history replays", async () => {
    await withEnv(['loop.ts'], async (env) => {
      const id = await env.start('loop');
      await env.advance('8s');
      await env.signal(id, 'x', 'A');
      await env.advance('1m');
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.deepEqual(run.result, ['A']);
      const history = await env.history(id);
      // The signal reached the wait of round 1 (step 1), which lost its race: it was kept, and round 2's signal() took it at once.
      assert.ok(history.some((event) => event.type === 'wait_satisfied' && event.step === 1));
      assert.ok(history.some((event) => event.type === 'patch_marker' && event.patchId === 'autoflow.wait-channels'));
      await replaysTo(history, 'loop.ts');
    });
  });

  test('signal() calls pending together take one signal each, in call order', async () => {
    await withEnv(['fifo.ts'], async (env) => {
      const id = await env.start('fifo');
      await env.signal(id, 'x', 1);
      await env.signal(id, 'x', 2);
      await env.advance('1m');
      await env.signal(id, 'x', 3);
      await env.advance('1m');
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.deepEqual(run.result, [1, 2, 3]);
      await replaysTo(await env.history(id), 'fifo.ts');
    });
  });

  test('a native Promise.race does not release its losing signal(): the signal is lost to it (documented)', async () => {
    await withEnv(['native.ts'], async (env) => {
      const id = await env.start('native');
      await env.advance('8s');
      await env.signal(id, 'x', 'A');
      await env.advance('2m');
      const run = await env.result(id);
      assert.equal(run.result, null);
    });
  });
});

describe('a signal() promise that lost a race and is used again', () => {
  test('raced again in a reminder loop, it takes the signal sent while a reminder went out', async () => {
    await withEnv(['reminders.ts'], async (env) => {
      const id = await env.start('reminders');
      // 1 h: the timer wins and the promise is set aside while the reminder goes out (10 min); the signal comes then.
      await env.advance('65m');
      await env.signal(id, 'approve', 'alice');
      await env.advance('3h');
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.deepEqual(run.result, { approvedBy: 'alice', reminders: 1 });
      await replaysTo(await env.history(id), 'reminders.ts');
    });
  });

  test('awaited on its own afterwards, it takes the signal sent after it lost', async () => {
    await withEnv(['awaits-loser.ts'], async (env) => {
      const id = await env.start('awaits-loser');
      await env.advance('8s');
      await env.signal(id, 'approve', 'bob');
      await env.advance('1m');
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.deepEqual(run.result, ['tick', 'bob']);
      await replaysTo(await env.history(id), 'awaits-loser.ts');
    });
  });
});

describe('an event that reaches the wait of a waitFor() that lost a race', () => {
  test('goes to the next waitFor() of its type whose match it satisfies, not to one it does not match', async () => {
    await withEnv(['events.ts'], async (env) => {
      const id = await env.start('events');
      await env.advance('8s');
      await env.emit({ type: 'com.example.merged', subject: 'mr-1', data: { iid: 1 } });
      await env.advance('5m');
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.deepEqual(run.result, ['tick', null, { iid: 1 }]);
      await replaysTo(await env.history(id), 'events.ts');
    });
  });
});
