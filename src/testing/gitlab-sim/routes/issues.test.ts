import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../../../app/clocks.js';
import { createGitLabSimulator } from '../index.js';
import type { SeedDescription } from '../seed.js';
import { restClient } from '../test-helpers.js';

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
