import assert from 'node:assert/strict';
import { type TestContext, describe, test } from 'node:test';
import { VirtualClock } from '../../../../app/clocks.js';
import { createGitLabSimulator } from '../../index.js';
import { ACME, restClient } from '../../test-helpers.js';

/**
 * Quick actions over the REST API on loopback, as GitLab runs them: in the description of a new issue
 * or merge request, in a new note, in a thread; their lines removed, their effects applied through the
 * simulator's operations (permissions, scoped labels, webhooks), their messages in a note's answer.
 */

interface Issue {
  iid: number;
  title: string;
  description: string | null;
  state: string;
  labels: string[];
  milestone: { title: string } | null;
  assignees: { username: string }[];
  due_date: string | null;
  weight: number | null;
  confidential: boolean;
  discussion_locked: boolean | null;
  time_stats: {
    time_estimate: number;
    total_time_spent: number;
    human_time_estimate: string | null;
    human_total_time_spent: string | null;
  };
}
interface Note {
  body: string;
  commands_changes: Record<string, unknown>;
}

/** ACME on loopback, with a `needs attention` label and a `Weekly Tasks` milestone; webhooks of acme/app recorded. */
async function world(t: TestContext) {
  const sim = createGitLabSimulator({ clock: new VirtualClock(), seed: ACME, fetch: () => Promise.resolve(new Response(null)) });
  const server = await sim.listen();
  t.after(() => server.close());
  sim.actions.createMilestone('alice', { project: 'acme/app' }, 'Weekly Tasks');
  const as = (user: string) => restClient(fetch, server.url, `${user}-token`);
  const alice = as('alice');
  await alice.post('/projects/acme%2Fapp/labels', { name: 'needs attention', color: '#ff0000' });
  sim.webhooks.add({ project: 'acme/app', url: 'http://hooks.example/acme' });
  const hooks = (event: string) => sim.webhooks.deliveries().filter((delivery) => delivery.event === event);
  const issue = async (iid: number): Promise<Issue> => (await alice.get(`/projects/acme%2Fapp/issues/${iid}`)).body as Issue;
  const open = async (client = alice, fields: Record<string, unknown> = {}): Promise<Issue> =>
    (await client.post('/projects/acme%2Fapp/issues', { title: 'Triage summary', ...fields })).body as Issue;
  const comment = (client: typeof alice, iid: number, body: string) => client.post(`/projects/acme%2Fapp/issues/${iid}/notes`, { body });
  return { sim, alice, bob: as('bob'), carol: as('carol'), dave: as('dave'), hooks, issue, open, comment };
}

describe('quick actions in the description of a new issue', () => {
  test('run once, through the issue’s creation, and leave the description without their lines', async (t) => {
    const { alice, hooks } = await world(t);
    const description = [
      'Three issues need attention.',
      '',
      '/label ~"needs attention" ~bug ~nope',
      '/milestone %"Weekly Tasks"',
      '/assign me @bob',
      '/due in 2 days',
      '/weight 3',
      '/estimate 1d 4h',
      '/close',
      '/cc @carol',
      '/remilestone %Backlog',
    ].join('\n');
    const created = await alice.post('/projects/acme%2Fapp/issues', { title: 'Triage summary', description, labels: 'workflow::backlog' });
    assert.equal(created.status, 201);
    const issue = created.body as Issue;
    assert.equal(issue.description, 'Three issues need attention.\n\n/cc @carol\n/remilestone %Backlog', '/cc and unknown commands stay');
    assert.deepEqual(issue.labels, ['bug', 'needs attention', 'workflow::backlog'], 'labels that do not exist are not created');
    assert.deepEqual(
      [issue.milestone?.title, issue.assignees.map((user) => user.username), issue.due_date, issue.weight],
      ['Weekly Tasks', ['alice', 'bob'], '2026-01-07', 3],
    );
    assert.deepEqual([issue.time_stats.time_estimate, issue.time_stats.human_time_estimate], [12 * 3600, '1d 4h']);
    assert.equal(issue.state, 'opened', '/close cannot apply to an issue being opened');
    const [hook, ...more] = hooks('Issue Hook');
    assert.equal(more.length, 0, 'one hook: the opening, with everything in it');
    assert.deepEqual(
      [
        (hook?.payload['object_attributes'] as { action: string }).action,
        (hook?.payload['labels'] as { title: string }[]).map((l) => l.title),
      ],
      ['open', ['workflow::backlog', 'needs attention', 'bug']],
    );
  });

  test('apply only what the author may do: a Guest’s labels and milestone are ignored, the lines still removed', async (t) => {
    const { dave, open } = await world(t);
    const issue = await open(dave, { description: 'Broken\n/label ~bug\n/milestone %Backlog\n/confidential' });
    assert.deepEqual([issue.description, issue.labels, issue.milestone, issue.confidential], ['Broken', [], null, true]);
  });

  test('run when a description is edited, and stay out of code blocks', async (t) => {
    const { alice, open } = await world(t);
    const { iid } = await open();
    const edited = await alice.put(`/projects/acme%2Fapp/issues/${iid}`, { description: 'Now:\n```\n/close\n```\n/label ~bug' });
    assert.deepEqual(
      [(edited.body as Issue).description, (edited.body as Issue).labels, (edited.body as Issue).state],
      ['Now:\n```\n/close\n```', ['bug'], 'opened'],
    );
  });
});

