import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEmbeddedGitLab } from '../../testing/embedded-gitlab.js';
import { serve } from '../serve.js';
import { createFakeOperations, createMemoryLogger } from '../testing/fake-operations.js';
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
