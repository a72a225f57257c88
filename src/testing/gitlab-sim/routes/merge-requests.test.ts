import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../../../app/clocks.js';
import { createGitLabSimulator } from '../index.js';
import type { SeedDescription } from '../seed.js';
import { ACME, restClient } from '../test-helpers.js';

/** A public group `oss` with a public project and a private one in its subgroup `oss/tools`; a maintainer and an outsider. */
const GROUPS: SeedDescription = {
  users: ['alice', 'erin'],
  groups: [
    { path: 'oss', visibility: 'public', members: { alice: 'maintainer' }, labels: ['bug'] },
    { path: 'oss/tools', visibility: 'public' },
  ],
  projects: [
    { path: 'oss/site', visibility: 'public', branches: ['stable'] },
    { path: 'oss/tools/cli', visibility: 'private' },
    { path: 'erin/fork', visibility: 'public' },
  ],
  tokens: { alice: 'alice-token', erin: 'erin-token' },
};

type Listed = { title: string; references: { full: string } }[];

/** Merge requests a minute apart: a draft and a fix into `stable` in the public project, a labelled one and a closed one in the private one. */
function world() {
  const clock = new VirtualClock();
  const sim = createGitLabSimulator({ clock, seed: GROUPS });
  const as = (token: string) => restClient(sim.fetch, sim.state.baseUrl, token);
  const open = (actor: string, project: string, title: string, extra: { targetBranch?: string; labels?: string[] } = {}) => {
    clock.advance(60_000);
    return sim.actions.openMergeRequest(actor, project, {
      sourceBranch: title.replace(/\W+/g, '-'),
      title,
      files: { [`${title}.txt`]: title },
      ...extra,
    });
  };
  open('alice', 'oss/site', 'Draft: site redesign');
  open('alice', 'oss/site', 'Site hotfix', { targetBranch: 'stable' });
  open('alice', 'oss/tools/cli', 'CLI fix', { labels: ['bug'] });
  const dropped = open('alice', 'oss/tools/cli', 'CLI dropped');
  sim.actions.updateMergeRequest('alice', 'oss/tools/cli', dropped.iid, { state: 'close' });
  open('erin', 'erin/fork', 'Elsewhere');
  return { sim, alice: as('alice-token'), erin: as('erin-token') };
}

describe('GET /groups/:id/merge_requests', () => {
  test('lists the merge requests of the projects of the group and its subgroups, by path or by id, each naming its project', async () => {
    const { sim, alice } = world();
    const listed = async (path: string): Promise<string[]> =>
      ((await alice.get(path)).body as Listed).map((mr) => `${mr.references.full} ${mr.title}`);
    assert.deepEqual(await listed('/groups/oss/merge_requests'), [
      'oss/tools/cli!2 CLI dropped',
      'oss/tools/cli!1 CLI fix',
      'oss/site!2 Site hotfix',
      'oss/site!1 Draft: site redesign',
    ]);
    assert.deepEqual(await listed(`/groups/${sim.state.requireGroup('oss/tools').id}/merge_requests`), [
      'oss/tools/cli!2 CLI dropped',
      'oss/tools/cli!1 CLI fix',
    ]);
    const simple = (await alice.get('/groups/oss%2Ftools/merge_requests?view=simple&state=opened')).body as {
      title: string;
      web_url: string;
    }[];
    assert.deepEqual(
      simple.map((mr) => [mr.title, mr.web_url]),
      [['CLI fix', `${sim.state.baseUrl}/oss/tools/cli/-/merge_requests/1`]],
    );
  });

  test('takes the filters of the project list', async () => {
    const { alice } = world();
    const titles = async (query: string): Promise<string[]> =>
      ((await alice.get(`/groups/oss/merge_requests?${query}`)).body as Listed).map((mr) => mr.title).sort();
    assert.deepEqual(await titles('state=opened&wip=yes'), ['Draft: site redesign']);
    assert.deepEqual(await titles('state=opened&wip=no'), ['CLI fix', 'Site hotfix']);
    assert.deepEqual(await titles('state=closed'), ['CLI dropped']);
    assert.deepEqual(await titles('labels=bug'), ['CLI fix']);
    assert.deepEqual(await titles('target_branch=stable'), ['Site hotfix']);
    assert.deepEqual(await titles('source_branch=CLI-fix'), ['CLI fix']);
    assert.deepEqual(await titles('created_after=2026-01-05T09:02:30Z&order_by=created_at&sort=asc'), ['CLI dropped', 'CLI fix']);
    assert.equal((await alice.get('/groups/oss/merge_requests?wip=maybe')).status, 400);
  });

  test("an outsider sees only the public projects' merge requests", async () => {
    const { erin } = world();
    const titles = ((await erin.get('/groups/oss/merge_requests')).body as Listed).map((mr) => mr.title);
    assert.deepEqual(titles, ['Site hotfix', 'Draft: site redesign']);
  });
});

