import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'pipeline-wait.ts': `import { waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'pipeline-wait',
  async run(input: { sha: string }) {
    const event = await waitFor('com.gitlab.events.pipeline_succeeded', {
      match: { 'object_attributes.sha': input.sha },
      timeout: '2h',
    });
    return event ? { pipeline: (event.data as { object_attributes: { id: number } }).object_attributes.id } : 'timed out';
  },
});`,
  'race.ts': `import { race, sleep, waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'race',
  async run(input: { key: string }) {
    const first = await race({
      event: waitFor('com.example.answer', { match: { subject: input.key } }),
      timer: sleep('1d'),
    });
    return first.key === 'event' ? { key: 'event', data: (first.value as { data: unknown }).data } : { key: 'timer' };
  },
});`,
  'triggered.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'triggered',
  triggers: [{ event: 'com.example.order_*', filter: { 'order.total': { exists: true }, 'order.tags': 'priority' } }],
  async run(event: { data: { order: { id: number } } }) {
    return { order: event.data.order.id };
  },
});`,
});
after(() => folder.remove());

const pipeline = (sha: string, id: number) => ({
  type: 'com.gitlab.events.pipeline_succeeded',
  data: { object_kind: 'pipeline', object_attributes: { id, sha, status: 'success' } },
});

describe('waits, races and triggers', () => {
  test('waitFor receives only the event whose fields match, and null after its timeout', async () => {
    const env = await createTestEnv({ workflows: [folder.path('pipeline-wait.ts')] });
    try {
      const matched = await env.start('pipeline-wait', { sha: 'abc' });
      const timedOut = await env.start('pipeline-wait', { sha: 'def' });
      await env.emit(pipeline('zzz', 1));
      await env.emit(pipeline('abc', 2));
      assert.deepEqual((await env.run(matched)).result, { pipeline: 2 });
      assert.equal((await env.run(timedOut)).status, 'running');
      await env.advance('2h');
      const run = await env.run(timedOut);
      assert.equal(run.status, 'completed');
      assert.equal(run.result, 'timed out');
    } finally {
      await env.close();
    }
  });

  test('an event that arrived shortly before the wait was registered still satisfies it', async () => {
    const env = await createTestEnv({ workflows: [folder.path('pipeline-wait.ts')] });
    try {
      await env.emit(pipeline('early', 7));
      await env.advance('1m');
      const id = await env.start('pipeline-wait', { sha: 'early' });
      const run = await env.result(id);
      assert.deepEqual(run.result, { pipeline: 7 });
      // One event satisfies one wait of a run once: a second run gets it too, but the first never twice.
      const second = await env.start('pipeline-wait', { sha: 'early' });
      assert.deepEqual((await env.result(second)).result, { pipeline: 7 });
    } finally {
      await env.close();
    }
  });

  test('the look back finds its event behind more than a page of other events of the type', async () => {
    const env = await createTestEnv({ workflows: [folder.path('pipeline-wait.ts')] });
    try {
      for (let i = 0; i < 1200; i++) {
        await env.operations.ingestEvent({ specversion: '1.0', id: `other-${i}`, source: 'test', ...pipeline(`other-${i}`, i) });
      }
      await env.emit(pipeline('wanted', 9999));
      const id = await env.start('pipeline-wait', { sha: 'wanted' });
      assert.deepEqual((await env.run(id)).result, { pipeline: 9999 });
    } finally {
      await env.close();
    }
  });

  test('race settles with whichever comes first: the event, or the timer', async () => {
    const env = await createTestEnv({ workflows: [folder.path('race.ts')] });
    try {
      const answered = await env.start('race', { key: 'a' });
      const silent = await env.start('race', { key: 'b' });
      await env.advance('3h');
      await env.emit({ type: 'com.example.answer', subject: 'a', data: { yes: true } });
      assert.deepEqual((await env.run(answered)).result, { key: 'event', data: { yes: true } });
      const run = await env.result(silent);
      assert.deepEqual(run.result, { key: 'timer' });
      assert.equal(env.now() - run.createdAt, 86_400_000);
    } finally {
      await env.close();
    }
  });

  test('a trigger starts one run per matching event, and a redelivered event starts none', async () => {
    const env = await createTestEnv({ workflows: [folder.path('triggered.ts')] });
    try {
      const order = { type: 'com.example.order_created', id: 'evt-1', data: { order: { id: 1, total: 5, tags: ['priority'] } } };
      await env.emit(order);
      await env.emit(order);
      await env.emit({ type: 'com.example.order_created', id: 'evt-2', data: { order: { id: 2, total: 5, tags: ['normal'] } } });
      await env.emit({ type: 'com.example.refund_created', id: 'evt-3', data: { order: { id: 3, total: 5, tags: ['priority'] } } });
      const { runs } = await env.operations.listRuns({ workflow: 'triggered' });
      assert.equal(runs.length, 1);
      assert.deepEqual(runs[0]?.result, { order: 1 });
    } finally {
      await env.close();
    }
  });
});
