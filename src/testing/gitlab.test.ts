import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { autoflow } from '../../test/helpers/cli-process.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createTestEnv, demoSeed } from './index.js';

/** DESIGN.md §4's example: an issue moved to a milestone gets the matching workflow label. */
const folder = workflowFolder({
  'milestone-labels.ts': `import { gitlab, workflow } from 'autoflow';
interface IssueEvent { data: { project: { id: number }; object_attributes: { iid: number } } }
export default workflow({
  name: 'milestone-labels',
  triggers: [{ event: 'com.gitlab.events.issue_updated', filter: { 'changes.milestone_id': { exists: true } } }],
  permissions: { gitlab: { projects: ['demo/*'] } },
  async run(event: IssueEvent) {
    const { project, object_attributes: { iid } } = event.data;
    const issue = await gitlab.issues.get(project.id, iid);
    const label = issue.milestone?.title === 'Backlog' ? 'workflow::backlog' : 'workflow::ready for dev';
    await gitlab.issues.edit(project.id, iid, { add_labels: label });
    return label;
  },
});`,
});
after(() => folder.remove());

const workflows = [folder.path('milestone-labels.ts')];

describe('createTestEnv({ gitlab })', () => {
  test('a change made in GitLab arrives as its webhook, and the workflow edits the issue through the gitlab capability', async () => {
    const env = await createTestEnv({ workflows, gitlab: demoSeed() });
    try {
      // Issue 1 of the demo seed is in Backlog with workflow::backlog; Bob moves it into the sprint.
      await env.gitlab.actions.setMilestone('bob', 'demo/app', 1, 'Sprint 1');
      const { runs } = await env.operations.listRuns({ workflow: 'milestone-labels' });
      assert.equal(runs.length, 1);
      const run = await env.result(runs[0]?.id as string);
      assert.equal(run.result, 'workflow::ready for dev');

      // GitLab's scoped labels: the new workflow:: label replaced the old one.
      assert.deepEqual(env.gitlab.issue('demo/app', 1).labels, ['bug', 'group::environments', 'workflow::ready for dev']);
      const calls = await env.calls(run.id);
      assert.deepEqual(
        calls.map((call) => [call.capability, call.method, call.args, call.status]),
        [
          ['gitlab', 'issues.get', { project: 1, iid: 1 }, 'completed'],
          ['gitlab', 'issues.edit', { project: 1, iid: 1, attributes: { add_labels: 'workflow::ready for dev' } }, 'completed'],
        ],
      );
      assert.equal((calls[1]?.result as { labels: string[] }).labels.includes('workflow::ready for dev'), true);
      // The workflow acted as the seed's first user, the bot (as on a server); its edit is a webhook too, which starts nothing.
      const last = env.gitlab.webhooks.deliveries().at(-1);
      assert.deepEqual(
        [last?.event, (last?.payload as { user: { username: string } }).user.username, last?.status],
        ['Issue Hook', 'autoflow-bot', 202],
      );
      assert.equal((await env.operations.listRuns({ workflow: 'milestone-labels' })).runs.length, 1);
    } finally {
      await env.close();
    }
  });

  test('faults: two 503s are retried with backoff on virtual time; a latency fault delays the call by exactly its length', async () => {
    const env = await createTestEnv({ workflows, gitlab: demoSeed() });
    try {
      env.gitlab.faults.add({ kind: 'status', status: 503, method: 'PUT', times: 2 });
      env.gitlab.faults.add({ kind: 'latency', ms: 20_000, method: 'GET', times: 1 });
      const before = env.now();
      await env.gitlab.actions.setMilestone('alice', 'demo/app', 2, 'Backlog');
      const [summary] = (await env.operations.listRuns({ workflow: 'milestone-labels' })).runs;
      const run = await env.result(summary?.id as string);
      assert.equal(run.status, 'completed');
      const [read, edit] = await env.calls(run.id);
      assert.equal(read?.attempts, 1);
      assert.equal(edit?.attempts, 3);
      assert.ok(env.now() - before >= 20_000, 'the latency passed on the virtual clock');
      assert.ok(env.now() - before < 10 * 60_000, 'and the retries did not take longer than their backoff');
      assert.deepEqual(
        env.gitlab.issue('demo/app', 2).labels.filter((label) => label.startsWith('workflow::')),
        ['workflow::backlog'],
      );
    } finally {
      await env.close();
    }
  });

  test('a note whose answer was lost when its run failed is not posted a second time by `autoflow retry`', async () => {
    const thanks = workflowFolder({
      'thanks.ts': `import { gitlab, workflow } from 'autoflow';
export default workflow({
  name: 'thanks',
  permissions: { gitlab: { projects: ['demo/app'] } },
  async run() {
    await gitlab.notes.create({ project: 'demo/app', issueIid: 1, body: 'Thanks!' }, { retry: { maxAttempts: 1 } });
  },
});`,
    });
    const env = await createTestEnv({ workflows: [thanks.path('thanks.ts')], gitlab: demoSeed() });
    try {
      const notes = () => [...env.gitlab.state.notes.values()].filter((note) => note.body.startsWith('Thanks!'));
      // GitLab saves the note, and the answer is lost on its way back: the call fails, and so does its run.
      env.gitlab.faults.add({ kind: 'lose_response', method: 'POST', path: '/api/v4/projects/*/issues/*/notes', times: 1 });
      const id = await env.start('thanks');
      assert.equal((await env.result(id)).status, 'failed');
      assert.equal(notes().length, 1);

      await env.retry(id);
      assert.equal((await env.result(id)).status, 'completed');
      assert.equal(notes().length, 1, 'the retried call found the note its failed attempt made');
    } finally {
      await env.close();
      thanks.remove();
    }
  });

  test("a GitLab slower than 30 s, or than the call's timeoutMs, times out on virtual time and is retried, as in production", async () => {
    const slow = workflowFolder({
      'slow.ts': `import { gitlab, workflow } from 'autoflow';
export default workflow({
  name: 'slow',
  permissions: { gitlab: { projects: ['demo/*'] } },
  async run(input: { timeoutMs?: number }) {
    const retry = { maxAttempts: 2 };
    try {
      return (await gitlab.issues.get('demo/app', 1, input.timeoutMs ? { timeoutMs: input.timeoutMs, retry } : { retry })).iid;
    } catch (error) {
      return (error as Error).message;
    }
  },
});`,
    });
    const env = await createTestEnv({ workflows: [slow.path('slow.ts')], gitlab: demoSeed() });
    try {
      env.gitlab.faults.add({ kind: 'latency', ms: 90_000 });
      for (const [input, message, attemptsTook] of [
        [{}, /^GitLab did not answer GET http:\/\/\S+\/issues\/1 within 30000 ms \(gave up after 2 attempts\)$/, 60_000],
        [{ timeoutMs: 5000 }, /^gitlab\.issues\.get took longer than its timeoutMs \(5000 ms\) \(gave up after 2 attempts\)$/, 10_000],
      ] as const) {
        const before = env.now();
        const run = await env.result(await env.start('slow', input));
        assert.match(run.result as string, message);
        assert.equal((await env.calls(run.id))[0]?.attempts, 2);
        const took = env.now() - before;
        assert.ok(took >= attemptsTook && took < attemptsTook + 60_000, `two attempts and a backoff, not the 90 s latency: ${took} ms`);
      }
    } finally {
      await env.close();
      slow.remove();
    }
  });
});

