/**
 * A run whose replay diverges from its history is parked `stuck`: when that happened is its `updatedAt`, and ending it
 * (cancel, terminate) keeps the divergence as the cause, with the person's reason, instead of replacing it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
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
