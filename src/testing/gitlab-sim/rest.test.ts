import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../../app/clocks.js';
import { createGitLabSimulator } from './index.js';
import { ACME, restClient } from './test-helpers.js';

/** REST behaviour a GitLab client relies on: pagination, auth, errors, scoped labels, inherited membership, merging. */

function setup() {
  const sim = createGitLabSimulator({ clock: new VirtualClock(), seed: ACME });
  const as = (token?: string) => restClient(sim.fetch, sim.state.baseUrl, token);
  return {
    sim,
    alice: as('alice-token'),
    bob: as('bob-token'),
    carol: as('carol-token'),
    dave: as('dave-token'),
    erin: as('erin-token'),
    anonymous: as(),
  };
}

const labelsOf = (body: unknown): string[] => (body as { labels: string[] }).labels;

describe('pagination', () => {
  test('headers follow GitLab, and following Link rel="next" visits every item once', async () => {
    const { sim, alice } = setup();
    for (let i = 1; i <= 45; i++) sim.actions.createIssue('alice', 'acme/app', { title: `Issue ${i}` });

    const first = await alice.get('/projects/acme%2Fapp/issues?per_page=20&state=opened');
    assert.equal(first.status, 200);
    const header = (name: string): string | null => first.headers.get(name);
    assert.deepEqual(['X-Total', 'X-Total-Pages', 'X-Page', 'X-Per-Page', 'X-Next-Page', 'X-Prev-Page'].map(header), [
      '45',
      '3',
      '1',
      '20',
      '2',
      '',
    ]);
    assert.match(header('Link') ?? '', /<[^>]*[?&]page=2[^>]*>; rel="next"/);
    assert.match(header('Link') ?? '', /<[^>]*[?&]page=3[^>]*>; rel="last"/);
    assert.match(header('Link') ?? '', /state=opened/, 'other query parameters are kept in the links');

    const seen: number[] = [];
    let url: string | undefined = `${sim.state.baseUrl}/api/v4/projects/acme%2Fapp/issues?per_page=20`;
    while (url) {
      const response = await sim.fetch(url, { headers: { 'PRIVATE-TOKEN': 'alice-token' } });
      seen.push(...((await response.json()) as { iid: number }[]).map((issue) => issue.iid));
      url = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
    }
    assert.equal(seen.length, 45);
    assert.equal(new Set(seen).size, 45);
    assert.deepEqual(seen.slice(0, 2), [45, 44], 'newest first by default');
  });

  test('per_page is capped at 100 and a page past the end is empty', async () => {
    const { alice } = setup();
    const capped = await alice.get('/projects/acme%2Fapp/labels?per_page=500');
    assert.equal(capped.headers.get('X-Per-Page'), '100');
    const past = await alice.get('/projects/acme%2Fapp/labels?page=9');
    assert.deepEqual(past.body, []);
    assert.equal(past.headers.get('X-Next-Page'), '');
    assert.equal(past.headers.get('X-Prev-Page'), '');
  });
});

