import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestEnv, demoSeed, type TestEnv } from 'autoflow/testing';

const workflows = ['milestone-labels.ts', 'environments-labels.ts', 'issue-status.ts'].map((file) => new URL(file, import.meta.url).pathname);

function labels(env: TestEnv, iid: number): string[] {
  return [...env.gitlab.issue('demo/app', iid).labels].sort();
}

describe('shipped GitLab examples, driven by real webhooks from the simulator', () => {
  let env: TestEnv;
  before(async () => {
    env = await createTestEnv({ workflows, gitlab: demoSeed() });
  });
  // Optional: when createTestEnv failed, its own error is the report, not a TypeError of this hook.
  after(() => env?.close());

  test('milestone Backlog → workflow::backlog; another milestone → workflow::ready for dev, replacing it', async () => {
    const issue = await env.gitlab.actions.createIssue('alice', 'demo/app', { title: 'Flaky deploy job' });
    await env.gitlab.actions.setMilestone('alice', 'demo/app', issue.iid, 'Backlog');
    assert.ok(labels(env, issue.iid).includes('workflow::backlog'));
    await env.gitlab.actions.setMilestone('alice', 'demo/app', issue.iid, 'Sprint 1');
    const now = labels(env, issue.iid);
    assert.ok(now.includes('workflow::ready for dev'), now.join(', '));
    assert.ok(!now.includes('workflow::backlog'), 'the scoped label replaced the backlog one');
  });

  test('group::environments brings devops::deploy and section::cd, once', async () => {
    const issue = await env.gitlab.actions.createIssue('bob', 'demo/app', { title: 'Env list is slow', labels: ['group::environments'] });
    assert.deepEqual(labels(env, issue.iid), ['devops::deploy', 'group::environments', 'section::cd']);
    const other = await env.gitlab.actions.createIssue('bob', 'demo/app', { title: 'Typo' });
    await env.gitlab.actions.addLabels('bob', 'demo/app', other.iid, ['group::environments']);
    assert.deepEqual(labels(env, other.iid), ['devops::deploy', 'group::environments', 'section::cd']);
  });

  test('issue status follows milestone, merge request, review and merge; QA is assigned with one comment', async () => {
    const issue = await env.gitlab.actions.createIssue('alice', 'demo/app', { title: 'Add deploy freeze banner' });
    await env.gitlab.actions.setMilestone('alice', 'demo/app', issue.iid, 'Sprint 1');
    assert.ok(labels(env, issue.iid).includes('status::ready for development'), `after the milestone: ${labels(env, issue.iid).join(', ')}`);
    const mr = await env.gitlab.actions.openMergeRequest('bob', 'demo/app', {
      sourceBranch: 'freeze-banner',
      title: 'Freeze banner',
      description: `Closes #${issue.iid}`,
      files: { 'banner.txt': 'frozen' },
    });
    assert.ok(labels(env, issue.iid).includes('status::in progress'), `after the merge request: ${labels(env, issue.iid).join(', ')}`);
    await env.gitlab.actions.addReviewer('bob', 'demo/app', mr.iid, 'alice');
    assert.ok(labels(env, issue.iid).includes('status::in review'), `after the review request: ${labels(env, issue.iid).join(', ')}`);
    await env.gitlab.actions.mergeMergeRequest('alice', 'demo/app', mr.iid);
    const final = env.gitlab.issue('demo/app', issue.iid);
    assert.ok(final.labels.includes('status::verification'), `after the merge: ${final.labels.join(', ')}`);
    assert.equal(final.labels.filter((label) => label.startsWith('status::')).length, 1);
    assert.deepEqual((final.assignees as Array<{ username: string }>).map((user) => user.username), ['carol']);
    assert.equal(env.gitlab.notes('demo/app', { issue: issue.iid }).filter((note) => String(note.body).startsWith('Merged in')).length, 1);
  });
});

describe('the same examples while GitLab misbehaves', () => {
  test('5xx bursts, 429 with Retry-After and lost responses: the right labels, no duplicate comment', async () => {
    const env = await createTestEnv({ workflows, gitlab: demoSeed() });
    try {
      env.gitlab.faults.add({ method: 'PUT', kind: 'status', status: 503, times: 3 });
      env.gitlab.faults.add({ method: 'GET', kind: 'rate_limit', retryAfterSeconds: 30, times: 2 });
      env.gitlab.faults.add({ method: 'POST', path: '**/notes', kind: 'lose_response', times: 1 });
      const issue = await env.gitlab.actions.createIssue('alice', 'demo/app', { title: 'Under fire' });
      await env.gitlab.actions.setMilestone('alice', 'demo/app', issue.iid, 'Sprint 1');
      await env.advance('10m');
      const mr = await env.gitlab.actions.openMergeRequest('bob', 'demo/app', {
        sourceBranch: 'under-fire',
        title: 'Fix',
        description: `Closes #${issue.iid}`,
        files: { 'fix.txt': 'fixed' },
      });
      await env.advance('10m');
      await env.gitlab.actions.mergeMergeRequest('alice', 'demo/app', mr.iid);
      await env.advance('10m');
      const final = labels(env, issue.iid);
      assert.ok(final.includes('workflow::ready for dev'), final.join(', '));
      assert.ok(final.includes('status::verification'), final.join(', '));
      const comments = env.gitlab.notes('demo/app', { issue: issue.iid }).filter((note) => String(note.body).startsWith('Merged in'));
      assert.equal(comments.length, 1, 'a note whose response was lost is not created twice');
      const { runs } = await env.operations.listRuns({ limit: 500 });
      assert.deepEqual(runs.filter((run) => run.status !== 'completed').map((run) => `${run.workflow} ${run.status}`), []);
    } finally {
      await env.close();
    }
  });
});
