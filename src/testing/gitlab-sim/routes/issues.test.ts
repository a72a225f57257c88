import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../../../app/clocks.js';
import { createGitLabSimulator } from '../index.js';
import type { SeedDescription } from '../seed.js';
import { ACME, restClient } from '../test-helpers.js';

/**
 * A public group `oss` with a public project and a private one in its subgroup `oss/tools`, a private
 * group beside it, and one user of each kind: maintainer, guest, outsider.
 */
const GROUPS: SeedDescription = {
  users: ['alice', 'dave', 'erin'],
  groups: [
    { path: 'oss', visibility: 'public', members: { alice: 'maintainer', dave: 'guest' }, labels: ['bug', 'docs'], milestones: ['v1'] },
    { path: 'oss/tools', visibility: 'public' },
    { path: 'secret', members: { alice: 'maintainer' } },
  ],
  projects: [{ path: 'oss/site', visibility: 'public' }, { path: 'oss/tools/cli', visibility: 'private' }, { path: 'secret/vault' }],
  tokens: { alice: 'alice-token', dave: 'dave-token', erin: 'erin-token' },
};

type Listed = { title: string; references: { full: string } }[];

/** Issues a minute apart: two in each project of `oss`, one of them confidential and one closed, and one in `secret`. */
function world() {
  const clock = new VirtualClock();
  const sim = createGitLabSimulator({ clock, seed: GROUPS });
  const as = (token: string) => restClient(sim.fetch, sim.state.baseUrl, token);
  const create = (project: string, title: string, change: Omit<Parameters<typeof sim.actions.createIssue>[2], 'title'> = {}) => {
    clock.advance(60_000);
    return sim.actions.createIssue('alice', project, { ...change, title });
  };
  create('oss/site', 'Site bug', { labels: ['bug'], milestone: 'v1' });
  create('oss/tools/cli', 'CLI bug', { labels: ['bug'] });
  create('oss/tools/cli', 'CLI docs', { labels: ['docs'] });
  create('oss/site', 'Site secret', { confidential: true });
  sim.actions.closeIssue('alice', 'oss/site', create('oss/site', 'Site closed').iid);
  create('secret/vault', 'Vault issue');
  return { sim, alice: as('alice-token'), dave: as('dave-token'), erin: as('erin-token') };
}

describe('GET /groups/:id/issues', () => {
  test('lists the issues of the projects of the group and its subgroups, newest first, by path or by id', async () => {
    const { sim, alice } = world();
    const titles = async (path: string): Promise<string[]> => ((await alice.get(path)).body as Listed).map((issue) => issue.title);
    assert.deepEqual(await titles('/groups/oss/issues'), ['Site closed', 'Site secret', 'CLI docs', 'CLI bug', 'Site bug']);
    assert.deepEqual(await titles('/groups/oss%2Ftools/issues'), ['CLI docs', 'CLI bug'], 'a subgroup lists only its own projects');
    assert.deepEqual(await titles(`/groups/${sim.state.requireGroup('oss/tools').id}/issues`), ['CLI docs', 'CLI bug']);
    const [first] = (await alice.get('/groups/oss%2Ftools/issues')).body as Listed;
    assert.equal(first?.references.full, 'oss/tools/cli#2', "each issue names its own project's path");
  });

  test('takes the filters of the project list, and pages like it', async () => {
    const { alice } = world();
    const titles = async (query: string): Promise<string[]> =>
      ((await alice.get(`/groups/oss/issues?${query}`)).body as Listed).map((issue) => issue.title).sort();
    assert.deepEqual(await titles('labels=bug'), ['CLI bug', 'Site bug']);
    assert.deepEqual(await titles('labels=bug&milestone=v1'), ['Site bug']);
    assert.deepEqual(await titles('state=opened&not[labels]=bug,docs'), ['Site secret']);
    assert.deepEqual(await titles('state=closed'), ['Site closed']);
    assert.deepEqual(await titles('labels=None&state=opened'), ['Site secret']);
    assert.deepEqual(await titles('created_before=2026-01-05T09:02:30Z'), ['CLI bug', 'Site bug']);
    assert.deepEqual(await titles('search=docs&in=title'), ['CLI docs']);
    const page = await alice.get('/groups/oss/issues?per_page=2&page=2&order_by=created_at&sort=asc');
    assert.deepEqual(
      (page.body as Listed).map((issue) => issue.title),
      ['CLI docs', 'Site secret'],
    );
    assert.deepEqual([page.headers.get('X-Total'), page.headers.get('X-Next-Page')], ['5', '3']);
    assert.equal((await alice.get('/groups/oss/issues?created_after=yesterday')).status, 400);
  });

  test('lists only what the caller may read: private projects and confidential issues are left out, a private group is 404', async () => {
    const { dave, erin } = world();
    const titles = async (client: typeof dave, path: string): Promise<string[]> =>
      ((await client.get(path)).body as Listed).map((issue) => issue.title).sort();
    assert.deepEqual(
      await titles(dave, '/groups/oss/issues'),
      ['CLI bug', 'CLI docs', 'Site bug', 'Site closed'],
      'a guest sees no confidential issue',
    );
    assert.deepEqual(await titles(erin, '/groups/oss/issues'), ['Site bug', 'Site closed'], 'an outsider sees public projects only');
    assert.deepEqual(await erin.get('/groups/secret/issues').then((r) => [r.status, r.body]), [404, { message: '404 Group Not Found' }]);
    assert.equal((await erin.get('/groups/nowhere/issues')).status, 404);
  });
});