describe('search', () => {
  test('`search` matches title and description, or only those `in` names', async () => {
    const { sim, alice } = setup();
    sim.actions.createIssue('alice', 'acme/app', { title: 'Needle in the title' });
    sim.actions.createIssue('alice', 'acme/app', { title: 'Plain', description: 'a needle in the description' });
    const titles = async (query: string): Promise<string[]> =>
      ((await alice.get(`/projects/acme%2Fapp/issues?${query}`)).body as { title: string }[]).map((issue) => issue.title).sort();
    assert.deepEqual(await titles('search=needle'), ['Needle in the title', 'Plain']);
    assert.deepEqual(await titles('search=needle&in=description'), ['Plain']);
    assert.deepEqual(await titles('search=needle&in=title'), ['Needle in the title']);
    assert.deepEqual(await titles('search=needle&in=title,description'), ['Needle in the title', 'Plain']);
  });

  test('`not[labels]` leaves out what has any of them, and `wip` chooses drafts or the others', async () => {
    const { sim, alice } = setup();
    sim.actions.createIssue('alice', 'acme/app', { title: 'Bug', labels: ['bug'] });
    sim.actions.createIssue('alice', 'acme/app', { title: 'Bug in dev', labels: ['bug', 'workflow::in dev'] });
    sim.actions.createIssue('alice', 'acme/app', { title: 'Backlog', labels: ['workflow::backlog'] });
    const titles = async (query: string): Promise<string[]> =>
      ((await alice.get(`/projects/acme%2Fapp/issues?${query}`)).body as { title: string }[]).map((issue) => issue.title).sort();
    assert.deepEqual(await titles('not[labels]=workflow::in dev'), ['Backlog', 'Bug']);
    assert.deepEqual(await titles('not[labels]=bug,workflow::backlog'), []);
    assert.deepEqual(await titles('labels=bug&not[labels]=workflow::in dev'), ['Bug']);

    sim.actions.openMergeRequest('bob', 'acme/app', { sourceBranch: 'a', title: 'Draft: half done', files: { 'a.txt': 'a' } });
    sim.actions.openMergeRequest('bob', 'acme/app', { sourceBranch: 'b', title: 'Ready', files: { 'b.txt': 'b' } });
    const mergeRequests = async (query: string): Promise<string[]> =>
      ((await alice.get(`/projects/acme%2Fapp/merge_requests?${query}`)).body as { title: string }[]).map((mr) => mr.title).sort();
    assert.deepEqual(await mergeRequests('wip=yes'), ['Draft: half done']);
    assert.deepEqual(await mergeRequests('wip=no'), ['Ready']);
    assert.equal((await alice.get('/projects/acme%2Fapp/merge_requests?wip=maybe')).status, 400);
  });
});

describe('authentication and access', () => {
  test('no token, an unknown token: 401 Unauthorized', async () => {
    const { sim, anonymous } = setup();
    assert.deepEqual(await anonymous.get('/user').then((r) => [r.status, r.body]), [401, { message: '401 Unauthorized' }]);
    assert.equal((await restClient(sim.fetch, sim.state.baseUrl, 'nope').get('/user')).status, 401);
  });

  test('Authorization: Bearer works like PRIVATE-TOKEN', async () => {
    const { sim } = setup();
    const response = await sim.fetch('/api/v4/user', { headers: { Authorization: 'Bearer bob-token' } });
    assert.equal(((await response.json()) as { username: string }).username, 'bob');
  });

  test('a private project is 404 to non-members, never 403; a public one is readable', async () => {
    const { erin, bob } = setup();
    assert.deepEqual(await erin.get('/projects/acme%2Fapp').then((r) => [r.status, r.body]), [404, { message: '404 Project Not Found' }]);
    assert.equal((await erin.get('/projects/acme%2Fapp/issues')).status, 404);
    assert.equal((await bob.get('/projects/erin%2Fsandbox')).status, 200);
  });

  test('a private group is readable by a member of one of its projects, subgroups’ included, and shows what that member can read', async () => {
    const { sim, carol, erin } = setup();
    sim.seed({ projects: [{ path: 'acme/hidden' }] });
    sim.actions.createIssue('alice', 'acme/app', { title: 'App issue' });
    sim.actions.createIssue('alice', 'acme/hidden', { title: 'Hidden issue' });
    const paths = (body: unknown, key: 'full_path' | 'path_with_namespace'): string[] =>
      (body as Record<string, string>[]).map((item) => item[key] ?? '').sort();

    // carol is a member of acme/app and acme/platform/api only.
    const group = await carol.get('/groups/acme');
    assert.equal(group.status, 200);
    assert.deepEqual(paths((group.body as { projects: unknown }).projects, 'path_with_namespace'), ['acme/app']);
    assert.equal((await carol.get('/groups/acme%2Fplatform')).status, 200);
    assert.deepEqual(paths((await carol.get('/groups')).body, 'full_path'), ['acme', 'acme/platform']);
    assert.deepEqual(paths((await carol.get('/groups/acme/subgroups')).body, 'full_path'), ['acme/platform']);
    assert.deepEqual(paths((await carol.get('/groups/acme/projects?include_subgroups=true')).body, 'path_with_namespace'), [
      'acme/app',
      'acme/platform/api',
    ]);
    assert.deepEqual(
      ((await carol.get('/groups/acme/issues')).body as { title: string }[]).map((issue) => issue.title),
      ['App issue'],
    );
    assert.equal((await carol.post('/groups/acme/labels', { name: 'new', color: '#428BCA' })).status, 403, 'seen, not planned');

    assert.deepEqual(await erin.get('/groups/acme').then((r) => [r.status, r.body]), [404, { message: '404 Group Not Found' }]);
    assert.deepEqual(paths((await erin.get('/groups')).body, 'full_path'), []);
  });

  test('a project is found by id and by URL-encoded path alike', async () => {
    const { alice } = setup();
    const byPath = (await alice.get('/projects/acme%2Fplatform%2Fapi')).body as { id: number; path_with_namespace: string };
    assert.equal(byPath.path_with_namespace, 'acme/platform/api');
    assert.deepEqual((await alice.get(`/projects/${byPath.id}`)).body, byPath);
  });

  test('roles: a guest may open issues but not label them; a developer may not merge into the protected default branch', async () => {
    const { sim, dave, bob } = setup();
    const opened = await dave.post('/projects/acme%2Fapp/issues', { title: 'From a guest', labels: 'bug' });
    assert.equal(opened.status, 201);
    assert.deepEqual(labelsOf(opened.body), [], 'GitLab ignores planning fields from guests');
    sim.actions.openMergeRequest('bob', 'acme/app', { sourceBranch: 'feature', title: 'Feature', files: { 'a.txt': 'a' } });
    assert.deepEqual(await bob.put('/projects/acme%2Fapp/merge_requests/1/merge').then((r) => [r.status, r.body]), [
      401,
      { message: '401 Unauthorized' },
    ]);
  });
});

