/**
 * A person's answer holding text no store keeps (U+0000, a lone surrogate, as a form post can carry) is refused naming
 * the field, on every store; PostgreSQL refused the whole answer with a database message, SQLite took it.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ValidationError } from '../core/errors.js';
import { createTestEnv } from '../testing/test-env.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';

const folder = workflowFolder({
  'ask.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({
  name: 'ask',
  async run() {
    const form = await tasks.form({
      title: 'Summary',
      assignees: ['alice'],
      fields: [{ name: 'summary', label: 'Summary', type: 'text' }, { name: 'areas', label: 'Areas', type: 'multichoice', options: ['api', 'ui'] }],
    });
    const approval = await tasks.approval({ title: 'Ship?', approvers: ['bob'] });
    return { form: form.values, approval: approval.status };
  },
});`,
});
after(() => folder.remove());

test('a form answer or an approval comment with U+0000 is refused naming the field, and the task stays open for a good one', async () => {
  const env = await createTestEnv({ workflows: [folder.path('ask.ts')] });
  try {
    const id = await env.start('ask');
    await env.settle();
    const [form] = await env.tasks({ status: 'open' });
    await assert.rejects(
      env.operations.submitTask(form!.id, { by: 'alice', values: { summary: 'x\u0000y', areas: ['api'] } }),
      (error: unknown) => error instanceof ValidationError && /^contains a NUL character \(U\+0000\)/.test(error.fields?.summary ?? ''),
    );
    await env.operations.submitTask(form!.id, { by: 'alice', values: { summary: 'fine', areas: ['api'] } });
    await env.settle();
    const [approval] = await env.tasks({ status: 'open' });
    await assert.rejects(
      env.operations.decideTask(approval!.id, { by: 'bob', decision: 'approve', comment: 'ok\ud800' }),
      /comment contains a lone surrogate/,
    );
    await env.operations.decideTask(approval!.id, { by: 'bob', decision: 'approve', comment: 'ok' });
    const run = await env.result(id);
    assert.deepEqual(run.result, { form: { summary: 'fine', areas: ['api'] }, approval: 'approved' });
  } finally {
    await env.close();
  }
});
