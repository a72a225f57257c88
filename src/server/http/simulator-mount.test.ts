import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEmbeddedGitLab } from '../../testing/embedded-gitlab.js';
import { serve } from '../serve.js';
import { createFakeOperations, createMemoryLogger } from '../testing/fake-operations.js';
import { call } from '../testing/request.js';
import { createApp } from './app.js';

test("a server in simulator mode serves the page an issue's web_url points at, below /simulator/gitlab", async () => {
  const gitlab = createEmbeddedGitLab();
  const server = await serve(createApp({ operations: createFakeOperations(), logger: createMemoryLogger(), gitlab }), {
    port: 0,
    host: '127.0.0.1',
  });
  try {
    gitlab.attach(server.url);
    const issue = (await (
      await fetch(`${server.url}/simulator/gitlab/api/v4/projects/demo%2Fapp/issues/1`, { headers: { 'PRIVATE-TOKEN': 'alice-token' } })
    ).json()) as { title: string; web_url: string };
    assert.equal(issue.web_url, `${server.url}/simulator/gitlab/demo/app/-/issues/1`);

    const page = await fetch(issue.web_url);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /GitLab simulator — read-only view/);
    assert.ok(html.includes(`<h1>#1 ${issue.title}</h1>`));
    assert.match(html, /<a href="\/simulator\/gitlab\/demo\/app">← demo\/app<\/a>/, 'links keep the mount prefix');
    assert.equal((await fetch(`${server.url}/simulator/gitlab/demo/app`)).status, 200);

    const missing = await fetch(`${server.url}/simulator/gitlab/demo/app/-/issues/99`);
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /There is no page at <code>\/simulator\/gitlab\/demo\/app\/-\/issues\/99<\/code>/);
    const unknownApi = await fetch(`${server.url}/simulator/gitlab/api/v4/nothing`, { headers: { 'PRIVATE-TOKEN': 'alice-token' } });
    assert.deepEqual(
      [unknownApi.status, await unknownApi.json()],
      [404, { error: '404 Not Found' }],
      "GitLab's own 404, as outside the server",
    );
  } finally {
    await server.close();
    await gitlab.close();
  }
});

test('a simulator action refuses keys it does not take and values of the wrong kind, instead of ignoring them or failing inside', async () => {
  const gitlab = createEmbeddedGitLab();
  const app = createApp({ operations: createFakeOperations(), logger: createMemoryLogger(), gitlab });
  try {
    const act = async (name: string, args: unknown[]) => {
      const response = await call(app, 'POST', `/api/v1/simulator/actions/${name}`, { body: { args } });
      return { status: response.status, issues: response.body.error?.issues ?? [] };
    };
    assert.deepEqual(await act('updateIssue', ['alice', 'demo/app', 1, { state: 'closed' }]), {
      status: 400,
      issues: [
        'argument 4 ({"addLabels"?: [...], "milestone"?: …, "state"?: "close"}) has state, which must be "close" or "reopen", got {"state":"closed"}',
      ],
    });
    const typo = await act('openMergeRequest', ['alice', 'demo/app', { source_branch: 'fix', title: 'Fix' }]);
    assert.equal(typo.status, 400);
    assert.match(typo.issues[0] ?? '', /has sourceBranch, which is missing, got /);
    assert.match(typo.issues[1] ?? '', /has the unknown key source_branch \(it takes sourceBranch, targetBranch, title, /);
    assert.match(
      (await act('createIssue', ['alice', 'demo/app', { title: 'x', labels: 'bug' }])).issues[0] ?? '',
      /has labels, which must be a JSON list of names/,
    );
    assert.match(
      (await act('createNote', ['alice', 'demo/app', { iid: 1 }, 'hi'])).issues[0] ?? '',
      /must be \{"issue": iid\} or \{"mergeRequest": iid\}/,
    );
    const issue = gitlab.simulator.state.requireIssue(gitlab.simulator.state.requireProject('demo/app'), 1);
    const [state, labels] = [issue.state, issue.labelIds.length];
    assert.equal((await act('updateIssue', ['alice', 'demo/app', 1, { state: 'close', addLabels: ['audited'] }])).status, 200);
    assert.deepEqual([state, issue.state], ['opened', 'closed'], 'nothing refused was applied before');
    assert.equal(issue.labelIds.length, labels + 1);
  } finally {
    await gitlab.close();
  }
});
