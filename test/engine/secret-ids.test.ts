/**
 * A secret's value in what names things rather than in data: a child run's id (shown by the API and the web UI, so
 * refused) and a wait's event type (kept, and replayed as history recorded it, redacted); and in a run's input, which
 * the run reads as given and the API shows redacted.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const TOKEN = 'S3cr3tTokenValue-ABCDEFGH';

const folder = workflowFolder({
  'names-child.ts': `import { executeChild, secrets, workflow } from 'autoflow';
export default workflow({
  name: 'names-child',
  permissions: { secrets: ['TOKEN'] },
  async run() {
    const token = await secrets.get('TOKEN');
    try {
      await executeChild('child', {}, { id: 'child-' + token });
      return 'started';
    } catch (error) {
      return { name: (error as Error).name, message: (error as Error).message };
    }
  },
});`,
  'child.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'child', async run() { return 'ran'; } });`,
  'reads-input.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'reads-input', async run(input: { token: string }) { return input.token.length; } });`,
  'secret-signal.ts': `import { secrets, signal, workflow } from 'autoflow';
export default workflow({
  name: 'secret-signal',
  permissions: { secrets: ['TOKEN'] },
  async run() {
    const token = await secrets.get('TOKEN');
    return signal('sig' + token, { timeout: '1h' });
  },
});`,
});
after(() => folder.remove());

test('a child run whose id holds a secret is not started, and the parent is told why without the value', async () => {
  const env = await createTestEnv({ workflows: ['names-child.ts', 'child.ts'].map((name) => folder.path(name)), secrets: { TOKEN } });
  try {
    const run = await env.result(await env.start('names-child'));
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    const { name, message } = run.result as { name: string; message: string };
    assert.equal(name, 'ValidationError');
    assert.match(message, /cannot start a child run of workflow 'child': its id holds the value of a secret/);
    assert.ok(!message.includes(TOKEN));
    const { runs } = await env.operations.listRuns({});
    assert.deepEqual(
      runs.map((listed) => listed.workflow),
      ['names-child'],
      'no child run, so no id with the value to list',
    );
  } finally {
    await env.close();
  }
});

test('a wait whose event type holds a secret replays as history recorded it, redacted, and gets its signal', async () => {
  // No cached sandbox: the signal makes the engine replay the run, comparing its commands with history.
  const env = await createTestEnv({ workflows: [folder.path('secret-signal.ts')], secrets: { TOKEN }, sandbox: { cacheSize: 0 } });
  try {
    const id = await env.start('secret-signal');
    await env.signal(id, `sig${TOKEN}`, 'hello');
    const run = await env.result(id);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    assert.equal(run.result, 'hello');
    assert.ok(!JSON.stringify(await env.history(id)).includes(TOKEN), 'history holds the reference, not the value');
  } finally {
    await env.close();
  }
});

test("a run's input holding a secret's value is shown with a reference by the API, and the run reads the reference, as its replay will", async () => {
  const env = await createTestEnv({ workflows: [folder.path('reads-input.ts')], secrets: { TOKEN } });
  try {
    const id = await env.start('reads-input', { token: TOKEN });
    const run = await env.result(id);
    assert.equal(run.result, '{{secret:TOKEN}}'.length);
    const shown = await env.operations.getRun(id);
    assert.deepEqual(shown.input, { token: '{{secret:TOKEN}}' });
    const { runs } = await env.operations.listRuns({});
    assert.ok(!JSON.stringify(runs).includes(TOKEN));
  } finally {
    await env.close();
  }
});