describe('error shapes', () => {
  test('GitLab’s 400, 404 and 409 bodies', async () => {
    const { alice } = setup();
    assert.deepEqual((await alice.post('/projects/acme%2Fapp/issues', {})).body, { error: 'title is missing' });
    const issue = (await alice.post('/projects/acme%2Fapp/issues', { title: 'x' })).body as { iid: number };
    assert.deepEqual((await alice.put(`/projects/acme%2Fapp/issues/${issue.iid}`, { title: ' ' })).body, {
      message: { title: ["can't be blank"] },
    });
    assert.deepEqual((await alice.put(`/projects/acme%2Fapp/issues/${issue.iid}`, { state_event: 'explode' })).body, {
      error: 'state_event does not have a valid value',
    });
    assert.deepEqual(await alice.get('/projects/acme%2Fapp/issues/999').then((r) => [r.status, r.body]), [
      404,
      { message: '404 Not found' },
    ]);
    assert.deepEqual(await alice.post('/projects/acme%2Fapp/labels', { name: 'bug', color: '#ff0000' }).then((r) => [r.status, r.body]), [
      409,
      { message: 'Label already exists' },
    ]);
    assert.deepEqual((await alice.get('/no/such/route')).body, { error: '404 Not Found' });
  });
});

describe('scoped labels', () => {
  test('a label replaces the one of the same scope; the scope is what precedes the last ::', async () => {
    const { alice } = setup();
    const issue = (
      await alice.post('/projects/acme%2Fapp/issues', { title: 'Scoped', labels: 'workflow::backlog,team::a::one,team::b,bug' })
    ).body as { iid: number };
    const path = `/projects/acme%2Fapp/issues/${issue.iid}`;
    assert.deepEqual(labelsOf((await alice.put(path, { add_labels: 'workflow::ready' })).body), [
      'bug',
      'team::a::one',
      'team::b',
      'workflow::ready',
    ]);
    assert.deepEqual(
      labelsOf((await alice.put(path, { add_labels: 'team::a::two' })).body),
      ['bug', 'team::a::two', 'team::b', 'workflow::ready'],
      'team::a::two replaces team::a::one, not team::b',
    );
    assert.deepEqual(
      labelsOf((await alice.put(path, { labels: 'workflow::backlog,workflow::in dev' })).body),
      ['workflow::in dev'],
      'within one request the last of a scope wins',
    );
    assert.deepEqual(
      labelsOf((await alice.put(path, { remove_labels: 'workflow::in dev', add_labels: 'priority::1' })).body),
      ['priority::1'],
      'group labels take part too',
    );
  });

  test('actions go through the same rule', () => {
    const { sim } = setup();
    const issue = sim.actions.createIssue('alice', 'acme/app', { title: 'A', labels: ['workflow::backlog'] });
    sim.actions.addLabels('alice', 'acme/app', issue.iid, ['workflow::ready']);
    assert.deepEqual(
      issue.labelIds.map((id) => sim.state.labels.get(id)?.name),
      ['workflow::ready'],
    );
  });
});

