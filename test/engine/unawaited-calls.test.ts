/**
 * A call the workflow issues but does not await in the step that ends the run is never made: the run's end deletes
 * its calls. It used to vanish without a word (a forgotten `await` before `emit` or a label, the run completed and
 * nothing happened); the run's log now says which call, where, and what to do.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'forgetful.ts': `import { activities, emit, workflow } from 'autoflow';
export default workflow({
  name: 'forgetful',
  permissions: { activities: ['notify', 'lookup'] },
  async run() {
    const found = await activities.lookup('x');
    activities.notify({ found });
    emit('com.example.looked-up', { found });
    return found;
  },
});`,
  'careful.ts': `import { activities, race, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'careful',
  permissions: { activities: ['notify', 'lookup'] },
  async run() {
    const first = await race({ found: activities.lookup('slow'), late: sleep('1m') });
    await activities.notify({ first: first.key });
    return first.key;
  },
});`,
});
after(() => folder.remove());

test('calls left unawaited in the step that ends a run are named in its log as never made, and are not made', async () => {
  const notified: unknown[] = [];
  const env = await createTestEnv({
    workflows: [folder.path('forgetful.ts')],
    activities: {
      lookup: () => Promise.resolve('it'),
      notify: (args: unknown) => {
        notified.push(args);
        return Promise.resolve(null);
      },
    },
  });
  try {
    const id = await env.start('forgetful', null, 'forgetful-1');
    const run = await env.result(id);
    assert.equal(run.status, 'completed');
    assert.deepEqual(notified, [], 'the run ended before the call could start');
    assert.deepEqual(await env.runtime.store.listEvents({ limit: 10, type: 'com.example.looked-up' }), [], 'nothing was emitted');
    const warnings = (await env.logs(id)).filter((line) => line.includes('never made'));
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /^call #2 activities\.notify \(forgetful\.ts:7:\d+\) was never made: the run ended in the same step/);
    assert.match(warnings[1]!, /^call #3 emit\.emit \(forgetful\.ts:8:\d+\) was never made/);
    assert.match(warnings[0]!, /Await the call/);
  } finally {
    await env.close();
  }
});

test('a run whose calls were all awaited, or lost a race earlier, logs no such warning', async () => {
  const env = await createTestEnv({
    workflows: [folder.path('careful.ts')],
    // The lookup answers only after the run ended: it lost the race to the timer.
    mocks: { activities: (method) => (method === 'lookup' ? new Promise<null>(() => {}) : null) },
  });
  try {
    const id = await env.start('careful', null, 'careful-1');
    await env.advance('1m');
    const run = await env.result(id);
    assert.equal(run.status, 'completed');
    assert.deepEqual(run.result, 'late');
    assert.deepEqual(await env.logs(id), []);
  } finally {
    await env.close();
  }
});
