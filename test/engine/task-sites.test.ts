import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { HistoryEvent } from '../../src/core/model.js';
import { demoSeed } from '../../src/testing/index.js';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

// Line numbers matter: the assertions name the lines of this source (1-based, as `autoflow show` does).
const folder = workflowFolder({
  'sited-tasks.ts': `import { tasks, workflow } from 'autoflow';
const fields = [{ name: 'why', label: 'Why?', type: 'text' as const }];
export default workflow({
  name: 'sited-tasks',
  permissions: { gitlab: { groups: ['demo'], access: 'read' } },
  async run() {
    const approval = await tasks.approval({ title: 'Ship it?', approvers: ['group:demo'], timeout: '1d' });
    const form = await tasks.form({ title: 'Why?', assignees: ['alice'], fields, remind: '1h' });
    const handle = await tasks.openApproval({ title: 'Again?', approvers: ['bob'] });
    const cancelled = await handle.cancel();
    const later = await handle.result();
    const survey = await tasks.openForm({ title: 'Survey', assignees: ['carol'], fields });
    const answer = await survey.result();
    return [approval.status, form.status, cancelled.status, later.status, answer.status];
  },
});`,
});
after(() => folder.remove());

/** The history records that carry a call site, as `step what site` (a patch marker has no step). */
function sited(history: HistoryEvent[]): string[] {
  return history.flatMap((event) => {
    switch (event.type) {
      case 'call_scheduled':
        return [`#${event.step} ${event.capability}.${event.method} ${event.site ?? '(no site)'}`];
      case 'wait_started':
        return [`#${event.step} wait ${event.eventType} ${event.site ?? '(no site)'}`];
      case 'patch_marker':
        return [`patch ${event.patchId} ${event.site ?? '(no site)'}`];
      default:
        return [];
    }
  });
}

describe('the durable steps of tasks helpers name the author’s line', () => {
  test('tasks.approval, tasks.form and an approval handle: creates, waits, reminders and markers', async () => {
    const env = await createTestEnv({ workflows: [folder.path('sited-tasks.ts')], gitlab: demoSeed() });
    try {
      const runId = await env.start('sited-tasks', {});
      const [approval] = await env.tasks({ runId, status: 'open' });
      await env.decideTask(approval!.id, 'bob', 'approve');
      await env.advance('1h'); // the form's reminder: a state call and a second wait, after awaits in the SDK
      const [form] = await env.tasks({ runId, status: 'open' });
      await env.submitTask(form!.id, 'alice', { why: 'because' });
      const [survey] = await env.tasks({ runId, status: 'open' });
      await env.submitTask(survey!.id, 'carol', { why: 'curious' });
      assert.deepEqual((await env.result(runId)).result, ['approved', 'submitted', 'cancelled', 'cancelled', 'submitted']);

      // Columns are the bundler's business; the file and the line are what a reader looks for.
      const lines = sited(await env.history(runId)).map((line) => line.replace(/(sited-tasks\.ts:\d+):\d+$/u, '$1'));
      assert.deepEqual(lines, [
        // tasks.approval (line 7): the group's members, the bot left out, then the task and its wait.
        '#1 gitlab.members.listAll sited-tasks.ts:7',
        'patch tasks-groups-without-bot sited-tasks.ts:7',
        '#2 gitlab.users.current sited-tasks.ts:7',
        '#3 tasks.create sited-tasks.ts:7',
        '#4 wait autoflow.task.closed sited-tasks.ts:7',
        // tasks.form (line 8): its reminder comes from the loop in result(), long after the call.
        '#5 tasks.create sited-tasks.ts:8',
        '#6 wait autoflow.task.closed sited-tasks.ts:8',
        '#7 tasks.remind sited-tasks.ts:8',
        '#8 wait autoflow.task.closed sited-tasks.ts:8',
        // tasks.openApproval (line 9); cancel() (line 10) and what it records once it has the outcome.
        '#9 tasks.create sited-tasks.ts:9',
        '#10 tasks.cancel sited-tasks.ts:10',
        'patch tasks-cancel-ends-result sited-tasks.ts:10',
        // tasks.openForm (line 12): the wait is where the author asked for the result (line 13).
        '#11 tasks.create sited-tasks.ts:12',
        '#12 wait autoflow.task.closed sited-tasks.ts:13',
      ]);
    } finally {
      await env.close();
    }
  });
});
