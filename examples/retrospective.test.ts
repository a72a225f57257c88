import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestEnv, demoSeed, type SeedDescription, type TestEnv } from 'autoflow/testing';

const workflows = [new URL('retrospective.ts', import.meta.url).pathname];
/** Wednesday 2026-01-07 10:00 UTC; the forms go out on Monday 2026-01-12 09:00 in Berlin (08:00 UTC). */
const WEDNESDAY = Date.parse('2026-01-07T10:00:00Z');
const MONDAY_9_BERLIN = Date.parse('2026-01-12T08:00:00Z');

/**
 * The team acting through a group access token, as the README recommends: GitLab names the token's bot user
 * `group_<id>_bot_<hash>` and makes it a member with the token's role, here Owner. The first user is the one
 * workflows act as.
 */
const TOKEN_BOT = 'group_7_bot_5e1d2c';
const seedWithGroupToken = (): SeedDescription => ({
  users: [TOKEN_BOT, 'alice', 'bob', 'carol'],
  groups: [{ path: 'demo', members: { [TOKEN_BOT]: 'owner', alice: 'maintainer', bob: 'developer', carol: 'reporter' } }],
  projects: [{ path: 'demo/app', milestones: ['Sprint 1'] }],
});

const answer = (wentWell: string, wentWrong: string, praise = '') => ({ wentWell, wentWrong, praise });

function issuesTitled(env: TestEnv, title: string) {
  return env.gitlab.issues('demo/app').filter((issue) => String(issue['title']).startsWith(title));
}

async function formOf(env: TestEnv, username: string) {
  const [task] = await env.tasks({ assignee: username });
  assert.ok(task, `${username} has an open form`);
  return task;
}

async function retroRun(env: TestEnv) {
  const { runs } = await env.operations.listRuns({ workflow: 'retrospective' });
  const retro = runs.find((run) => run.id.startsWith('retrospective-demo-app-'));
  assert.ok(retro, 'the milestone started its retrospective');
  return retro.id;
}

