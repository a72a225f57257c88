import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../../app/clocks.js';
import { createGitLabSimulator } from './index.js';
import { ACME, restClient } from './test-helpers.js';

/** `order_by` of issue and merge request lists, and which of them GitLab pages by keyset. */

function setup() {
  const clock = new VirtualClock();
  const sim = createGitLabSimulator({ clock, seed: ACME });
  const alice = restClient(sim.fetch, sim.state.baseUrl, 'alice-token');
  const later = (minutes: number): void => clock.advanceTo(clock.now() + minutes * 60_000);
  return { sim, alice, later };
}

const iids = (body: unknown): number[] => (body as { iid: number }[]).map((item) => item.iid);

describe('order_by of issue lists', () => {
  test('due_date and weight order as GitLab does, issues without one last in either direction', async () => {
    const { sim, alice } = setup();
    sim.actions.createIssue('alice', 'acme/app', { title: 'undated', dueDate: null });
    sim.actions.createIssue('alice', 'acme/app', { title: 'late', dueDate: '2026-03-01' });
    sim.actions.createIssue('alice', 'acme/app', { title: 'soon', dueDate: '2026-01-20' });
    sim.actions.createNote('alice', 'acme/app', { issue: 2 }, '/weight 1');
    sim.actions.createNote('alice', 'acme/app', { issue: 3 }, '/weight 5');

    const byDue = await alice.get('/projects/acme%2Fapp/issues?order_by=due_date&sort=asc');
    assert.equal(byDue.status, 200);
    assert.deepEqual(iids(byDue.body), [3, 2, 1]);
    assert.deepEqual(iids((await alice.get('/projects/acme%2Fapp/issues?order_by=due_date&sort=desc')).body), [2, 3, 1]);
    assert.deepEqual(iids((await alice.get('/projects/acme%2Fapp/issues?order_by=weight&sort=desc')).body), [3, 2, 1]);
    assert.deepEqual(iids((await alice.get('/groups/acme/issues?order_by=weight&sort=asc')).body), [2, 3, 1]);
  });

  test('milestone_due orders by the due date of each issue’s milestone', async () => {
    const { sim, alice } = setup();
    sim.actions.createMilestone('alice', { project: 'acme/app' }, 'March', { dueDate: '2026-03-31' });
    sim.actions.createMilestone('alice', { project: 'acme/app' }, 'February', { dueDate: '2026-02-28' });
    sim.actions.createIssue('alice', 'acme/app', { title: 'no milestone' });
    sim.actions.createIssue('alice', 'acme/app', { title: 'march', milestone: 'March' });
    sim.actions.createIssue('alice', 'acme/app', { title: 'february', milestone: 'February' });

    const response = await alice.get('/projects/acme%2Fapp/issues?order_by=milestone_due&sort=asc');
    assert.deepEqual(iids(response.body), [3, 2, 1]);
  });

  test('orders GitLab takes but the simulator cannot reproduce are refused, naming the simulator', async () => {
    const { sim, alice } = setup();
    sim.actions.createIssue('alice', 'acme/app', { title: 'one' });
    for (const orderBy of ['label_priority', 'popularity', 'priority', 'relative_position']) {
      const response = await alice.get(`/projects/acme%2Fapp/issues?order_by=${orderBy}`);
      assert.equal(response.status, 400, orderBy);
      assert.match((response.body as { error: string }).error, new RegExp(`order_by=${orderBy} .*simulator does not emulate`));
    }
  });

  test('an order of the other list is invalid, as in GitLab', async () => {
    const { alice } = setup();
    const issues = await alice.get('/projects/acme%2Fapp/issues?order_by=merged_at');
    assert.deepEqual([issues.status, issues.body], [400, { error: 'order_by does not have a valid value' }]);
    const mergeRequests = await alice.get('/projects/acme%2Fapp/merge_requests?order_by=due_date');
    assert.deepEqual([mergeRequests.status, mergeRequests.body], [400, { error: 'order_by does not have a valid value' }]);
  });
});

describe('order_by of merge request lists', () => {
  test('merged_at orders by when each was merged, unmerged ones last', async () => {
    const { sim, alice, later } = setup();
    for (const branch of ['a', 'b', 'c']) {
      sim.actions.openMergeRequest('alice', 'acme/app', { sourceBranch: branch, title: branch, files: { [`${branch}.txt`]: branch } });
    }
    sim.actions.mergeMergeRequest('alice', 'acme/app', 3);
    later(5);
    sim.actions.mergeMergeRequest('alice', 'acme/app', 1);

    const asc = await alice.get('/projects/acme%2Fapp/merge_requests?order_by=merged_at&sort=asc');
    assert.equal(asc.status, 200);
    assert.deepEqual(iids(asc.body), [3, 1, 2]);
    assert.deepEqual(iids((await alice.get('/projects/acme%2Fapp/merge_requests?order_by=merged_at&sort=desc')).body), [1, 3, 2]);
  });
});

describe('keyset pagination', () => {
  test("a project's issues page by keyset: only a Link with a cursor, and an issue created meanwhile shifts nothing", async () => {
    const { sim, alice } = setup();
    for (let i = 1; i <= 5; i++) sim.actions.createIssue('alice', 'acme/app', { title: `Issue ${i}` });

    const first = await alice.get('/projects/acme%2Fapp/issues?pagination=keyset&order_by=created_at&sort=asc&per_page=2');
    assert.equal(first.status, 200);
    assert.deepEqual(iids(first.body), [1, 2]);
    assert.equal(first.headers.get('X-Page'), null, 'keyset pages have no offset headers');
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('Link') ?? '')?.[1];
    assert.ok(
      next !== undefined && new URL(next).searchParams.has('cursor'),
      `a next link with a cursor, got ${first.headers.get('Link')}`,
    );

    sim.actions.createIssue('alice', 'acme/app', { title: 'Issue 6' });
    const seen = [...iids(first.body)];
    let url: string | undefined = next;
    while (url !== undefined) {
      const response = await sim.fetch(url, { headers: { 'PRIVATE-TOKEN': 'alice-token' } });
      seen.push(...iids(await response.json()));
      url = /<([^>]+)>; rel="next"/.exec(response.headers.get('Link') ?? '')?.[1];
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  });

  test('group issue lists and merge request lists answer 405, as GitLab does where it has no keyset pagination', async () => {
    const { alice } = setup();
    for (const path of ['/groups/acme/issues', '/projects/acme%2Fapp/merge_requests', '/groups/acme/merge_requests']) {
      const response = await alice.get(`${path}?pagination=keyset&order_by=created_at&sort=asc`);
      assert.deepEqual(
        [response.status, response.body],
        [405, { error: 'Keyset pagination is not yet available for this type of request' }],
        path,
      );
    }
  });

  test('an issue order GitLab cannot page by keyset falls back to offset pages, as GitLab does', async () => {
    const { sim, alice } = setup();
    for (let i = 1; i <= 3; i++) sim.actions.createIssue('alice', 'acme/app', { title: `Issue ${i}` });
    const response = await alice.get('/projects/acme%2Fapp/issues?pagination=keyset&order_by=milestone_due&per_page=2');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('X-Next-Page'), '2');
  });
});
