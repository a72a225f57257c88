import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type GitLabSimulator, type SeedDescription, type SimServer, createGitLabSimulator } from '../index.js';

/** The read-only pages a person reaches by clicking a `web_url`, as a browser gets them over loopback. */

const HOSTILE = '<script>alert(1)</script>';

const WORLD: SeedDescription = {
  users: ['alice', 'bob', { username: 'mallory', name: `Mallory ${HOSTILE}` }],
  groups: [{ path: 'acme', members: { alice: 'maintainer', bob: 'developer', mallory: 'developer' }, milestones: ['Q1'] }],
  projects: [
    {
      path: 'acme/app',
      labels: ['bug', { name: `<b>hot</b>`, color: '#d9534f', description: `"><img src=x onerror=alert(2)>` }],
      milestones: ['Sprint 1'],
      ci: [
        { name: 'build', stage: 'build' },
        { name: 'test', stage: 'test' },
      ],
    },
  ],
  tokens: { alice: 'alice-token' },
};

interface Page {
  status: number;
  headers: Headers;
  html: string;
}

async function open(url: string): Promise<Page> {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, html: await response.text() };
}

/** Every `web_url` in a REST answer, however deep. */
function webUrls(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(webUrls);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) => (key === 'web_url' && typeof item === 'string' ? [item] : webUrls(item)));
}

