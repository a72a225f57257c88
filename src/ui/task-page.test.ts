import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startUiServer, type UiServer } from '../../test/helpers/ui-server.js';

/** What a person sees on a task whose run was cancelled: why, not only that it closed. */
let server: UiServer;

before(async () => {
  server = await startUiServer({
    'gate.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({
  name: 'gate',
  async run() {
    return tasks.approval({ title: 'Ship it?', approvers: ['bob', 'carol'], required: 2, timeout: '3d' });
  },
});`,
  });
});
after(() => server?.close());

test("a task closed with its run's cancel says why the run was cancelled, and no longer asks for approvals", async () => {
  const { operations } = server.runtime;
  const { run } = await operations.startRun({ workflow: 'gate', id: 'c2' });
  await server.runtime.engine.whenIdle();
  const [task] = (await operations.listTasks({ runId: run.id })).tasks;
  assert.ok(task, 'the run opened its approval');
  const bob = await server.signedIn('bob');
  assert.match(await (await bob.request(task.path)).text(), /Needs 2 approvals from @bob, @carol/);

  await operations.cancelRun(run.id, 'rollout aborted by RM', 'alice');
  assert.equal((await operations.waitForRun(run.id, 10_000)).status, 'cancelled');
  const html = await (await bob.request(task.path)).text();
  assert.match(html, /This task is closed: .*cancelled.* — run c2 was cancelled: rollout aborted by RM/s);
  assert.doesNotMatch(html, /Needs 2 approvals/, 'a closed request asks nobody for anything');
});
