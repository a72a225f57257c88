/**
 * A call that fails fails the run at the author's line that made it: the SDK makes the error the workflow receives,
 * so its own stack would hold the SDK's frames alone, and `autoflow show` would print the error with no line at all.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { demoSeed } from '../../src/testing/gitlab-sim/index.js';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'lookup.ts': `import { gitlab, workflow } from 'autoflow';
export default workflow({
  name: 'lookup',
  permissions: { gitlab: { projects: ['demo/*'] } },
  async run(input: { iid: number }) {
    const issue = await gitlab.issues.get('demo/app', input.iid);
    return issue.title;
  },
});`,
});
after(() => folder.remove());

test("a failed call fails the run at the author's line that made it", async () => {
  const env = await createTestEnv({ workflows: [folder.path('lookup.ts')], gitlab: demoSeed() });
  try {
    const failed = await env.result(await env.start('lookup', { iid: 999 }, 'l-1'));
    assert.equal(failed.status, 'failed');
    assert.match(failed.error?.message ?? '', /404/);
    assert.equal(failed.error?.stack?.split('\n')[1], '    at run (lookup.ts:6:39)', 'the gitlab.issues.get call');
  } finally {
    await env.close();
  }
});