describe('approvals', () => {
  /** ACME's `acme/app` with a merge request of Bob's and a webhook whose deliveries are kept (the receiver answers 200). */
  function approvable() {
    const sim = createGitLabSimulator({ clock: new VirtualClock(), seed: ACME, fetch: () => Promise.resolve(new Response(null)) });
    sim.webhooks.add({ project: 'acme/app', url: 'http://hooks.test/gitlab', events: ['merge_requests_events'] });
    const mr = sim.actions.openMergeRequest('bob', 'acme/app', { sourceBranch: 'fix', title: 'Fix', files: { 'fix.txt': 'x' } });
    /** Each Merge Request Hook since the last call: its action and who acted. */
    let seen = 0;
    const hooks = async () => {
      await sim.webhooks.idle();
      const deliveries = sim.webhooks.deliveries().slice(seen);
      seen += deliveries.length;
      return deliveries.map(({ payload }) => {
        const { object_attributes, user } = payload as { object_attributes: { action: string }; user: { username: string } };
        return `${object_attributes.action} by ${user.username}`;
      });
    };
    const path = `/projects/acme%2Fapp/merge_requests/${mr.iid}`;
    return { sim, mr, hooks, path, as: (token: string) => restClient(sim.fetch, sim.state.baseUrl, token) };
  }

  test('each approval sends one Merge Request Hook with action "approved", as GitLab Free does, naming the approver', async () => {
    const { hooks, path, as } = approvable();
    await hooks();
    assert.equal((await as('alice-token').post(`${path}/approve`)).status, 201);
    assert.equal((await as('bob-token').post(`${path}/approve`)).status, 201);
    // Free has no required approvals: every approval leaves none left, so GitLab sends `approved`, never `approval` (Premium's, while approvals are still needed).
    assert.deepEqual(await hooks(), ['approved by alice', 'approved by bob']);
  });

  test('POST /unapprove takes back an approval and sends action "unapproved"; 404 without one, as GitLab answers', async () => {
    const { sim, mr, hooks, path, as } = approvable();
    const alice = as('alice-token');
    await alice.post(`${path}/approve`);
    await hooks();
    const taken = await alice.post(`${path}/unapprove`);
    const approvals = taken.body as { approved: boolean; approved_by: unknown[] };
    assert.deepEqual([taken.status, approvals.approved, approvals.approved_by], [201, false, []]);
    assert.deepEqual(await hooks(), ['unapproved by alice']);
    assert.deepEqual(mr.approvedByIds, []);

    const again = await alice.post(`${path}/unapprove`);
    assert.deepEqual([again.status, again.body], [404, { message: '404 Not found' }]);
    assert.equal((await as('carol-token').post(`${path}/unapprove`)).status, 403, 'a Reporter may not approve, nor take an approval back');
    sim.actions.approveMergeRequest('alice', 'acme/app', mr.iid);
    sim.actions.unapproveMergeRequest('alice', 'acme/app', mr.iid);
    assert.deepEqual(await hooks(), ['approved by alice', 'unapproved by alice']);
  });
});
