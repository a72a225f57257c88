import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { autoflow } from '../helpers/cli-process.js';
import { freePort, ServerProcess } from '../helpers/server-process.js';

/**
 * What a newcomer does after `npm start`: the server runs the examples with the built-in GitLab
 * simulator; something happens in GitLab; its real webhook reaches the server over HTTP and a
 * workflow changes the issue back in GitLab.
 */
test('a simulated GitLab change reaches a workflow by webhook and the workflow edits the issue', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-sim-'));
  const server = new ServerProcess({
    port: await freePort(),
    db: `sqlite:${join(dir, 'autoflow.db')}`,
    workflowsDir: fileURLToPath(new URL('../../examples', import.meta.url)),
    token: 'sim-test-api-token',
  });
  await server.start();
  try {
    const info = (await (await server.api('/api/v1/simulator')).json()) as { baseUrl: string; users: string[] };
    // Links are for browsers: the simulator is announced at the public address, localhost by default.
    assert.equal(info.baseUrl, `${server.url.replace('127.0.0.1', 'localhost')}/simulator/gitlab`);
    assert.ok(info.users.includes('alice'));

    const acted = await server.api('/api/v1/simulator/actions/setMilestone', {
      method: 'POST',
      body: JSON.stringify({ args: ['alice', 'demo/app', 1, 'Sprint 1'] }),
    });
    assert.equal(acted.status, 200, await acted.clone().text());

    let runs: Array<{ id: string; status: string; result?: unknown }> = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      runs = ((await (await server.api('/api/v1/runs?workflow=milestone-labels')).json()) as { runs: typeof runs }).runs;
      if (runs.some((run) => run.status !== 'running')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(
      runs.map((run) => [run.status, run.result]),
      [['completed', { label: 'workflow::ready for dev' }]],
    );
    const issue = (await (
      await fetch(`${server.url}/simulator/gitlab/api/v4/projects/demo%2Fapp/issues/1`, { headers: { 'PRIVATE-TOKEN': 'alice-token' } })
    ).json()) as { labels: string[] };
    assert.ok(issue.labels.includes('workflow::ready for dev'), issue.labels.join(', '));
    assert.ok(!issue.labels.includes('workflow::backlog'), 'the scoped label replaced the old one');

    const unknown = await server.api('/api/v1/simulator/actions/dropDatabase', { method: 'POST', body: '{}' });
    assert.equal(unknown.status, 400);

    const gitlab = async (path: string): Promise<unknown> =>
      (await fetch(`${server.url}/simulator/gitlab/api/v4${path}`, { headers: { 'PRIVATE-TOKEN': 'alice-token' } })).json();
    const cli = (...args: string[]) =>
      autoflow(['simulate', ...args], { cwd: dir, env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: 'sim-test-api-token' } });
    const bare = await cli('set-milestone');
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /setMilestone takes: actor project issue-iid "Milestone title" \(or null\)/);
    assert.match(bare.stderr, /argument 1 \(actor\) is missing/);
    const notAList = await cli('add-labels', 'alice', 'demo/app', '1', '{broken');
    assert.equal(notAList.code, 2);
    assert.match(notAList.stderr, /argument 4 \(\["label", …\]\) must be a JSON list, got "\{broken"/);
    const typo = await cli('set-milestones', 'alice');
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown simulator action 'set-milestones'; actions: create-issue, update-issue, /);
    const noted = await cli('create-note', 'bob', 'demo/app', '{"issue":1}', 'Seen, on it');
    assert.equal(noted.code, 0, noted.stderr);
    // Printed as GitLab's REST API answers, not as the simulator's record (authorId, createdAt in epoch ms).
    const printed = JSON.parse(noted.stdout) as Record<string, unknown>;
    assert.deepEqual([(printed['author'] as { username: string }).username, printed['noteable_iid']], ['bob', 1]);
    assert.match(String(printed['created_at']), /^\d{4}-\d\d-\d\dT/);
    assert.ok(!('authorId' in printed) && !('createdAt' in printed), noted.stdout);
    const notes = (await (
      await fetch(`${server.url}/simulator/gitlab/api/v4/projects/demo%2Fapp/issues/1/notes`, {
        headers: { 'PRIVATE-TOKEN': 'alice-token' },
      })
    ).json()) as Array<{ body: string; author: { username: string } }>;
    assert.ok(
      notes.some((note) => note.body === 'Seen, on it' && note.author.username === 'bob'),
      JSON.stringify(notes),
    );
    // A merge request is labelled and closed by actions of its own: !1 is not issue #1.
    const opened = await cli('open-merge-request', 'bob', 'demo/app', '{"sourceBranch":"fix","title":"Fix","files":{"fix.txt":"x"}}');
    assert.equal(opened.code, 0, opened.stderr);
    const mr = (JSON.parse(opened.stdout) as { iid: number }).iid;
    const issueLabels = async () => ((await gitlab(`/projects/demo%2Fapp/issues/${mr}`)) as { labels: string[] }).labels;
    const labelsBefore = await issueLabels();
    const labelled = await cli('add-merge-request-labels', 'bob', 'demo/app', String(mr), '["workflow::in review"]');
    assert.equal(labelled.code, 0, labelled.stderr);
    assert.deepEqual((JSON.parse(labelled.stdout) as { labels: string[] }).labels, ['workflow::in review']);
    const closed = await cli('close-merge-request', 'bob', 'demo/app', String(mr));
    assert.equal(closed.code, 0, closed.stderr);
    const { state, labels } = (await gitlab(`/projects/demo%2Fapp/merge_requests/${mr}`)) as { state: string; labels: string[] };
    assert.deepEqual([state, labels], ['closed', ['workflow::in review']]);
    assert.deepEqual(await issueLabels(), labelsBefore, 'the issue of the same number keeps its labels');

    const deployed = await cli('deploy', 'alice', 'demo/app', '{"environment":"production","status":"success"}');
    assert.equal(deployed.code, 0, deployed.stderr);
    const member = await cli('set-member', 'alice', '{"project":"demo/app"}', 'carol', 'developer');
    assert.equal(member.code, 0, member.stderr);
    const missing = await cli('close-issue', 'alice', 'demo/app', '999');
    assert.equal(missing.code, 1, 'GitLab refusing is a failure, not a usage error');
    assert.match(missing.stderr, /closeIssue failed: .*404|closeIssue failed: .*not found/i);
  } finally {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
