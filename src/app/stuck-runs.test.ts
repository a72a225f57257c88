/**
 * A run whose replay diverges from its history is parked `stuck`: when that happened is its `updatedAt`, and ending it
 * (cancel, terminate) keeps the divergence as the cause, with the person's reason, instead of replacing it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { ConflictError } from '../core/errors.js';
import { createTestEnv } from '../testing/test-env.js';

const folder = workflowFolder({
  'gate.ts': `import { signal, workflow } from 'autoflow';
export default workflow({ name: 'gate', async run() { return signal('go', { timeout: '7d' }); } });`,
});
after(() => folder.remove());

test('a stuck run says when it got stuck, and cancel or terminate keep why it was stuck as the cause', async () => {
  const db = { kind: 'sqlite' as const, path: join(folder.dir, 'stuck.db') };
  const first = await createTestEnv({ workflows: [folder.path('gate.ts')], db });
  const [cancelled, terminated] = [await first.start('gate', null, 'to-cancel'), await first.start('gate', null, 'to-terminate')];
  const startedAt = first.now();
  await first.close();
  // The history says the run waits for another signal than its code does: its replay diverges.
  const file = new Database(db.path);
  file.prepare(`UPDATE history SET body = replace(body, '"autoflow.signal.go"', '"autoflow.signal.other"')`).run();
  file.close();

  const env = await createTestEnv({ workflows: [folder.path('gate.ts')], db });
  try {
    await env.advance('1h');
    const stuckAt = env.now();
    for (const id of [cancelled, terminated]) await env.signal(id, 'go', 'now');
    for (const id of [cancelled, terminated]) {
      const run = await env.run(id);
      assert.deepEqual([run.status, run.error?.name], ['stuck', 'NondeterminismError']);
      assert.equal(run.updatedAt, stuckAt, `when it got stuck, not when it last moved (${startedAt})`);
    }

    await env.operations.cancelRun(cancelled, 'the fix is not coming', 'alice');
    const afterCancel = await env.run(cancelled);
    assert.equal(afterCancel.status, 'cancelled');
    assert.equal(afterCancel.error?.message, `run ${cancelled} was cancelled: the fix is not coming`);
    assert.equal(afterCancel.error?.cause?.name, 'NondeterminismError', 'the divergence is kept');
    const requested = (await env.history(cancelled)).find((event) => event.type === 'cancel_requested');
    assert.deepEqual(requested?.type === 'cancel_requested' && [requested.reason, requested.by], ['the fix is not coming', 'alice']);

    await env.operations.terminateRun(terminated, 'code bug');
    const afterTerminate = await env.run(terminated);
    assert.equal(afterTerminate.status, 'cancelled');
    assert.match(afterTerminate.error?.message ?? '', /terminated through the API: code bug$/);
    assert.equal(afterTerminate.error?.cause?.name, 'NondeterminismError', 'the divergence is kept');
  } finally {
    await env.close();
  }
});

/** A workflow that waits for the signal `name` and returns what it carried. */
const latch = (name: string): string => `import { signal, workflow } from 'autoflow';
export default workflow({ name: 'latch', async run() { return signal('${name}', { timeout: '7d' }); } });`;

test('a stuck run goes on from where it stopped once code that replays its history is deployed, with what reached it meanwhile', async () => {
  const db = { kind: 'sqlite' as const, path: join(folder.dir, 'retry-stuck.db') };
  const file = folder.write('latch.ts', latch('go'));
  const first = await createTestEnv({ workflows: [file], db });
  const id = await first.start('latch', null, 'fixable');
  const stuckVersion = (await first.run(id)).version;
  await first.close();
  const sqlite = new Database(db.path);
  sqlite.prepare(`UPDATE history SET body = replace(body, '"autoflow.signal.go"', '"autoflow.signal.other"')`).run();
  sqlite.close();

  const env = await createTestEnv({ workflows: [file], db });
  let stuck;
  let historyBefore;
  try {
    await env.signal(id, 'go', 'now');
    stuck = await env.run(id);
    assert.deepEqual([stuck.status, stuck.error?.name], ['stuck', 'NondeterminismError']);
    historyBefore = await env.history(id);
    // Its own code still diverges: refused, with the divergence and what to do, and the run stays as it was.
    await assert.rejects(env.operations.retryRun(id), (error: unknown) => {
      assert.ok(error instanceof ConflictError);
      assert.match(
        error.message,
        /^run fixable still does not replay on its version [0-9a-f]{12} \(deploy code that replays its history and retry it on the latest version\): Nondeterminism/,
      );
      assert.equal((error.details as { stack?: string }).stack, undefined, "the server's frames stay on the server");
      return true;
    });
    assert.deepEqual(await env.run(id), stuck);
    assert.deepEqual(await env.operations.listRetries(id), []);
    // A signal sent while it is stuck is taken, for when it goes on.
    assert.deepEqual(await env.operations.signalRun(id, 'later', 'meanwhile'), { runId: id, duplicate: false });
  } finally {
    await env.close();
  }

  // The fix: code whose wait is the one the history recorded, and that then waits for another signal.
  folder.write(
    'latch.ts',
    `import { signal, workflow } from 'autoflow';
export default workflow({ name: 'latch', async run() { return [await signal('other', { timeout: '7d' }), await signal('later')]; } });`,
  );
  const fixed = await createTestEnv({ workflows: [file], db });
  try {
    const preview = await fixed.operations.retryRun(id, { latest: true, dryRun: true });
    assert.equal(preview.status, 'running');
    assert.notEqual(preview.version, stuckVersion);
    assert.deepEqual(await fixed.run(id), stuck, 'a dry run retries nothing');

    const retried = await fixed.operations.retryRun(id, { latest: true, by: 'alice' });
    assert.deepEqual([retried.status, retried.version, retried.warnings], ['running', preview.version, undefined]);
    await fixed.settle();
    const done = await fixed.run(id);
    assert.deepEqual(
      [done.status, done.result],
      ['completed', ['now', 'meanwhile']],
      'the signals sent before and while it was stuck reached it',
    );
    const history = await fixed.history(id);
    assert.deepEqual(history.slice(0, historyBefore.length), historyBefore, 'nothing of its history went');
    const [retry, ...more] = await fixed.operations.listRetries(id);
    assert.deepEqual(more, []);
    assert.deepEqual(
      [retry?.by, retry?.version, retry?.keptHistoryLength, retry?.previousError?.name],
      ['alice', preview.version, historyBefore.length, 'NondeterminismError'],
    );
  } finally {
    await fixed.close();
  }
});