test("README's testing example type-checks as written in an `autoflow init` repository, and passes", { timeout: 120_000 }, async () => {
  const checkout = fileURLToPath(new URL('../../', import.meta.url));
  const readme = readFileSync(join(checkout, 'README.md'), 'utf8');
  const example = /^## Testing workflows\n[\s\S]*?^```ts\n([\s\S]*?)^```$/m.exec(readme)?.[1];
  assert.ok(example, "README.md's section 'Testing workflows' has a ts example");
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-readme-test-'));
  try {
    // An init repository after `npm install`: its tsconfig, this AutoFlow and the checkout's @types/node linked.
    mkdirSync(join(dir, 'workflows'));
    mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
    symlinkSync(checkout, join(dir, 'node_modules/autoflow'));
    symlinkSync(join(checkout, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'));
    copyFileSync(join(checkout, 'templates/init/tsconfig.json'), join(dir, 'tsconfig.json'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    copyFileSync(join(checkout, 'examples/milestone-labels.ts'), join(dir, 'workflows/milestone-labels.ts'));
    writeFileSync(join(dir, 'workflows/readme.test.ts'), example);

    const tsc = spawnSync(process.execPath, [join(checkout, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(tsc.stdout + tsc.stderr, '');
    assert.equal(tsc.status, 0);

    const run = await autoflow(['test', 'workflows'], { cwd: dir });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^✓ 1 passed, 0 failed/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
