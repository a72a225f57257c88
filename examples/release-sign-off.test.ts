import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestEnv, demoSeed, type TestEnv } from 'autoflow/testing';

const workflows = [new URL('release-sign-off.ts', import.meta.url).pathname];

async function signOffFor(env: TestEnv, title: string) {
  const mr = await env.gitlab.actions.openMergeRequest('alice', 'demo/app', {
    sourceBranch: title.toLowerCase().replace(/\W+/g, '-'),
    title,
    labels: ['needs-sign-off'],
    files: { 'notes.txt': title },
  });
  await env.settle();
  const { runs } = await env.operations.listRuns({ workflow: 'release-sign-off' });
  const [run] = runs;
  assert.ok(run, 'the labelled merge request started a sign-off');
  const [task] = await env.tasks({ runId: run.id });
  assert.ok(task, 'the sign-off is open');
  return { mr, runId: run.id, task };
}

describe('release sign-off: tasks.openApproval raced against the merge request being merged or closed', () => {
  test('the link is posted on the merge request; a member of the group other than the author approves', async () => {
    const env = await createTestEnv({ workflows, gitlab: demoSeed() });
    try {
      const { mr, runId, task } = await signOffFor(env, 'Freeze banner');
      assert.deepEqual([...task.eligible].sort(), ['alice', 'bob', 'carol']);
      const notes = env.gitlab.notes('demo/app', { mergeRequest: mr.iid }).map((note) => String(note['body']));
      assert.ok(
        notes.some((body) => body.includes(`/tasks/${task.id}`)),
        `the approval's link is on the merge request: ${notes.join(' | ')}`,
      );
      await env.decideTask(task.id, 'bob', 'approve', 'ship it');
      assert.deepEqual((await env.result(runId)).result, { status: 'approved', by: ['bob:approve'] });
    } finally {
      await env.close();
    }
  });

  test('closing the merge request cancels the approval', async () => {
    const env = await createTestEnv({ workflows, gitlab: demoSeed() });
    try {
      const { mr, runId, task } = await signOffFor(env, 'Abandoned idea');
      await env.gitlab.actions.closeMergeRequest('alice', 'demo/app', mr.iid);
      assert.deepEqual((await env.result(runId)).result, { status: 'cancelled', by: [], reason: 'closed before sign-off' });
      assert.equal((await env.operations.getTask(task.id)).status, 'cancelled');
    } finally {
      await env.close();
    }
  });

  test('merging the merge request before anyone signs off cancels the approval at once', async () => {
    const env = await createTestEnv({ workflows, gitlab: demoSeed() });
    try {
      const { mr, runId, task } = await signOffFor(env, 'Hotfix');
      const mergedAt = env.now();
      env.gitlab.actions.mergeMergeRequest('alice', 'demo/app', mr.iid);
      const run = await env.result(runId);
      assert.deepEqual(run.result, { status: 'cancelled', by: [], reason: 'merged before sign-off' });
      assert.equal(env.now(), mergedAt, 'the run ended when the merge came, not at the 3-day deadline');
      assert.equal((await env.operations.getTask(task.id)).status, 'cancelled');
      assert.deepEqual(await env.tasks(), [], 'nobody is left with a sign-off to give');
    } finally {
      await env.close();
    }
  });

  test('a merge request without the label asks nobody', async () => {
    const env = await createTestEnv({ workflows, gitlab: demoSeed() });
    try {
      await env.gitlab.actions.openMergeRequest('alice', 'demo/app', { sourceBranch: 'typo', title: 'Typo', files: { 'typo.txt': 'x' } });
      await env.settle();
      assert.deepEqual((await env.operations.listRuns({ workflow: 'release-sign-off' })).runs, []);
    } finally {
      await env.close();
    }
  });
});
