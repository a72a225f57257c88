/**
 * `sendSignal`: a run signals another as `autoflow signal` does, when its workflow may (`permissions.signals`), and
 * hears why when it cannot.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createTestEnv } from '../testing/test-env.js';

const folder = workflowFolder({
  'gate.ts': `import { signal, workflow } from 'autoflow';
export default workflow({ name: 'gate', async run() { return signal('decide', { timeout: '7d' }); } });`,
  'approver.ts': `import { sendSignal, workflow } from 'autoflow';
export default workflow({
  name: 'approver',
  permissions: { signals: ['gate'] },
  async run(input: { target: string }) {
    try {
      return await sendSignal(input.target, 'decide', { approved: true });
    } catch (error) {
      const { name, message, details } = error as { name: string; message: string; details?: { code?: string } };
      return { name, message, code: details?.code };
    }
  },
});`,
  'intruder.ts': `import { sendSignal, workflow } from 'autoflow';
export default workflow({ name: 'intruder', async run(input: { target: string }) { return sendSignal(input.target, 'decide', 'forged'); } });`,
});
after(() => folder.remove());

test('a run signals a run of a workflow its permissions name; the signal says which workflow sent it', async () => {
  const env = await createTestEnv({ workflows: ['gate.ts', 'approver.ts', 'intruder.ts'].map((file) => folder.path(file)) });
  try {
    const gate = await env.start('gate', null, 'gate-1');
    const approver = await env.start('approver', { target: gate });
    assert.deepEqual((await env.run(approver)).result, { runId: gate });
    const done = await env.run(gate);
    assert.deepEqual([done.status, done.result], ['completed', { approved: true }]);
    const received = (await env.history(gate)).find((event) => event.type === 'wait_satisfied');
    assert.equal(received?.type === 'wait_satisfied' && received.event.source, 'autoflow:workflow/approver');

    const guarded = await env.start('gate', null, 'gate-2');
    const intruder = await env.start('intruder', { target: guarded });
    const refused = await env.run(intruder);
    assert.equal(refused.status, 'failed');
    assert.equal(refused.error?.name, 'PermissionDeniedError');
    assert.match(
      refused.error?.message ?? '',
      /workflow 'intruder' may not signal runs of workflow 'gate': add 'gate' to permissions\.signals/,
    );
    assert.equal((await env.run(guarded)).status, 'running', 'the guarded run received nothing');
  } finally {
    await env.close();
  }
});

test('a signal to a run that does not exist or has ended fails the call at once, with a code the workflow can handle', async () => {
  const env = await createTestEnv({ workflows: ['gate.ts', 'approver.ts'].map((file) => folder.path(file)) });
  try {
    const missing = await env.start('approver', { target: 'no-such-run' });
    assert.deepEqual((await env.run(missing)).result, {
      name: 'CapabilityError',
      message: `sendSignal("no-such-run", "decide"): run 'no-such-run' does not exist`,
      code: 'run_not_found',
    });
    const gate = await env.start('gate', null, 'gate-ended');
    await env.cancel(gate);
    const late = await env.run(await env.start('approver', { target: gate }));
    assert.equal((late.result as { code?: string }).code, 'run_ended');
    assert.match(
      (late.result as { message: string }).message,
      /run gate-ended is cancelled; only running, queued or stuck runs receive signals/,
    );
    assert.equal((await env.calls(late.id)).length, 1, 'made once: another attempt would be refused the same');
  } finally {
    await env.close();
  }
});
