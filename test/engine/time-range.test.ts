/**
 * A timer past the last date JavaScript can hold is refused where the workflow asks for it: stored, it failed every
 * commit ("cannot store REAL value in INTEGER column"), and the run was retried every minute for ever.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'later.ts': `import { signal, sleep, waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'later',
  async run(input: { kind: string; arg: number }) {
    try {
      if (input.kind === 'sleep') await sleep(input.arg);
      if (input.kind === 'until') await sleep.until(input.arg);
      if (input.kind === 'wait') await waitFor('test.go', { timeout: input.arg });
      if (input.kind === 'signal') await signal('go', { timeout: input.arg });
      return 'waited';
    } catch (error) {
      return (error as Error).message;
    }
  },
});`,
});
after(() => folder.remove());

test('a sleep, a sleep.until or a timeout past the range of dates fails at its call, with what to do; one within it waits', async () => {
  const env = await createTestEnv({ workflows: [folder.path('later.ts')] });
  try {
    const outcome = async (kind: string, arg: number) => (await env.result(await env.start('later', { kind, arg }))).result as string;
    assert.equal(
      await outcome('sleep', 1e300),
      'sleep(): a duration of 1e+300 ends past the last date JavaScript can hold (the year 275760); pass a shorter one',
    );
    assert.equal(
      await outcome('wait', 1e300),
      "waitFor('test.go'): a timeout of 1e+300 ends past the last date JavaScript can hold (the year 275760); pass a shorter one",
    );
    assert.match(await outcome('signal', 1e300), /^signal\('go'\): a timeout of 1e\+300 ends past the last date/);
    for (const arg of [8_640_000_000_000_001, -1e16]) {
      assert.match(
        await outcome('until', arg),
        /^sleep\.until\(.*\): pass a Date, epoch milliseconds or an ISO 8601 string, within the years -271821 to 275760$/,
      );
    }
    assert.equal(await outcome('until', -8.64e15), 'waited', 'the first date there is: in the past, so at once');
    assert.equal(await outcome('sleep', 1000), 'waited');
  } finally {
    await env.close();
  }
});
