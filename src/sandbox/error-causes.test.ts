import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MAX_CAUSE_DEPTH } from '../core/errors.js';
import type { ErrorInfo } from '../core/model.js';
import { commandsProblem } from './instance.js';
import { createQuickJsSandbox } from './quickjs-sandbox.js';
import { deploy, ending, resume, startActivation, workflowFolder } from './test-support.js';

const sandbox = await createQuickJsSandbox();
const folder = workflowFolder();
after(() => folder.remove());

/** An ErrorInfo `depth` causes deep. */
function chain(depth: number): ErrorInfo {
  let info: ErrorInfo = { name: 'Error', message: 'root' };
  for (let level = 1; level <= depth; level++) info = { name: 'Error', message: `level ${level}`, cause: info };
  return info;
}

test("a call's error arrives with its causes, and an error the workflow throws leaves with them, up to the bound", async () => {
  const definition = await deploy(
    sandbox,
    folder.write(
      'causes.ts',
      `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'causes',
  permissions: { activities: ['fatal'] },
  async run(input: { wrappers: number }) {
    try {
      await activities.fatal();
    } catch (error) {
      let wrapped = error;
      for (let level = 0; level < input.wrappers; level++) wrapped = new Error('wrapped ' + level, { cause: wrapped });
      throw new Error('gave up', { cause: wrapped });
    }
  },
});
`,
    ),
  );
  const error = {
    name: 'TicketError',
    message: 'ticket system refused',
    details: { ticket: 42 },
    cause: { name: 'Error', message: 'root cause: quota' },
  };
  /** The error the run fails with when the call fails with `error` and the workflow wraps it `wrappers` times. */
  const failure = (wrappers: number): ErrorInfo => {
    const instance = sandbox.createInstanceNow(definition, { runId: `c-${wrappers}`, seed: 'c' });
    try {
      instance.activateNow(startActivation({ wrappers }));
      const end = ending(instance.activateNow(resume([{ kind: 'call', step: 1, ok: false, error }])).commands);
      assert.ok(end?.kind === 'fail', JSON.stringify(end));
      return end.error;
    } finally {
      instance.dispose();
    }
  };
  assert.deepEqual(failure(0).cause, error, "the RemoteError kept the call's name, message, details and cause");
  const messages: string[] = [];
  for (let cause = failure(10).cause; cause !== undefined; cause = cause.cause) messages.push(cause.message);
  assert.deepEqual(messages, ['wrapped 9', 'wrapped 8', 'wrapped 7', 'wrapped 6']);
});

test("the host accepts a failure's cause chain as the SDK bounds it, and refuses a malformed or deeper one", () => {
  const fail = (error: unknown): unknown[] => [{ kind: 'fail', error }];
  assert.equal(commandsProblem(fail(chain(MAX_CAUSE_DEPTH))), undefined);
  assert.match(commandsProblem(fail(chain(MAX_CAUSE_DEPTH + 1))) ?? '(accepted)', /'cause' one like it, at most 4 deep/);
  assert.match(
    commandsProblem(fail({ name: 'Error', message: 'top', cause: { message: 'no name' } })) ?? '(accepted)',
    /'error' must be an object/,
  );
});
