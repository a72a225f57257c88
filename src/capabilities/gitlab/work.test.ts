import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { workflowFolder } from '../../../test/helpers/workflow-files.js';
import { createTestEnv, demoSeed } from '../../testing/index.js';
import { createWorld } from './world.test.js';

/** Issues, merge requests, notes, labels and milestones: each typed method against the simulator's state. */

type Item = { id: number; iid: number; title: string; description: string | null; state: string; labels: string[] };
type Page<T> = { items: T[]; pagination: { page: number; perPage: number; nextPage: number | null; total: number | null } };

describe('issues', () => {
  test('create, get, edit, close, reopen and list with filters', async () => {
    const { sim, call } = createWorld();
    const created = await call<Item>('issues.create', {
      project: 'acme/app',
      attributes: { title: 'Broken build', description: 'It fails', labels: 'bug' },
    });
    assert.equal(created.title, 'Broken build');
    assert.match(created.description ?? '', /^It fails\n\n<!-- autoflow[0-9a-f]{24} -->$/);
    const stored = sim.state.requireIssue(sim.state.requireProject('acme/app'), created.iid);
    assert.equal(stored.title, 'Broken build');

    assert.equal((await call<Item>('issues.get', { project: 'acme/app', iid: created.iid })).id, created.id);
    const edited = await call<Item>('issues.edit', {
      project: 'acme/app',
      iid: created.iid,
      attributes: { add_labels: 'workflow::ready' },
    });
    assert.deepEqual(edited.labels.sort(), ['bug', 'workflow::ready']);
    assert.equal((await call<Item>('issues.close', { project: 'acme/app', iid: created.iid })).state, 'closed');
    assert.equal(stored.state, 'closed');
    assert.equal((await call<Item>('issues.reopen', { project: 'acme/app', iid: created.iid })).state, 'opened');

    sim.actions.createIssue('alice', 'acme/app', { title: 'Unrelated' });
    const bugs = await call<Page<Item>>('issues.list', { project: 'acme/app', query: { labels: ['bug'], state: 'opened' } });
    assert.deepEqual(
      bugs.items.map((issue) => issue.title),
      ['Broken build'],
    );
    assert.equal(bugs.pagination.total, 1);
  });

  test('related merge requests and the merge requests that close an issue', async () => {
    const { sim, call } = createWorld();
    const issue = sim.actions.createIssue('alice', 'acme/app', { title: 'Fix me' });
    sim.actions.openMergeRequest('bot', 'acme/app', {
      sourceBranch: 'fix',
      title: 'Fix',
      description: `Closes #${issue.iid}`,
      files: { 'a.txt': 'a' },
    });
    sim.actions.openMergeRequest('bot', 'acme/app', {
      sourceBranch: 'mention',
      title: 'Mention',
      description: `See #${issue.iid}`,
      files: { 'b.txt': 'b' },
    });
    const related = await call<Page<Item>>('issues.relatedMergeRequests', { project: 'acme/app', iid: issue.iid });
    assert.deepEqual(related.items.map((mr) => mr.title).sort(), ['Fix', 'Mention']);
    const closedBy = await call<Page<Item>>('issues.closedBy', { project: 'acme/app', iid: issue.iid });
    assert.deepEqual(
      closedBy.items.map((mr) => mr.title),
      ['Fix'],
    );
  });
});

describe('merge requests', () => {
  test('create, get, edit, approve, list, the issues it closes, and merge', async () => {
    const { sim, call } = createWorld();
    const issue = sim.actions.createIssue('alice', 'acme/app', { title: 'Feature wanted' });
    sim.actions.push('alice', 'acme/app', { branch: 'feature', files: { 'feature.txt': 'new' } });
    const mr = await call<Item & { source_branch: string }>('mergeRequests.create', {
      project: 'acme/app',
      attributes: { source_branch: 'feature', target_branch: 'main', title: 'Add feature', description: `Closes #${issue.iid}` },
    });
    assert.equal(mr.source_branch, 'feature');
    assert.equal(sim.state.requireMergeRequest(sim.state.requireProject('acme/app'), mr.iid).title, 'Add feature');
    assert.equal((await call<Item>('mergeRequests.get', { project: 'acme/app', iid: mr.iid })).id, mr.id);
    assert.deepEqual((await call<Item>('mergeRequests.edit', { project: 'acme/app', iid: mr.iid, attributes: { labels: 'bug' } })).labels, [
      'bug',
    ]);

    const approval = await call<{ approved_by: { user: { username: string } }[] }>('mergeRequests.approve', {
      project: 'acme/app',
      iid: mr.iid,
    });
    assert.deepEqual(
      approval.approved_by.map((entry) => entry.user.username),
      ['bot'],
    );
    const open = await call<Page<Item>>('mergeRequests.list', { project: 'acme/app', query: { state: 'opened' } });
    assert.deepEqual(
      open.items.map((item) => item.iid),
      [mr.iid],
    );
    const closes = await call<Page<Item>>('mergeRequests.closesIssues', { project: 'acme/app', iid: mr.iid });
    assert.deepEqual(
      closes.items.map((item) => item.iid),
      [issue.iid],
    );

    const merged = await call<Item>('mergeRequests.merge', {
      project: 'acme/app',
      iid: mr.iid,
      attributes: { should_remove_source_branch: true },
    });
    assert.equal(merged.state, 'merged');
    assert.equal(sim.state.requireIssue(sim.state.requireProject('acme/app'), issue.iid).state, 'closed');
  });
});

