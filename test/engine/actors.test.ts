import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTestEnv } from '../../src/testing/index.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/** Who did it: a person's cancel and signal (the web UI's) are recorded with their name, for the run's history. */
const folder = workflowFolder({
  'waits.ts': `import { signal, workflow } from 'autoflow';
export default workflow({ name: 'waits', async run() { return signal('go', { timeout: '1d' }); } });`,
});
after(() => folder.remove());

test("a person's cancel and signal carry their name into the history", async () => {
  const env = await createTestEnv({ workflows: [folder.path('waits.ts')] });
  try {
    const signalled = await env.start('waits');
    await env.operations.signalRun(signalled, 'go', { ok: true }, { by: 'alice' });
    assert.equal((await env.result(signalled)).status, 'completed');
    const satisfied = (await env.history(signalled)).find((event) => event.type === 'wait_satisfied');
    assert.equal(satisfied?.type === 'wait_satisfied' ? satisfied.event.source : undefined, 'autoflow:user/alice');

    const cancelled = await env.start('waits');
    await env.operations.cancelRun(cancelled, 'the change was withdrawn', 'bob');
    assert.equal((await env.result(cancelled)).status, 'cancelled');
    const requested = (await env.history(cancelled)).find((event) => event.type === 'cancel_requested');
    assert.deepEqual(requested?.type === 'cancel_requested' && [requested.reason, requested.by], ['the change was withdrawn', 'bob']);

    const byApi = await env.start('waits');
    await env.operations.cancelRun(byApi);
    assert.equal((await env.result(byApi)).status, 'cancelled');
    const anonymous = (await env.history(byApi)).find((event) => event.type === 'cancel_requested');
    assert.ok(anonymous && !('by' in anonymous) && !('reason' in anonymous), 'nothing invented when nobody is named');
  } finally {
    await env.close();
  }
});
