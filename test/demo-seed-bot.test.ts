import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { CapabilityContext } from '../src/core/ports.js';
import { BOT_USERNAME, createEmbeddedGitLab } from '../src/testing/embedded-gitlab.js';
import { demoSeed } from '../src/testing/index.js';
import { createTestEnv } from '../src/testing/test-env.js';
import { workflowFolder } from './helpers/workflow-files.js';

/**
 * A test seeded with `demoSeed()` must act as the server's built-in simulator does: as the bot, not as
 * Alice. Otherwise a group approval leaves her out in the test and counts her on the server.
 */

const folder = workflowFolder({
  'freeze-approval.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({
  name: 'freeze-approval',
  permissions: { gitlab: { groups: ['demo'], access: 'read' } },
  async run() {
    const outcome = await tasks.approval({ title: 'Deploy during the freeze', approvers: ['group:demo'], initiator: 'alice', timeout: '1d' });
    return { status: outcome.status, by: outcome.decisions.map((d) => d.by + ':' + d.decision) };
  },
});`,
});
after(() => folder.remove());

const context: CapabilityContext = {
  runId: 'run-1',
  step: 1,
  attempt: 1,
  idempotencyKey: 'run-1:1',
  workflow: 'who-am-i',
  permissions: { gitlab: { projects: ['*'] } },
  now: Date.now(),
  signal: new AbortController().signal,
};

test('with demoSeed(), workflows act as the same bot in a test environment as on the server', async () => {
  const server = createEmbeddedGitLab();
  const env = await createTestEnv({ workflows: [], gitlab: demoSeed() });
  try {
    const onServer = (await server.capability.invoke('users.current', {}, context)) as { username: string };
    const inTest = (await env.gitlab.capability.invoke('users.current', {}, context)) as { username: string };
    assert.equal(onServer.username, BOT_USERNAME);
    assert.equal(inTest.username, BOT_USERNAME);
    const roleIn = ({ state }: typeof server.simulator): number =>
      state.accessLevel(state.requireUser(BOT_USERNAME), state.requireGroup('demo'));
    assert.equal(roleIn(env.gitlab.sim), roleIn(server.simulator), 'the bot has the same role in the demo group');
    assert.equal(roleIn(env.gitlab.sim), 40, 'maintainer');
  } finally {
    await env.close();
    await server.close();
  }
});

test('a group:demo approval counts Alice in a test as on the server, and her reject closes it', async () => {
  const env = await createTestEnv({ workflows: [folder.path('freeze-approval.ts')], gitlab: demoSeed() });
  try {
    const runId = await env.start('freeze-approval');
    const [task] = await env.tasks({ runId });
    assert.deepEqual([...task!.eligible].sort(), ['alice', 'bob', 'carol']);
    await env.decideTask(task!.id, 'alice', 'reject', 'not during the freeze');
    assert.deepEqual((await env.result(runId)).result, { status: 'rejected', by: ['alice:reject'] });
  } finally {
    await env.close();
  }
});
