import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { demoSeed } from '../../src/testing/index.js';
import { createTestEnv, type TestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/**
 * The loop that was reproduced with `autoflow simulate add-labels`: a workflow on issue_updated that labels the issue
 * updates it again, as AutoFlow's own account (the simulator's `autoflow-bot`). Here each run adds the next `seen-N`
 * label and waits for the update it made; at three labels a run stops adding, which bounds the loop where nothing
 * else would.
 */
const loop = (name: string, trigger: string) => `import { gitlab, waitFor, workflow } from 'autoflow';
interface IssueHook {
  data: { project: { id: number }; object_attributes: { iid: number }; labels: Array<{ title: string }>; user: { username: string } };
}
export default workflow({
  name: '${name}',
  triggers: [${trigger}],
  permissions: { gitlab: { projects: ['demo/*'] } },
  async run(event: IssueHook) {
    const { project, object_attributes: issue, labels } = event.data;
    const seen = labels.filter((label) => label.title.startsWith('seen-')).length;
    if (seen >= 3) return { by: event.data.user.username, stopped: true };
    await gitlab.issues.edit(project.id, issue.iid, { add_labels: 'seen-' + (seen + 1) });
    // The update this run just made, as AutoFlow's own account: a wait receives it, though no trigger starts a run for it.
    const echo = (await waitFor('com.gitlab.events.issue_updated', {
      match: { 'object_attributes.iid': issue.iid },
      timeout: '1h',
    })) as IssueHook | null;
    return { by: event.data.user.username, echoBy: echo?.data.user.username ?? null };
  },
});`;

const ON_LOOP_ISSUES = `{ event: 'com.gitlab.events.issue_updated', filter: { 'object_attributes.title': { glob: 'LOOP*' } }`;
const folder = workflowFolder({
  'loop.ts': loop('loop', `${ON_LOOP_ISSUES} }`),
  'chained.ts': loop('chained', `${ON_LOOP_ISSUES}, includeOwnEvents: true }`),
});
after(() => folder.remove());

async function resultsOf(env: TestEnv, workflow: string): Promise<unknown[]> {
  const { runs } = await env.operations.listRuns({ workflow });
  assert.ok(
    runs.every((run) => run.status === 'completed'),
    runs.map((run) => run.status).join(),
  );
  return Promise.all(runs.map(async (run) => (await env.result(run.id)).result));
}

const seenLabels = (env: TestEnv, iid: number): string[] =>
  env.gitlab
    .issue('demo/app', iid)
    .labels.filter((label: string) => label.startsWith('seen-'))
    .sort();

/** Alice opens an issue titled `title` and labels it: the update the workflows are triggered by. */
async function aliceUpdatesIssue(env: TestEnv, title: string): Promise<number> {
  const issue = await env.gitlab.actions.createIssue('alice', 'demo/app', { title });
  await env.gitlab.actions.addLabels('alice', 'demo/app', issue.iid, ['bug']);
  await env.settle();
  return issue.iid;
}

describe("GitLab events AutoFlow's own account caused", () => {
  test("a workflow that edits the issue that triggered it runs once: alice's update starts it, its own edit starts no run but reaches its wait", async () => {
    const env = await createTestEnv({ workflows: [folder.path('loop.ts')], gitlab: demoSeed() });
    try {
      const iid = await aliceUpdatesIssue(env, 'LOOP 1');
      assert.deepEqual(seenLabels(env, iid), ['seen-1'], 'one label: the edit did not trigger the workflow again');
      assert.deepEqual(await resultsOf(env, 'loop'), [{ by: 'alice', echoBy: 'autoflow-bot' }]);
      const { runs } = await env.operations.listRuns({ workflow: 'loop' });
      assert.equal(runs.length, 1);

      // Another person's update is no own event: it starts a run again.
      await env.gitlab.actions.addLabels('bob', 'demo/app', iid, ['feature']);
      await env.settle();
      assert.equal((await env.operations.listRuns({ workflow: 'loop' })).runs.length, 2);
      assert.deepEqual(seenLabels(env, iid), ['seen-1', 'seen-2']);
    } finally {
      await env.close();
    }
  });

  test('with includeOwnEvents: true, its own edit starts the next run, until the workflow itself stops the loop', async () => {
    const env = await createTestEnv({ workflows: [folder.path('chained.ts')], gitlab: demoSeed() });
    try {
      const iid = await aliceUpdatesIssue(env, 'LOOP 2');
      assert.deepEqual(seenLabels(env, iid), ['seen-1', 'seen-2', 'seen-3']);
      // Alice's update started the first run, each of the bot's edits the next; the fourth found three labels and stopped.
      const runs = (await resultsOf(env, 'chained')) as Array<{ by: string; stopped?: true }>;
      assert.deepEqual(runs.map(({ by, stopped }) => `${by}${stopped ? ' (stopped)' : ''}`).sort(), [
        'alice',
        'autoflow-bot',
        'autoflow-bot',
        'autoflow-bot (stopped)',
      ]);
    } finally {
      await env.close();
    }
  });
});
