import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkWorkflowDirectory } from '../src/app/deploy.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-event-type-warnings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('autoflow check (and deploy, through the same build) warns of a trigger on a GitLab type GitLab never sends', async () => {
  writeFileSync(
    join(dir, 'opened.ts'),
    `import { workflow } from 'autoflow';
export default workflow({
  name: 'opened',
  triggers: [{ event: 'com.gitlab.events.issue_opened' }, { event: 'com.gitlab.events.merge_request_*' }],
  async run() {},
});`,
  );
  const [result] = await checkWorkflowDirectory(dir);
  assert.equal(result?.error, undefined);
  assert.deepEqual(result?.warnings, [
    'triggers[0].event: GitLab sends no event of type com.gitlab.events.issue_opened, so the trigger never fires; ' +
      'did you mean com.gitlab.events.issue_created? (docs/gitlab-events.md lists the types)',
  ]);
});