describe('retrospective bot, a whole week in virtual time', () => {
  test('closing a milestone: forms on Monday 09:00 Berlin, a ping after two days, one summary once all are in', async () => {
    const env = await createTestEnv({ workflows, gitlab: demoSeed(), now: WEDNESDAY });
    try {
      env.gitlab.actions.closeMilestone('alice', { project: 'demo/app' }, 'Sprint 1');
      await env.settle();
      const runId = await retroRun(env);
      assert.deepEqual(await env.tasks(), [], 'nothing goes out before Monday');

      await env.advance(MONDAY_9_BERLIN - env.now());
      assert.equal(new Date(env.now()).toISOString(), '2026-01-12T08:00:00.000Z');
      const personal = issuesTitled(env, 'Your retrospective for Sprint 1');
      assert.deepEqual(personal.map((issue) => (issue['assignees'] as Array<{ username: string }>)[0]?.username).sort(), [
        'alice',
        'bob',
        'carol',
      ]);
      const carolIssue = personal.find((issue) => String(issue['description']).startsWith('@carol'))!;
      const carolForm = await formOf(env, 'carol');
      assert.ok(String(carolIssue['description']).includes(`/tasks/${carolForm.id}`), 'each issue links to its form');

      await env.submitTask(
        (await formOf(env, 'alice')).id,
        'alice',
        answer('Shipped the freeze banner', 'Flaky deploys', 'bob for the pairing'),
      );
      await env.advance('3h');
      await env.submitTask((await formOf(env, 'bob')).id, 'bob', answer('Good reviews', 'Too many meetings'));
      await env.advance('2d');

      const pings = (user: string, iid: number) =>
        env.gitlab.notes('demo/app', { issue: iid }).filter((note) => String(note['body']).includes(`@${user} friendly ping`));
      for (const issue of personal) {
        const user = String(issue['description']).slice(1).split(',')[0]!;
        assert.equal(pings(user, issue['iid']).length, user === 'carol' ? 1 : 0, `${user} is pinged only if they have not answered`);
      }
      assert.deepEqual(issuesTitled(env, 'Retrospective: Sprint 1'), [], 'no summary while a form is open');

      await env.submitTask(carolForm.id, 'carol', answer('Test plan was clear', 'Late requirements', 'alice for triage'));
      const run = await env.result(runId);
      assert.deepEqual(
        { answered: (run.result as { answered: number }).answered, members: (run.result as { members: number }).members },
        { answered: 3, members: 3 },
      );
      const [summary] = issuesTitled(env, 'Retrospective: Sprint 1');
      assert.ok(summary, 'one summary issue');
      const text = String(summary['description']);
      for (const expected of [
        '@alice: Shipped the freeze banner',
        '@bob: Too many meetings',
        '@carol: alice for triage',
        'Everyone answered.',
        'cc @alice @bob @carol',
      ]) {
        assert.ok(text.includes(expected), `the summary has "${expected}":\n${text}`);
      }
      assert.deepEqual(
        (summary['assignees'] as Array<{ username: string }>).map((user) => user.username),
        ['alice'],
        'the maintainer manages the group',
      );
      assert.ok(
        personal.every((issue) => env.gitlab.issue('demo/app', issue['iid'])['state'] === 'closed'),
        'personal issues are closed',
      );
      assert.equal(
        new Date(env.now()).toISOString(),
        '2026-01-14T11:00:00.000Z',
        'the summary came when the last form did, not after a week',
      );
    } finally {
      await env.close();
    }
  });

  test('a milestone past its due date gets its retrospective from the daily check; after a week the summary names who did not answer', async () => {
    const env = await createTestEnv({ workflows, gitlab: demoSeed(), now: WEDNESDAY });
    try {
      env.gitlab.actions.createMilestone('alice', { project: 'demo/app' }, 'Sprint 2', { dueDate: '2026-01-06' });
      await env.settle();
      await env.advance(MONDAY_9_BERLIN - env.now());
      assert.equal(issuesTitled(env, 'Your retrospective for Sprint 2').length, 3, 'the daily check started it, once');
      await env.submitTask((await formOf(env, 'bob')).id, 'bob', answer('Pairing', 'Outage on Tuesday'));
      await env.advance('7d');
      const runId = await retroRun(env);
      const finished = await env.run(runId);
      assert.equal(finished.status, 'completed', JSON.stringify(finished.error));
      const [summary] = issuesTitled(env, 'Retrospective: Sprint 2');
      const text = String(summary?.['description']);
      assert.ok(text.includes('Answers from 1 of 3 team members.'), text);
      assert.ok(text.includes('No answer from @alice, @carol.'), text);
      assert.deepEqual(await env.tasks(), [], 'the unanswered forms closed at the deadline');
      assert.equal((await env.tasks({ status: 'timed_out' })).length, 2);
    } finally {
      await env.close();
    }
  });

  test('the account AutoFlow acts as is not on the team, whatever GitLab named it', async () => {
    const env = await createTestEnv({ workflows, gitlab: seedWithGroupToken(), now: WEDNESDAY });
    try {
      env.gitlab.actions.closeMilestone('alice', { project: 'demo/app' }, 'Sprint 1');
      await env.settle();
      await env.advance(MONDAY_9_BERLIN - env.now());
      const personal = issuesTitled(env, 'Your retrospective for Sprint 1');
      assert.deepEqual(personal.map((issue) => (issue['assignees'] as Array<{ username: string }>)[0]?.username).sort(), [
        'alice',
        'bob',
        'carol',
      ]);
      assert.deepEqual(await env.tasks({ assignee: TOKEN_BOT }), [], 'the bot gets no form');

      await env.advance('7d');
      const [summary] = issuesTitled(env, 'Retrospective: Sprint 1');
      const text = String(summary?.['description']);
      assert.ok(text.includes('Answers from 0 of 3 team members.'), text);
      assert.ok(!text.includes(TOKEN_BOT), `the bot is neither asked nor mentioned:\n${text}`);
      assert.deepEqual(
        (summary?.['assignees'] as Array<{ username: string }>).map((user) => user.username),
        ['alice'],
        'the bot is not the manager, though it is Owner',
      );
    } finally {
      await env.close();
    }
  });
});