describe('membership', () => {
  test('members/all adds inherited members, the highest access level winning', async () => {
    const { alice, bob } = setup();
    const levels = (body: unknown): Record<string, number> =>
      Object.fromEntries((body as { username: string; access_level: number }[]).map((m) => [m.username, m.access_level]));
    assert.deepEqual(levels((await alice.get('/projects/acme%2Fplatform%2Fapi/members')).body), { alice: 10, carol: 20 });
    assert.deepEqual(levels((await alice.get('/projects/acme%2Fplatform%2Fapi/members/all')).body), {
      alice: 40,
      bob: 30,
      carol: 20,
      dave: 10,
    });
    assert.deepEqual(levels((await alice.get('/groups/acme%2Fplatform/members/all')).body), { alice: 40, bob: 30, dave: 10 });
    assert.equal((await bob.get('/projects/acme%2Fplatform%2Fapi')).status, 200, 'inherited membership grants access');
    assert.equal(((await alice.get('/projects/acme%2Fplatform%2Fapi/members/all/3')).body as { access_level: number }).access_level, 30);
  });
});

describe('merge requests', () => {
  test('merging into the default branch closes the issues its description names', async () => {
    const { sim, alice } = setup();
    sim.actions.createIssue('alice', 'acme/app', { title: 'One' });
    sim.actions.createIssue('alice', 'acme/app', { title: 'Two' });
    const mr = sim.actions.openMergeRequest('bob', 'acme/app', {
      sourceBranch: 'fix',
      title: 'Fix',
      description: 'Closes #1 and acme/app#2',
      files: { 'fix.txt': 'fixed' },
    });
    assert.deepEqual(
      ((await alice.get(`/projects/acme%2Fapp/merge_requests/${mr.iid}/closes_issues`)).body as { iid: number }[]).map((i) => i.iid),
      [1, 2],
    );
    assert.equal((await alice.put(`/projects/acme%2Fapp/merge_requests/${mr.iid}/merge`, { sha: 'f'.repeat(40) })).status, 409);
    const merged = await alice.put(`/projects/acme%2Fapp/merge_requests/${mr.iid}/merge`, { should_remove_source_branch: true });
    assert.equal((merged.body as { state: string }).state, 'merged');
    assert.equal((await alice.put(`/projects/acme%2Fapp/merge_requests/${mr.iid}/merge`)).status, 405);
    for (const iid of [1, 2]) {
      const issue = (await alice.get(`/projects/acme%2Fapp/issues/${iid}`)).body as { state: string; closed_by: { username: string } };
      assert.deepEqual([issue.state, issue.closed_by.username], ['closed', 'alice']);
      assert.deepEqual(
        ((await alice.get(`/projects/acme%2Fapp/issues/${iid}/closed_by`)).body as { iid: number }[]).map((m) => m.iid),
        [mr.iid],
      );
    }
    const file = await alice.get('/projects/acme%2Fapp/repository/files/fix.txt/raw?ref=main');
    assert.equal(file.body, 'fixed');
    assert.equal((await alice.get('/projects/acme%2Fapp/repository/branches/fix')).status, 404, 'source branch removed');
  });
});
