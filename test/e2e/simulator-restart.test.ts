import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, ServerProcess } from '../helpers/server-process.js';

/**
 * `npm start` twice on one data folder: the built-in simulator's GitLab is the one the runs of the
 * first start saw, not the demo seed again (a parked run would otherwise act on a GitLab reset under it).
 */
test('the built-in simulator keeps its state across a restart of the server, and a crash', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-sim-restart-'));
  const workflowsDir = join(dir, 'workflows');
  mkdirSync(workflowsDir);
  const stateFile = join(dir, 'data', 'gitlab-simulator.json');
  const server = new ServerProcess({
    port: await freePort(),
    db: `sqlite:${join(dir, 'data', 'autoflow.db')}`,
    workflowsDir,
    token: 'restart-test-token',
  });
  const act = async (name: string, ...args: unknown[]) => {
    const response = await server.api(`/api/v1/simulator/actions/${name}`, { method: 'POST', body: JSON.stringify({ args }) });
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { result: { iid: number; state: string } }).result;
  };
  const gitlab = async (path: string) =>
    (
      await fetch(`${server.url}/simulator/gitlab/api/v4/projects/demo%2Fapp${path}`, { headers: { 'PRIVATE-TOKEN': 'alice-token' } })
    ).json();
  try {
    await server.start();
    assert.equal((await act('closeMilestone', 'alice', { project: 'demo/app' }, 'Sprint 1')).state, 'closed');
    const filed = await act('createIssue', 'bob', 'demo/app', { title: 'Before the restart' });
    await server.stop();

    await server.start();
    const milestones = (await gitlab('/milestones?title=Sprint%201')) as Array<{ state: string }>;
    assert.deepEqual(
      milestones.map((m) => m.state),
      ['closed'],
    );
    assert.equal(((await gitlab(`/issues/${filed.iid}`)) as { title: string }).title, 'Before the restart');
    const next = await act('createIssue', 'bob', 'demo/app', { title: 'Before the crash' });
    assert.equal(next.iid, filed.iid + 1);
    // Saved within a moment of the change, so a crash (SIGKILL: no shutdown code) keeps it too.
    const deadline = Date.now() + 10_000;
    while (!readFileSync(stateFile, 'utf8').includes('Before the crash') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await server.kill();

    await server.start();
    assert.equal(((await gitlab(`/issues/${next.iid}`)) as { title: string }).title, 'Before the crash');
    await server.stop();

    writeFileSync(stateFile, '{"format":"autoflow-gitlab-simulator","ver');
    await assert.rejects(server.start(), (error: Error) => {
      assert.ok(error.message.includes(stateFile), error.message);
      assert.match(error.message, /delete it to start again from the demo data/);
      return true;
    });
  } finally {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'a simulator state that cannot be saved at shutdown (a full disk) is logged, and the shutdown ends as any other',
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'autoflow-sim-unsaved-'));
    const stateFile = join(dir, 'gitlab-simulator.json');
    const server = new ServerProcess({
      port: await freePort(),
      db: `sqlite:${join(dir, 'autoflow.db')}`,
      workflowsDir: dir,
      token: 'unsaved-test-token',
      env: { AUTOFLOW_LOG_LEVEL: 'info' },
    });
    try {
      await server.start();
      // A folder where the file would be renamed to: the save fails there as it would on a full disk. A save of the
      // server's may put the file back between the two (its first, after the seed): then the file is removed again.
      for (let attempt = 1; ; attempt++) {
        rmSync(stateFile, { force: true });
        try {
          mkdirSync(stateFile);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt === 10) throw error;
        }
      }
      const response = await server.api('/api/v1/simulator/actions/createIssue', {
        method: 'POST',
        body: JSON.stringify({ args: ['bob', 'demo/app', { title: 'Not saved' }] }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      await server.stop();
      const lines = server.stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { level: string; msg: string });
      const failed = lines.find((line) => line.msg.includes("saving the built-in GitLab simulator's state"));
      assert.equal(failed?.level, 'error');
      // The failure may be logged before or after the last line of the shutdown: a save in flight reports when it fails.
      assert.ok(
        lines.some((line) => line.msg === 'shut down'),
        'the shutdown ended, and said so',
      );
    } finally {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