describe('notes', () => {
  test('on issues and merge requests: create (internal too) and list newest first', async () => {
    const { sim, call } = createWorld();
    const issue = sim.actions.createIssue('alice', 'acme/app', { title: 'Discuss' });
    sim.actions.createNote('alice', 'acme/app', { issue: issue.iid }, 'first');
    const note = await call<{ body: string; internal: boolean }>('notes.create', {
      project: 'acme/app',
      issueIid: issue.iid,
      body: 'second',
      internal: true,
    });
    assert.match(note.body, /^second\n\n<!-- autoflow/);
    assert.equal(note.internal, true);
    const notes = await call<Page<{ body: string }>>('notes.list', { project: 'acme/app', issueIid: issue.iid, query: { sort: 'desc' } });
    assert.deepEqual(
      notes.items.map((item) => item.body.split('\n')[0]),
      ['second', 'first'],
    );

    const mr = sim.actions.openMergeRequest('alice', 'acme/app', { sourceBranch: 'review', title: 'Review me', files: { 'c.txt': 'c' } });
    await call('notes.create', { project: 'acme/app', mergeRequestIid: mr.iid, body: 'LGTM' });
    const onMr = await call<Page<{ body: string }>>('notes.list', { project: 'acme/app', mergeRequestIid: mr.iid });
    assert.equal(onMr.items.length, 1);
    assert.equal(
      [...sim.state.notes.values()].filter((item) => item.noteableId === mr.id && item.noteableType === 'MergeRequest').length,
      1,
    );
  });

  test('need exactly one of issueIid and mergeRequestIid', async () => {
    const { call } = createWorld();
    await assert.rejects(
      call('notes.create', { project: 'acme/app', issueIid: 1, mergeRequestIid: 1, body: 'x' }),
      /exactly one of issueIid and mergeRequestIid/,
    );
    await assert.rejects(call('notes.list', { project: 'acme/app' }), { name: 'CapabilityError', code: 'invalid_arguments' });
  });
});

describe('labels and milestones', () => {
  test("of projects (with the ancestor groups') and of groups", async () => {
    const { sim, call } = createWorld();
    const label = await call<{ name: string; color: string }>('labels.create', {
      project: 'acme/app',
      attributes: { name: 'team::a', color: '#ff0000' },
    });
    assert.deepEqual([label.name, label.color], ['team::a', '#ff0000']);
    await call('labels.create', { group: 'acme', attributes: { name: 'org-wide' } });
    const projectLabels = await call<Page<{ name: string }>>('labels.list', { project: 'acme/app', all: false, perPage: 100 });
    assert.deepEqual(
      projectLabels.items.map((item) => item.name),
      ['bug', 'org-wide', 'priority::1', 'team::a', 'workflow::ready'],
    );
    const groupLabels = await call<{ name: string }[]>('labels.list', { group: 'acme', all: true });
    assert.deepEqual(
      groupLabels.map((item) => item.name),
      ['org-wide', 'priority::1'],
    );
    await assert.rejects(call('labels.list', { project: 'acme/app', group: 'acme' }), /exactly one of project and group/);

    const milestones = await call<Page<{ id: number; title: string }>>('milestones.list', { project: 'acme/app' });
    const sprint = milestones.items.find((item) => item.title === 'Sprint 1');
    assert.ok(sprint);
    assert.equal((await call<{ title: string }>('milestones.get', { project: 'acme/app', milestoneId: sprint.id })).title, 'Sprint 1');
    const q1 = (await call<Page<{ id: number; title: string }>>('milestones.list', { group: 'acme', query: { title: 'Q1' } })).items[0];
    assert.equal(q1?.title, 'Q1');
    assert.equal((await call<{ title: string }>('milestones.get', { group: 'acme', milestoneId: q1.id })).title, 'Q1');
    assert.ok([...sim.state.labels.values()].some((item) => item.name === 'team::a'));
  });
});

test('labels.create given a path where its owner goes: the run fails saying how to call it', async () => {
  const folder = workflowFolder({
    'label.ts': `import { gitlab, workflow } from 'autoflow';
export default workflow({
  name: 'label',
  permissions: { gitlab: { projects: ['demo/*'] } },
  // @ts-expect-error the owner is { project } or { group }; a workflow in JavaScript is not told so before it runs
  async run() { return gitlab.labels.create('demo/app', { name: 'triage' }); },
});`,
  });
  const env = await createTestEnv({ workflows: [folder.path('label.ts')], gitlab: demoSeed() });
  try {
    const run = await env.result(await env.start('label', {}));
    assert.equal(run.status, 'failed');
    assert.equal(
      run.error?.message,
      "gitlab.labels.create was called with invalid arguments: (arguments): give exactly one of project and group, as { project: 'grp/app' } " +
        "or { group: 'grp' } (an id or a full path): a path alone does not say which it is",
    );
  } finally {
    await env.close();
    folder.remove();
  }
});
