/**
 * A child's failure reaches its parent as an error that names the child (Temporal's ChildWorkflowFailure): the
 * parent that does not catch it fails with that error, not with one that passes for its own, and where it points is
 * the parent's line that awaited the child.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'release.ts': `import { executeChild, startChild, workflow } from 'autoflow';
export default workflow({
  name: 'release',
  async run(input: { version: string; handle?: boolean }) {
    if (!input.handle) return await executeChild('release-notes', { version: input.version });
    const notes = await startChild('release-notes', { version: input.version }, { id: 'notes' });
    return await notes.result();
  },
});`,
  'release-notes.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'release-notes',
  async run(input: { version: string }) {
    if (!/^\\d+$/.test(input.version)) throw new TypeError('invalid version segment ' + input.version);
    return 'notes for ' + input.version;
  },
});`,
});
after(() => folder.remove());

test("a failed child fails its parent with a ChildRunFailedError that names it, at the parent's line, its error the cause", async () => {
  const env = await createTestEnv({ workflows: [folder.path('release.ts'), folder.path('release-notes.ts')] });
  try {
    const parent = await env.result(await env.start('release', { version: 'v1' }, 'rt-1'));
    assert.equal(parent.status, 'failed');
    const { stack, ...error } = parent.error ?? { name: '', message: '' };
    assert.deepEqual(error, {
      name: 'ChildRunFailedError',
      message: 'child run rt-1.1 (workflow release-notes) failed: TypeError: invalid version segment v1',
      details: { code: 'child_run_failed', childId: 'rt-1.1', workflow: 'release-notes' },
      cause: { name: 'TypeError', message: 'invalid version segment v1' },
    });
    assert.equal(stack?.split('\n')[1], '    at run (release.ts:5:37)', 'the executeChild call');
    // What the parent received keeps the child's error whole, its stack too.
    const received = (await env.history('rt-1')).find((event) => event.type === 'child_failed');
    assert.match(String(received?.type === 'child_failed' && received.error.cause?.stack), /at run \(release-notes\.ts:5:\d+\)/);

    const handled = await env.result(await env.start('release', { version: 'v2', handle: true }, 'rt-2'));
    assert.equal(handled.error?.message, 'child run notes (workflow release-notes) failed: TypeError: invalid version segment v2');
    assert.equal(handled.error?.stack?.split('\n')[1], '    at run (release.ts:7:24)', 'the result() call, not the startChild');
  } finally {
    await env.close();
  }
});
