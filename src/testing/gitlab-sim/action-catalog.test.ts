import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../../app/clocks.js';
import {
  SIMULATOR_ACTIONS,
  type SimulatorActionName,
  callSimulatorAction,
  isSimulatorAction,
  presentSimulatorResult,
  simulatorActionProblems,
} from './action-catalog.js';
import { createGitLabSimulator } from './index.js';
import { ACME, restClient } from './test-helpers.js';

/** The actions `autoflow simulate` and `/api/v1/simulator` offer: what they take, what they do, what they answer. */

/** ACME with issue #1 and merge request !1 in `acme/app`: the same number, two things. */
function world() {
  const sim = createGitLabSimulator({ clock: new VirtualClock(), seed: ACME });
  sim.actions.createIssue('alice', 'acme/app', { title: 'An issue', labels: ['workflow::backlog'] });
  sim.actions.openMergeRequest('bob', 'acme/app', { sourceBranch: 'fix', title: 'A fix', files: { 'fix.txt': 'x' } });
  const act = (name: SimulatorActionName, ...args: unknown[]) => {
    assert.deepEqual(simulatorActionProblems(name, args), [], `${name} takes ${JSON.stringify(args)}`);
    return presentSimulatorResult(sim.state, name, args, callSimulatorAction(sim.actions, name, args)) as Record<string, unknown>;
  };
  const project = sim.state.requireProject('acme/app');
  const labelsOf = (kind: 'issue' | 'mr') => {
    const item = kind === 'issue' ? sim.state.requireIssue(project, 1) : sim.state.requireMergeRequest(project, 1);
    return item.labelIds.map((id) => sim.state.labels.get(id)?.name).sort();
  };
  return { sim, act, labelsOf, as: (token: string) => restClient(sim.fetch, sim.state.baseUrl, token) };
}

describe('simulator actions for merge requests', () => {
  test('add-merge-request-labels labels merge request !1 and leaves issue #1 alone; add-labels does the reverse', () => {
    const { act, labelsOf } = world();
    assert.deepEqual(act('addMergeRequestLabels', 'bob', 'acme/app', 1, ['bug'])['labels'], ['bug']);
    assert.deepEqual([labelsOf('mr'), labelsOf('issue')], [['bug'], ['workflow::backlog']]);
    act('removeMergeRequestLabels', 'bob', 'acme/app', 1, ['bug']);
    act('addLabels', 'bob', 'acme/app', 1, ['team::b']);
    assert.deepEqual([labelsOf('mr'), labelsOf('issue')], [[], ['team::b', 'workflow::backlog']]);
  });

  test('update-, close- and reopen-merge-request change the merge request as the test API does', () => {
    const { act } = world();
    const updated = act('updateMergeRequest', 'bob', 'acme/app', 1, { title: 'Draft: A fix', addLabels: ['bug'], reviewers: ['alice'] });
    assert.deepEqual(
      [updated['title'], updated['labels'], (updated['reviewers'] as { username: string }[]).map((user) => user.username)],
      ['Draft: A fix', ['bug'], ['alice']],
    );
    assert.equal(act('closeMergeRequest', 'bob', 'acme/app', 1)['state'], 'closed');
    assert.equal(act('reopenMergeRequest', 'bob', 'acme/app', 1)['state'], 'opened');
    assert.equal(act('updateMergeRequest', 'bob', 'acme/app', 1, { state: 'close' })['state'], 'closed');
  });

  test("each usage line says whether its number is an issue's or a merge request's", () => {
    assert.equal(SIMULATOR_ACTIONS['addLabels'], 'actor project issue-iid ["label", …]');
    assert.equal(SIMULATOR_ACTIONS['addMergeRequestLabels'], 'actor project mr-iid ["label", …]');
    for (const name of ['closeMergeRequest', 'reopenMergeRequest', 'approveMergeRequest', 'unapproveMergeRequest', 'mergeMergeRequest'])
      assert.equal(SIMULATOR_ACTIONS[name], 'actor project mr-iid', name);
    assert.ok(!isSimulatorAction('startThread'), 'only the listed actions are offered');
  });

  test('an update refuses what a merge request does not have', () => {
    assert.deepEqual(simulatorActionProblems('updateMergeRequest', ['bob', 'acme/app', 1, { confidential: true }]), [
      'argument 4 ({"addLabels"?: [...], "reviewers"?: [...], "title"?: …, "state"?: "close"}) has the unknown key confidential (it takes title, description, labels, addLabels, removeLabels, assignees, milestone, state, reviewers), got {"confidential":true}',
    ]);
  });
});

describe('simulator action results', () => {
  test('are what the REST API answers for the same object, not the simulator records', async () => {
    const { sim, act, as } = world();
    const alice = as('alice-token');
    const bob = as('bob-token');

    const issue = act('setMilestone', 'alice', 'acme/app', 1, 'Sprint 1');
    assert.deepEqual(issue, (await alice.get('/projects/acme%2Fapp/issues/1')).body);
    assert.deepEqual([issue['labels'], (issue['milestone'] as { title: string }).title], [['workflow::backlog'], 'Sprint 1']);
    assert.ok(!('labelIds' in issue) && !('createdAt' in issue) && !('authorId' in issue), Object.keys(issue).join(', '));
    assert.match(String(issue['created_at']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    assert.deepEqual(
      act('addMergeRequestLabels', 'bob', 'acme/app', 1, ['bug']),
      (await bob.get('/projects/acme%2Fapp/merge_requests/1')).body,
    );
    assert.deepEqual(
      act('approveMergeRequest', 'bob', 'acme/app', 1),
      (await bob.get('/projects/acme%2Fapp/merge_requests/1/approvals')).body,
    );

    const note = act('createNote', 'carol', 'acme/app', { issue: 1 }, 'Seen');
    assert.deepEqual(note, (await alice.get(`/projects/acme%2Fapp/issues/1/notes/${String(note['id'])}`)).body);
    assert.equal(presentSimulatorResult(sim.state, 'createNote', ['alice', 'acme/app', { issue: 1 }, '/close'], null), null);

    const member = act('setMember', 'alice', { project: 'acme/app' }, 'erin', 'reporter');
    const erin = sim.state.requireUser('erin');
    assert.deepEqual(member, (await alice.get(`/projects/acme%2Fapp/members/${erin.id}`)).body);
    assert.equal(act('setMember', 'alice', { project: 'acme/app' }, 'erin', null), null);

    const milestone = act('createMilestone', 'alice', { project: 'acme/app' }, 'Sprint 9');
    assert.deepEqual(milestone, (await alice.get(`/projects/acme%2Fapp/milestones/${String(milestone['id'])}`)).body);
    const pipeline = act('createPipeline', 'alice', 'acme/app', 'main');
    assert.deepEqual(pipeline, (await alice.get(`/projects/acme%2Fapp/pipelines/${String(pipeline['id'])}`)).body);
    const commit = act('push', 'alice', 'acme/app', { branch: 'main', files: { 'b.txt': 'b' } });
    assert.deepEqual(commit, (await alice.get(`/projects/acme%2Fapp/repository/commits/${String(commit['id'])}`)).body);
    const deployment = act('deploy', 'alice', 'acme/app', { environment: 'staging', status: 'success' });
    assert.deepEqual(deployment, (await alice.get(`/projects/acme%2Fapp/deployments/${String(deployment['id'])}`)).body);
  });
});