describe('POST /projects/:id/issues/:iid/move', () => {
  /** acme/platform/api has an issue already; acme/app#1 has labels, a milestone, an assignee, a comment and a thread. */
  function moving() {
    const sim = createGitLabSimulator({ clock: new VirtualClock(), seed: ACME });
    const as = (token: string) => restClient(sim.fetch, sim.state.baseUrl, token);
    sim.actions.createIssue('alice', 'acme/platform/api', { title: 'Already there' });
    sim.actions.createIssue('bob', 'acme/app', {
      title: 'Belongs to the API',
      description: 'Timeouts',
      labels: ['bug', 'priority::1'],
      milestone: 'Q1',
      assignees: ['bob'],
    });
    sim.actions.createNote('carol', 'acme/app', { issue: 1 }, 'A comment');
    const thread = sim.actions.startThread('alice', 'acme/app', { issue: 1 }, 'A thread');
    sim.actions.reply('bob', 'acme/app', { issue: 1 }, thread.discussionId, 'A reply');
    const api = sim.state.requireProject('acme/platform/api');
    return { sim, api, alice: as('alice-token'), carol: as('carol-token'), dave: as('dave-token'), erin: as('erin-token') };
  }

  type Moved = {
    id: number;
    iid: number;
    project_id: number;
    state: string;
    author: { username: string };
    labels: string[];
    milestone: { title: string } | null;
    assignees: { username: string }[];
    references: { full: string };
    moved_to_id: number | null;
    created_at: string;
  };

  test('opens the issue in the target with a new iid, labels and milestone by name, notes and threads copied; the original is closed and points to it', async () => {
    const { alice, api } = moving();
    const original = (await alice.get('/projects/acme%2Fapp/issues/1')).body as Moved;
    const response = await alice.post('/projects/acme%2Fapp/issues/1/move', { to_project_id: api.id });
    assert.equal(response.status, 201);
    const moved = response.body as Moved;
    assert.deepEqual(
      [moved.project_id, moved.iid, moved.references.full, moved.state, moved.author.username, moved.created_at],
      [api.id, 2, 'acme/platform/api#2', 'opened', 'bob', original.created_at],
    );
    assert.deepEqual(moved.labels, ['priority::1'], "acme/app's own label `bug` does not exist in the target");
    assert.deepEqual([moved.milestone?.title, moved.assignees.map((user) => user.username)], ['Q1', ['bob']]);

    const threads = (
      (await alice.get('/projects/acme%2Fplatform%2Fapi/issues/2/discussions')).body as {
        individual_note: boolean;
        notes: { body: string; author: { username: string } }[];
      }[]
    ).map((thread) => [thread.individual_note, thread.notes.map((note) => `${note.author.username}: ${note.body}`)]);
    assert.deepEqual(threads, [
      [true, ['carol: A comment']],
      [false, ['alice: A thread', 'bob: A reply']],
    ]);

    const after = (await alice.get('/projects/acme%2Fapp/issues/1')).body as Moved;
    assert.deepEqual([after.state, after.moved_to_id], ['closed', moved.id]);
    assert.equal(((await alice.get('/projects/acme%2Fapp/issues/1/notes')).body as unknown[]).length, 3, 'the original keeps its notes');
    assert.deepEqual(await alice.post('/projects/acme%2Fapp/issues/1/move', { to_project_id: api.id }).then((r) => [r.status, r.body]), [
      400,
      { message: 'Cannot move issue due to insufficient permissions!' },
    ]);
  });

  test('needs Reporter in both projects; the same project, an unknown one or none is refused as GitLab does', async () => {
    const { sim, alice, carol, dave, erin, api } = moving();
    const move = (client: typeof alice, to: unknown) => client.post('/projects/acme%2Fapp/issues/1/move', { to_project_id: to });
    const denied = [400, { message: 'Cannot move issue due to insufficient permissions!' }];
    assert.deepEqual(await move(dave, api.id).then((r) => [r.status, r.body]), denied, 'a guest of both');
    const sandbox = sim.state.requireProject('erin/sandbox').id;
    assert.deepEqual(
      await move(carol, sandbox).then((r) => [r.status, r.body]),
      denied,
      'carol can read the public sandbox, not plan in it',
    );
    assert.deepEqual(await move(alice, 999).then((r) => [r.status, r.body]), denied);
    assert.deepEqual(await move(alice, sim.state.requireProject('acme/app').id).then((r) => [r.status, r.body]), [
      400,
      { message: 'Cannot move issue to project it originates from!' },
    ]);
    assert.deepEqual(await alice.post('/projects/acme%2Fapp/issues/1/move', {}).then((r) => [r.status, r.body]), [
      400,
      { error: 'to_project_id is missing' },
    ]);
    assert.deepEqual(await move(erin, api.id).then((r) => [r.status, r.body]), [404, { message: '404 Project Not Found' }]);
    assert.equal(sim.state.requireIssue(sim.state.requireProject('acme/app'), 1).state, 'opened', 'nothing moved');
    assert.equal((await move(carol, api.id)).status, 201, 'a Reporter of both may');
  });
});
