/**
 * A JSON Schema `input` holds for every run of the workflow: the API checks the runs it starts, the engine checks
 * child runs and continue-as-new successors, which no API call starts.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const SCHEMA = `{ type: 'object', required: ['n'], properties: { n: { type: 'number' } }, additionalProperties: false }`;

const folder = workflowFolder({
  'counted.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'counted', input: ${SCHEMA}, async run(input: { n: number }) { return input.n * 2; } });`,
  'parent.ts': `import { executeChild, workflow } from 'autoflow';
export default workflow({
  name: 'parent',
  async run(input: unknown) {
    try {
      return { ok: await executeChild('counted', input) };
    } catch (error) {
      return { name: (error as Error).name, message: (error as Error).message };
    }
  },
});`,
  'rounds.ts': `import { continueAsNew, workflow } from 'autoflow';
export default workflow({
  name: 'rounds',
  input: ${SCHEMA},
  async run(input: { n: number }) {
    if (input.n === 0) continueAsNew({ n: 1 });
    if (input.n === 1) continueAsNew({ wrong: 'shape' });
    return 'unreachable';
  },
});`,
});
after(() => folder.remove());

test('a child run whose input its JSON Schema refuses is not started; the parent is told what is wrong', async () => {
  const env = await createTestEnv({ workflows: ['counted.ts', 'parent.ts'].map((name) => folder.path(name)) });
  try {
    const good = await env.result(await env.start('parent', { n: 21 }));
    assert.deepEqual(good.result, { ok: 42 });
    const bad = await env.result(await env.start('parent', { nope: 1 }));
    assert.equal(bad.status, 'completed', JSON.stringify(bad.error));
    const { name, message } = bad.result as { name: string; message: string };
    assert.equal(name, 'ValidationError');
    assert.match(
      message,
      /cannot start a child run of workflow 'counted': input of workflow 'counted' is invalid: .*must have required property 'n'/,
    );
    const { runs } = await env.operations.listRuns({ workflow: 'counted' });
    assert.equal(runs.length, 1, 'only the good child ran');
  } finally {
    await env.close();
  }
});

test('a continue-as-new whose input the JSON Schema refuses fails the run, saying what is wrong, and starts no successor', async () => {
  const env = await createTestEnv({ workflows: [folder.path('rounds.ts')] });
  try {
    const first = await env.start('rounds', { n: 0 }, 'rounds');
    const second = await env.result(`${first}~2`);
    assert.equal(second.status, 'failed');
    assert.equal(second.error?.name, 'ValidationError');
    assert.match(
      String(second.error?.message),
      /^continueAsNew\(\): input of workflow 'rounds' is invalid: .*has the property 'wrong', which the schema does not allow; it allows 'n'/,
    );
    const { runs } = await env.operations.listRuns({ workflow: 'rounds' });
    assert.deepEqual(runs.map((run) => run.id).sort(), ['rounds', 'rounds~2']);
  } finally {
    await env.close();
  }
});
