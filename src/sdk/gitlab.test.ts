import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createTestEnv, demoSeed } from '../testing/index.js';

/**
 * The `gitlab` facade inside the sandbox, through the engine and the host capability to the
 * simulator: typed calls, both list shapes, a refusal caught by `gitlabError`, and an issue create
 * whose answer is lost, retried by the engine without a duplicate.
 */
const folder = workflowFolder({
  'triage.ts': `import { gitlab, gitlabError, workflow } from 'autoflow';
export default workflow({
  name: 'triage',
  permissions: { gitlab: { projects: ['demo/*'] } },
  async run(input: { title: string }) {
    const issue = await gitlab.issues.create('demo/app', { title: input.title, labels: 'bug' });
    await gitlab.notes.create({ project: 'demo/app', issueIid: issue.iid, body: 'Triaged by AutoFlow' });
    const edited = await gitlab.issues.edit('demo/app', issue.iid, { add_labels: ['workflow::ready for dev'] });
    const page = await gitlab.issues.list('demo/app', { labels: 'bug' }, { perPage: 1 });
    const all = await gitlab.issues.list('demo/app', { labels: 'bug' }, { all: true });
    let missing: number | undefined;
    try {
      await gitlab.issues.get('demo/app', 999);
    } catch (e) {
      missing = gitlabError(e)?.status;
    }
    return { iid: issue.iid, labels: edited.labels, perPage: page.pagination.perPage, pageItems: page.items.length, all: all.length, missing };
  },
});`,
});
after(() => folder.remove());

describe('gitlab facade in a workflow', () => {
  test('typed calls, one page or all, gitlabError, and an idempotent create across a lost answer', async () => {
    const env = await createTestEnv({ workflows: [folder.path('triage.ts')], gitlab: demoSeed() });
    try {
      env.gitlab.faults.add({ kind: 'lose_response', method: 'POST', path: '/api/v4/projects/*/issues', times: 1 });
      const id = await env.start('triage', { title: 'Crash on save' });
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      const result = run.result as { iid: number; labels: string[]; perPage: number; pageItems: number; all: number; missing: number };
      assert.deepEqual(result.labels.sort(), ['bug', 'workflow::ready for dev']);
      assert.equal(result.missing, 404);
      assert.deepEqual([result.perPage, result.pageItems], [1, 1]);
      assert.ok(result.all >= 2, 'the demo seed has bugs of its own');

      const created = env.gitlab.sim.state
        .issuesOf(env.gitlab.sim.state.requireProject('demo/app'))
        .filter((issue) => issue.title === 'Crash on save');
      assert.equal(created.length, 1, 'the retry found the issue the lost attempt created');
      const [create] = await env.calls(id);
      assert.deepEqual([create?.method, create?.attempts, (create?.result as { iid: number }).iid], ['issues.create', 2, result.iid]);
    } finally {
      await env.close();
    }
  });
});