describe('quick actions in a note', () => {
  test('a note of commands only is not saved: 202 with what changed and GitLab’s summary', async (t) => {
    const { sim, alice, carol, comment, open, issue, hooks } = await world(t);
    const { iid } = await open(alice, { labels: 'workflow::backlog,team::a::one' });
    const answer = await comment(carol, iid, '/label ~workflow::ready ~"team::a::two" ~"needs attention"\n/close\n\n');
    const ids = (...names: string[]) => names.map((name) => [...sim.state.labels.values()].find((label) => label.name === name)?.id);
    assert.equal(answer.status, 202);
    assert.deepEqual(answer.body, {
      commands_changes: { add_label_ids: ids('workflow::ready', 'team::a::two', 'needs attention'), state_event: 'close' },
      summary: ['Added ~"workflow::ready" ~"team::a::two" ~"needs attention" labels. Closed this issue.'],
    });
    const after = await issue(iid);
    assert.deepEqual(
      [after.state, after.labels],
      ['closed', ['needs attention', 'team::a::two', 'workflow::ready']],
      'scoped labels replaced',
    );
    assert.deepEqual((await alice.get(`/projects/acme%2Fapp/issues/${iid}/notes`)).body, []);
    assert.deepEqual([hooks('Note Hook').length, hooks('Issue Hook').length], [0, 2], 'the opening, then one update');
  });

  test('a note with text is saved without the command lines, and answers its commands_changes', async (t) => {
    const { alice, bob, comment, open, issue } = await world(t);
    const { iid } = await open();
    const answer = await comment(bob, iid, 'Taking this.\n/assign me\n/spend 1h 30m\n/unknown thing');
    assert.equal(answer.status, 201);
    const note = answer.body as Note;
    assert.equal(note.body, 'Taking this.\n/unknown thing');
    assert.deepEqual(Object.keys(note.commands_changes), ['assignee_ids', 'spend_time']);
    const subtracted = await comment(bob, iid, '/spend -30m 2026-01-04');
    assert.deepEqual((subtracted.body as { summary: string[] }).summary, ['Subtracted 30m spent time.']);
    const after = await issue(iid);
    assert.deepEqual(
      [after.assignees.map((user) => user.username), after.time_stats.total_time_spent, after.time_stats.human_total_time_spent],
      [['bob'], 3600, '1h'],
    );
    const notes = (await alice.get(`/projects/acme%2Fapp/issues/${iid}/notes`)).body as Note[];
    assert.deepEqual(
      notes.map((saved) => [saved.body, saved.commands_changes]),
      [['Taking this.\n/unknown thing', {}]],
    );
  });

  test('commands the author may not run are "Could not apply", and the others still run', async (t) => {
    const { alice, dave, comment, open, issue } = await world(t);
    const { iid: theirs } = await open(alice);
    const denied = await comment(dave, theirs, '/label ~bug\n/close');
    assert.deepEqual(
      [denied.status, denied.body],
      [202, { commands_changes: {}, summary: ['Could not apply label command. Could not apply close command.'] }],
    );
    const { iid: own } = await open(dave);
    const mixed = await comment(dave, own, '/label ~bug\n/close');
    assert.deepEqual(mixed.body, {
      commands_changes: { state_event: 'close' },
      summary: ['Could not apply label command. Closed this issue.'],
    });
    assert.deepEqual(
      [(await issue(own)).state, (await issue(own)).labels],
      ['closed', []],
      'an author may close their issue, not label it',
    );
  });

  test('commands that did nothing and said nothing are GitLab’s 400; a reply of commands leaves the comment a comment', async (t) => {
    const { alice, comment, open } = await world(t);
    const { iid } = await open();
    assert.deepEqual(await comment(alice, iid, '/milestone %"No such"').then((r) => [r.status, r.body]), [
      400,
      { message: '400 Bad request - Failed to apply commands.' },
    ]);
    assert.deepEqual(await comment(alice, iid, '/assign @nobody').then((r) => r.body), {
      commands_changes: {},
      summary: ["Could not apply assign command. Failed to find users for '@nobody'."],
    });
    await comment(alice, iid, 'Plain comment');
    const threads = (await alice.get(`/projects/acme%2Fapp/issues/${iid}/discussions`)).body as { id: string }[];
    const reply = await alice.post(`/projects/acme%2Fapp/issues/${iid}/discussions/${threads[0]?.id ?? ''}/notes`, { body: '/lock' });
    assert.deepEqual(
      [reply.status, reply.body],
      [202, { commands_changes: { discussion_locked: true }, summary: ['Locked the discussion.'] }],
    );
    const after = (await alice.get(`/projects/acme%2Fapp/issues/${iid}/discussions`)).body as { individual_note: boolean }[];
    assert.deepEqual([after.length, after[0]?.individual_note], [1, true]);
    const opened = await alice.post(`/projects/acme%2Fapp/issues/${iid}/discussions`, { body: '/unlock\n/title Renamed' });
    assert.deepEqual(
      [opened.status, (opened.body as { summary: string[] }).summary],
      [202, ['Unlocked the discussion. Changed the title to "Renamed".']],
    );
  });

  test('labels, assignees and milestones can be taken off, replaced and copied', async (t) => {
    const { alice, comment, open, issue } = await world(t);
    const { iid: source } = await open(alice, { labels: 'bug,priority::1' });
    await comment(alice, source, '/milestone %Backlog');
    const { iid } = await open(alice, { labels: 'workflow::backlog,team::b' });
    const say = async (body: string) => ((await comment(alice, iid, body)).body as { summary: string[] }).summary[0];
    assert.equal(await say(`/copy_metadata #${source}`), `Copied labels and milestone from #${source}.`);
    assert.deepEqual(
      [(await issue(iid)).labels, (await issue(iid)).milestone?.title],
      [['bug', 'priority::1', 'team::b', 'workflow::backlog'], 'Backlog'],
    );
    assert.equal(await say('/unlabel ~bug ~"team::b"'), 'Removed ~"bug" ~"team::b" labels.');
    assert.equal(await say('/relabel ~"needs attention"'), 'Replaced all labels with ~"needs attention" label.');
    assert.equal(await say('/assign @bob @carol'), 'Assigned @bob and @carol.');
    assert.equal(await say('/unassign @bob'), 'Removed assignee @bob.');
    assert.equal(
      await say('/remove_milestone\n/unlabel\n/due December 31st\n/weight 2'),
      'Removed %"Backlog" milestone. Removed all labels. Set the due date to Dec 31, 2026. Set weight to 2.',
    );
    const after = await issue(iid);
    assert.deepEqual(
      [after.labels, after.assignees.map((user) => user.username), after.milestone, after.due_date, after.weight],
      [[], ['carol'], null, '2026-12-31', 2],
    );
    assert.equal(
      await say('/unassign\n/remove_due_date\n/clear_weight\n/confidential'),
      'Removed assignee @carol. Removed the due date. Cleared weight. Made this issue confidential.',
    );
  });
});