describe('web pages', () => {
  let sim: GitLabSimulator;
  let server: SimServer;
  let issueUrl: string;
  let mrUrl: string;
  const api = async (path: string): Promise<unknown> =>
    (await fetch(`${server.url}/api/v4${path}`, { headers: { 'PRIVATE-TOKEN': 'alice-token' } })).json();

  before(async () => {
    sim = createGitLabSimulator({ seed: WORLD });
    server = await sim.listen();
    const { actions } = sim;
    const issue = actions.createIssue('mallory', 'acme/app', {
      title: `Crash ${HOSTILE}`,
      description: `Steps:\n1. open <img src=x onerror=alert(3)>\n2. boom`,
      labels: ['bug', '<b>hot</b>'],
      assignees: ['bob'],
      milestone: 'Sprint 1',
    });
    actions.createNote('bob', 'acme/app', { issue: issue.iid }, `First, ${HOSTILE}`);
    actions.createNote('alice', 'acme/app', { issue: issue.iid }, 'Second\nwith a second line');
    actions.createMilestone('alice', { project: 'acme/app' }, `M ${HOSTILE}`);
    const mr = actions.openMergeRequest('bob', 'acme/app', {
      sourceBranch: 'fix-crash',
      title: 'Draft: Fix the crash',
      description: `Closes #${issue.iid}`,
      files: { 'crash.txt': 'fixed' },
    });
    actions.push('bob', 'acme/app', { branch: 'fix-crash', files: { 'more.txt': 'x' }, message: `More ${HOSTILE}` });
    issueUrl = ((await api(`/projects/acme%2Fapp/issues/${issue.iid}`)) as { web_url: string }).web_url;
    mrUrl = ((await api(`/projects/acme%2Fapp/merge_requests/${mr.iid}`)) as { web_url: string }).web_url;
  });
  after(() => server.close());

  test('every web_url the REST API hands out opens a page of the simulator', async () => {
    const pipelines = (await api('/projects/acme%2Fapp/pipelines')) as Array<{ id: number; sha: string }>;
    const [pipeline] = pipelines;
    assert.ok(pipeline, 'the pushes ran pipelines');
    const answers = await Promise.all(
      [
        '/projects/acme%2Fapp',
        '/projects/acme%2Fapp/issues',
        '/projects/acme%2Fapp/merge_requests/1',
        '/projects/acme%2Fapp/milestones',
        '/groups/acme',
        '/groups/acme/milestones',
        `/projects/acme%2Fapp/pipelines/${pipeline.id}`,
        `/projects/acme%2Fapp/pipelines/${pipeline.id}/jobs`,
        `/projects/acme%2Fapp/repository/commits/${pipeline.sha}`,
        '/users',
      ].map(api),
    );
    const urls = [...new Set(webUrls(answers))].sort();
    const kinds = new Set(urls.map((url) => /\/-\/(\w+)\//.exec(url)?.[1] ?? 'namespace'));
    assert.deepEqual([...kinds].sort(), ['commit', 'issues', 'jobs', 'merge_requests', 'milestones', 'namespace', 'pipelines']);
    for (const url of urls) {
      const page = await open(url);
      assert.equal(page.status, 200, url);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/, url);
      assert.match(page.html, /GitLab simulator — read-only view/, url);
    }
  });

  test('an issue: its facts, its description with its line breaks, its comments in order, a link back to the project', async () => {
    const { html } = await open(issueUrl);
    assert.match(html, /<h1>#1 Crash /);
    assert.match(html, /Steps:\n1\. open &lt;img src=x onerror=alert\(3\)&gt;\n2\. boom/);
    assert.match(html, /<dt>Assignees<\/dt>\s*<dd><a href="\/bob">/);
    assert.match(html, /<dt>Milestone<\/dt>\s*<dd><a href="\/acme\/app\/-\/milestones\/1">Sprint 1<\/a>/);
    assert.match(html, /<span class="label"[^>]*>bug<\/span/);
    assert.match(
      html,
      /<dt>Merge requests that close it<\/dt>\s*<dd><ul>\s*<li>\s*<a href="\/acme\/app\/-\/merge_requests\/1">!1 Draft: Fix the crash<\/a>/,
    );
    const first = html.indexOf('First, ');
    const second = html.indexOf('Second\nwith a second line');
    assert.ok(first > 0 && second > first, 'comments oldest first, line breaks kept');
    assert.match(
      html,
      /<article class="note" id="note_\d+">\s*<div>\s*<a href="\/bob">Bob[^<]*<span class="muted">@bob<\/span><\/a> <span class="muted">commented<\/span>\s*<time datetime="[^"]+Z">/,
    );
    assert.match(html, /<a href="\/acme\/app">← acme\/app<\/a>/);
    assert.equal((await open(`${server.url}/acme/app`)).status, 200);
  });

  test('a merge request: branches, state, draft, pipelines and the issues it closes', async () => {
    const { html } = await open(mrUrl);
    assert.match(html, /<dt>State<\/dt>\s*<dd><span class="badge opened">opened<\/span><\/dd>\s*<dt>Draft<\/dt>\s*<dd>yes<\/dd>/);
    assert.match(html, /<dt>Branches<\/dt>\s*<dd><code>fix-crash<\/code> into <code>main<\/code><\/dd>/);
    assert.match(html, /<dt>Closes<\/dt>\s*<dd><ul>\s*<li>\s*<a href="\/acme\/app\/-\/issues\/1">#1 Crash/);
    assert.match(html, /<h2>Pipelines<\/h2>\s*<ul>\s*<li>\s*<a href="\/acme\/app\/-\/pipelines\/\d+">/);
  });

  test('what the data says shows as text: escaped in elements and attributes, and a policy that runs nothing', async () => {
    const pages = await Promise.all(
      [issueUrl, `${server.url}/mallory`, `${server.url}/acme/app/-/milestones/2`, `${server.url}/acme/app`].map(open),
    );
    const branchHead = sim.state.requireProject('acme/app').repository.branches.get('fix-crash') ?? '';
    pages.push(await open(`${server.url}/acme/app/-/commit/${branchHead}`));
    for (const page of pages) {
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.html, /<script|<img|<b>/i);
      assert.match(page.html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    }
    const [issue] = pages;
    assert.match(issue?.html ?? '', /title="&quot;&gt;&lt;img src=x onerror=alert\(2\)&gt;"\s*>&lt;b&gt;hot&lt;\/b&gt;<\/span/);
  });

  test('an unknown path: a 404 page that says what exists; the API keeps its JSON 404', async () => {
    for (const path of ['/acme/app/-/issues/99', '/acme/app/-/wikis/home', '/nobody', '/acme/nothing', '/groups/nothing']) {
      const page = await open(`${server.url}${path}`);
      assert.equal(page.status, 404, path);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.ok(page.html.includes(`no page at <code>${path}</code>`), path);
      assert.match(page.html, /<a href="\/acme\/app">acme\/app<\/a>/, 'it lists the projects');
      assert.match(page.html, /<a href="\/groups\/acme">acme<\/a>/, 'and the groups');
    }
    const api404 = await fetch(`${server.url}/api/v4/nothing`, { headers: { 'PRIVATE-TOKEN': 'alice-token' } });
    assert.deepEqual([api404.status, await api404.json()], [404, { error: '404 Not Found' }]);
    const home = await open(`${server.url}/`);
    assert.equal(home.status, 200);
    assert.match(home.html, /<h1>Everything in the simulator<\/h1>/);
  });
});

test('pages link by path, so they work at whatever host the browser used, whatever baseUrl says', async () => {
  const sim = createGitLabSimulator({ seed: WORLD, baseUrl: 'http://gitlab.example.com' });
  const server = await sim.listen();
  try {
    sim.actions.createIssue('alice', 'acme/app', { title: 'Somewhere' });
    const { html } = await open(`${server.url}/acme/app/-/issues/1`);
    assert.match(html, /<a href="\/acme\/app">← acme\/app<\/a>/);
    assert.doesNotMatch(html, /gitlab\.example\.com/);
  } finally {
    await server.close();
  }
});
