/**
 * Secret references against the real engine: text that only looks like `{{secret:NAME}}` (typed by
 * an outsider into an issue, a webhook, a form) reaches workflows and capabilities as that text,
 * never as the secret's value; `secrets.get` still gives the value, also after a replay; and a
 * value a workflow hands to something that stores it is stored as a reference.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Json } from '../../src/core/model.js';
import { createTestEnv } from '../../src/testing/test-env.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const TOKEN = 'tok-3xq-VALUE-77';
const REFERENCE = '{{secret:TOKEN}}';
/** What an outsider may type: a reference, and text that looks like an escaped one. */
const TYPED = `see ${REFERENCE} and {{secret!:TOKEN}}`;

const folder = workflowFolder({
  'relay.ts': `import { activities, secrets, waitFor, workflow } from 'autoflow';
const typed = ${JSON.stringify(TYPED)};
export default workflow({
  name: 'relay',
  permissions: { secrets: ['TOKEN'], activities: ['fetchTitle', 'post'] },
  async run(input: { text: string }) {
    const token = await secrets.get('TOKEN');
    const title = await activities.fetchTitle(null);
    await activities.post({ phase: 1, token, title, input: input.text, sawTyped: [title === typed, input.text === typed] });
    const event = await waitFor('com.example.comment', { timeout: '1d' });
    const comment = (event?.data as { body: string }).body;
    await activities.post({ phase: 2, token, title, comment, input: input.text, sawTyped: [title === typed, comment === typed, input.text === typed] });
    return { tokenLength: token.length };
  },
});`,
  'spills.ts': `import { continueAsNew, emit, executeChild, log, secrets, tasks, workflow } from 'autoflow';
export default workflow({
  name: 'spills',
  permissions: { secrets: ['TOKEN'] },
  async run(input: { round: number }) {
    if (input.round === 2) return 'done';
    const token = await secrets.get('TOKEN');
    await emit('com.example.spilled', { text: 'token ' + token, [token]: 'as a key' });
    const child = await executeChild('child-echo', { token, [token]: 1 });
    await tasks.openApproval({ title: 'Ship with ' + token, description: 'uses ' + token, approvers: ['alice'], timeout: '1d' });
    log.info('child saw ' + JSON.stringify(child));
    continueAsNew({ round: 2, token, [token]: true });
  },
});`,
  'word.ts': `import { activities, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'word',
  permissions: { activities: ['fetchTitle'] },
  async run() {
    const title = await activities.fetchTitle(null);
    await sleep('1m');
    return { title };
  },
});`,
  'child-echo.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'child-echo',
  async run(input: { token: string }) {
    return { sawReference: input.token === ${JSON.stringify(REFERENCE)} };
  },
});`,
});
after(() => folder.remove());

function secretIn(value: unknown): boolean {
  return JSON.stringify(value).includes(TOKEN);
}

describe('secret references', () => {
  test('a typed reference stays text in call results, events and input; secrets.get gives the value, also after a restart', async () => {
    const posted: Json[] = [];
    const activities = {
      fetchTitle: () => Promise.resolve(TYPED),
      post: (args: unknown) => {
        posted.push(args as Json);
        return Promise.resolve(null);
      },
    };
    const db = { kind: 'sqlite' as const, path: join(folder.dir, 'relay.db') };
    const first = await createTestEnv({ workflows: [folder.path('relay.ts')], db, secrets: { TOKEN }, activities });
    let id: string;
    try {
      id = await first.start('relay', { text: TYPED });
      assert.deepEqual(posted, [{ phase: 1, token: TOKEN, title: TYPED, input: TYPED, sawTyped: [true, true] }]);
    } finally {
      await first.close();
    }

    // A new process: the run is rebuilt by replaying its history before the event reaches it.
    const second = await createTestEnv({ workflows: [folder.path('relay.ts')], db, secrets: { TOKEN }, activities });
    try {
      await second.emit({ type: 'com.example.comment', data: { body: TYPED } });
      const run = await second.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.deepEqual(run.result, { tokenLength: TOKEN.length });
      assert.deepEqual(posted[1], { phase: 2, token: TOKEN, title: TYPED, comment: TYPED, input: TYPED, sawTyped: [true, true, true] });
      assert.equal(posted.length, 2);
      assert.equal(secretIn(await second.history(id)), false, 'history holds references');
    } finally {
      await second.close();
    }
  });

  test("a secret removed while a run holds it: the run does not go on with the reference's text as the value; it waits, saying why, until the secret is back", async () => {
    const posted: Json[] = [];
    const activities = {
      fetchTitle: () => Promise.resolve('a title'),
      post: (args: unknown) => {
        posted.push(args as Json);
        return Promise.resolve(null);
      },
    };
    const db = { kind: 'sqlite' as const, path: join(folder.dir, 'removed.db') };
    const withSecret = () => createTestEnv({ workflows: [folder.path('relay.ts')], db, secrets: { TOKEN }, activities });
    const first = await withSecret();
    let id: string;
    try {
      id = await first.start('relay', { text: 'hi' });
    } finally {
      await first.close();
    }

    // Restarted with TOKEN renamed in the configuration.
    const logger = memoryLogger();
    const without = await createTestEnv({
      workflows: [folder.path('relay.ts')],
      db,
      secrets: { TOKEN_RENAMED: TOKEN },
      activities,
      logger,
    });
    try {
      await without.emit({ type: 'com.example.comment', data: { body: 'go' } });
      await assert.rejects(without.result(id, '10m'), /did not end within 10m/);
      assert.equal(posted.length, 1, 'phase 2 was not posted with a reference for a token');
      const errors = logger.entries.filter((entry) => entry.level === 'error' && entry.data.runId === id);
      assert.ok(errors.length > 0);
      assert.equal(
        (errors[0]?.data.err as Error | undefined)?.message,
        "secret 'TOKEN', which this run read before, is not configured any more: configure it again",
      );
    } finally {
      await without.close();
    }

    const again = await withSecret();
    try {
      const run = await again.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal((posted[1] as { token?: string }).token, TOKEN);
    } finally {
      await again.close();
    }
  });

  test("a secret whose value is also a word of the engine's own records changes only the data in them: the run replays and ends", async () => {
    const env = await createTestEnv({
      workflows: [folder.path('word.ts')],
      secrets: { WORD: 'completed' },
      activities: { fetchTitle: () => Promise.resolve('the job completed') },
      // Every task replays the history: a record whose type were rewritten could not be read back.
      sandbox: { cacheSize: 0 },
    });
    try {
      const run = await env.result(await env.start('word'), '1h');
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.deepEqual(run.result, { title: 'the job {{secret:WORD}}' });
      assert.deepEqual(
        (await env.history(run.id)).map((event) => event.type),
        [
          'run_started',
          'workflow_task',
          'call_scheduled',
          'call_completed',
          'workflow_task',
          'timer_started',
          'timer_fired',
          'workflow_task',
          'run_completed',
        ],
      );
    } finally {
      await env.close();
    }
  });

  test('emitted events, child and successor inputs, task specs and object keys are stored with references', async () => {
    const db = { kind: 'sqlite' as const, path: join(folder.dir, 'spills.db') };
    const env = await createTestEnv({
      workflows: [folder.path('spills.ts'), folder.path('child-echo.ts')],
      db,
      secrets: { TOKEN },
    });
    try {
      const id = await env.start('spills', { round: 1 });
      const run = await env.result(id);
      assert.deepEqual([run.id, run.status], [`${id}~2`, 'completed'], JSON.stringify(run.error));

      const [event] = await env.operations.listEvents({ type: 'com.example.spilled' });
      assert.deepEqual(event?.data, { text: `token ${REFERENCE}`, [REFERENCE]: 'as a key' });

      const [child] = (await env.operations.listRuns({ workflow: 'child-echo' })).runs;
      assert.deepEqual(child?.input, { token: REFERENCE, [REFERENCE]: 1 });
      assert.deepEqual(child?.result, { sawReference: true }, 'a child receives the reference, not the value');

      const successor = await env.result(`${id}~2`);
      assert.equal(successor.status, 'completed', JSON.stringify(successor.error));
      assert.deepEqual(successor.input, { round: 2, token: REFERENCE, [REFERENCE]: true });

      const { tasks } = await env.operations.listTasks({ runId: id });
      assert.equal(tasks.length, 1);
      assert.equal(tasks[0]?.title, `Ship with ${REFERENCE}`);
      assert.equal((tasks[0]?.spec as { description: string }).description, `uses ${REFERENCE}`);

      for (const runId of [id, `${id}~2`, child.id]) {
        assert.equal(secretIn(await env.history(runId)), false, `history of ${runId}`);
        assert.equal(secretIn(await env.run(runId)), false, `record of ${runId}`);
      }
      assert.equal(secretIn(await env.operations.listEvents({})), false, 'no event holds the value');
      assert.equal(secretIn(tasks), false, 'no task holds the value');
    } finally {
      await env.close();
    }
    for (const name of readdirSync(folder.dir).filter((entry) => entry.startsWith('spills.db'))) {
      assert.equal(readFileSync(join(folder.dir, name)).includes(TOKEN), false, `${name} does not contain the secret`);
    }
  });
});