describe('quick actions on merge requests', () => {
  /** Bob's branch `fix`, one commit ahead of main. */
  async function withBranch(t: TestContext) {
    const w = await world(t);
    w.sim.actions.push('bob', 'acme/app', { branch: 'fix', files: { 'fix.txt': 'fixed' } });
    return { ...w, project: w.sim.state.requireProject('acme/app') };
  }

  test('/draft and /ready change the title’s draft prefix, when opening and later', async (t) => {
    const { sim, bob, project } = await withBranch(t);
    const opened = await bob.post('/projects/acme%2Fapp/merge_requests', {
      source_branch: 'fix',
      title: 'Fix',
      description: 'Fixes it.\n/draft\n/label ~bug',
    });
    const mr = opened.body as { iid: number; title: string; draft: boolean; labels: string[]; description: string };
    assert.deepEqual([opened.status, mr.title, mr.draft, mr.labels, mr.description], [201, 'Draft: Fix', true, ['bug'], 'Fixes it.']);
    const ready = await bob.post(`/projects/acme%2Fapp/merge_requests/${mr.iid}/notes`, { body: '/ready' });
    assert.deepEqual(ready.body, { commands_changes: { wip_event: 'ready' }, summary: ['Marked this merge request as ready.'] });
    assert.equal(sim.state.requireMergeRequest(project, mr.iid).title, 'Fix');
    const again = await bob.post(`/projects/acme%2Fapp/merge_requests/${mr.iid}/notes`, { body: '/ready' });
    assert.deepEqual((again.body as { summary: string[] }).summary, ["No change to this merge request's draft status."]);
    const onIssue = await bob.post(`/projects/acme%2Fapp/merge_requests/${mr.iid}/notes`, { body: '/due tomorrow' });
    assert.deepEqual((onIssue.body as { summary: string[] }).summary, ['Could not apply due command.'], 'an issue-only command');
  });

  test('/rebase replays the source branch on the target’s head and pushes it; it needs the right to push', async (t) => {
    const { sim, bob, carol, hooks, project } = await withBranch(t);
    const mr = sim.actions.openMergeRequest('bob', 'acme/app', { sourceBranch: 'fix', title: 'Fix' });
    sim.actions.push('alice', 'acme/app', { branch: 'main', files: { 'other.txt': 'moved on' } });
    const pushes = hooks('Push Hook').length;
    const refused = await carol.post(`/projects/acme%2Fapp/merge_requests/${mr.iid}/notes`, { body: '/rebase' });
    assert.deepEqual((refused.body as { summary: string[] }).summary, ['Could not apply rebase command.'], 'a Reporter cannot push');
    const answer = await bob.post(`/projects/acme%2Fapp/merge_requests/${mr.iid}/notes`, { body: '/rebase' });
    assert.deepEqual(answer.body, { commands_changes: { rebase: true }, summary: ['Scheduled a rebase of branch fix.'] });
    const { branches, commits } = project.repository;
    const head = commits.get(branches.get('fix') ?? '');
    assert.deepEqual(
      [head?.parentShas, head?.message, head?.tree.get('other.txt'), head?.tree.get('fix.txt')],
      [[branches.get('main')], 'Update fix.txt', 'moved on', 'fixed'],
    );
    assert.equal(sim.state.requireMergeRequest(project, mr.iid).sha, head?.sha);
    assert.equal(hooks('Push Hook').length, pushes + 1);
  });
});

describe('quick actions through the simulator’s actions', () => {
  test('createNote answers null for a note of commands only; a thread of commands only is refused after they ran', async (t) => {
    const { sim, issue } = await world(t);
    sim.actions.createIssue('alice', 'acme/app', { title: 'Via actions' });
    assert.equal(sim.actions.createNote('alice', 'acme/app', { issue: 1 }, '/label ~bug'), null);
    assert.equal(sim.actions.createNote('alice', 'acme/app', { issue: 1 }, 'Done\n/close')?.body, 'Done');
    assert.throws(() => sim.actions.startThread('alice', 'acme/app', { issue: 1 }, '/reopen'), /only quick actions.*Reopened this issue/);
    assert.deepEqual([(await issue(1)).labels, (await issue(1)).state], [['bug'], 'opened']);
  });
});
