import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkWorkflowDirectory } from '../src/app/deploy.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-addressed-trigger-warnings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('autoflow check (and deploy) warns of a trigger on a signal or a task answer, which never starts a run', async () => {
  writeFileSync(
    join(dir, 'on-answers.ts'),
    `import { workflow } from 'autoflow';
export default workflow({
  name: 'on-answers',
  triggers: [
    { event: 'autoflow.signal.promote' },
    { event: 'autoflow.signal.*' },
    { event: 'autoflow.task.closed' },
    { event: 'autoflow.*' },
    { event: 'autoflow.task.opened' },
  ],
  async run() {},
});`,
  );
  const [result] = await checkWorkflowDirectory(dir);
  assert.equal(result?.error, undefined);
  const then =
    ', so the trigger never starts a run; to start runs, trigger on a type a workflow emits, or on autoflow.task.opened or autoflow.task.reminder (docs/engine.md#chains-of-events)';
  assert.deepEqual(result?.warnings, [
    `triggers[0].event: autoflow.signal.promote is a signal, which goes only to the run it is sent to${then}`,
    `triggers[1].event: autoflow.signal.* matches only signals, which go only to the run each is sent to${then}`,
    `triggers[2].event: autoflow.task.closed is the answer to a form or approval, which goes only to the run that opened it${then}`,
  ]);
});
