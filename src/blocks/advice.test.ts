import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createTestEnv } from '../testing/test-env.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';

const folder = workflowFolder({
  'advise.ts': `import { workflow } from 'autoflow';
import { incidentAdvice } from 'autoflow/blocks';
export default workflow({
  name: 'advise',
  permissions: { http: ['http://llm.test/'], secrets: ['LLM_KEY'] },
  async run() {
    return (await incidentAdvice({ url: 'http://llm.test/v1', apiKeySecret: 'LLM_KEY' }, 'the canary breached')) ?? null;
  },
});`,
});
after(() => folder.remove());

const completion = (content: string) => ({ status: 200, headers: {}, body: { choices: [{ message: { role: 'assistant', content } }] } });

/** The key is configured, and the endpoint fails every request with `message`. */
const failingEndpoint = (message: string) =>
  createTestEnv({
    workflows: [folder.path('advise.ts')],
    secrets: { LLM_KEY: 'sk-test-key' },
    mocks: {
      http: () => {
        throw new Error(message);
      },
    },
  });

describe('incidentAdvice', () => {
  test('asks the endpoint with the key and answers its advice', async () => {
    const asked: unknown[] = [];
    const env = await createTestEnv({
      workflows: [folder.path('advise.ts')],
      secrets: { LLM_KEY: 'sk-test-key' },
      mocks: { http: (_method, args) => (asked.push(args), completion('roll back')) },
    });
    try {
      const run = await env.result(await env.start('advise'));
      assert.equal(run.result, 'roll back');
      assert.match(JSON.stringify(asked), /"url":"http:\/\/llm\.test\/v1\/chat\/completions".*"Authorization":"Bearer sk-test-key"/);
    } finally {
      await env.close();
    }
  });

  test('when the endpoint fails, the run goes on without advice and its log says why', async () => {
    const env = await failingEndpoint('401 Unauthorized: invalid API key');
    try {
      const id = await env.start('advise');
      const run = await env.result(id);
      assert.equal(run.status, 'completed');
      assert.equal(run.result, null);
      assert.deepEqual(await env.logs(id), ['no incident advice: http://llm.test/v1 failed (401 Unauthorized: invalid API key (gave up after 3 attempts))']);
    } finally {
      await env.close();
    }
  });

  test('without the key, no request is made and the log names the missing secret', async () => {
    let requests = 0;
    const env = await createTestEnv({
      workflows: [folder.path('advise.ts')],
      mocks: { http: () => (requests++, completion('never')) },
    });
    try {
      const id = await env.start('advise');
      assert.equal((await env.result(id)).result, null);
      assert.equal(requests, 0);
      const [line, ...rest] = await env.logs(id);
      assert.match(line ?? '', /^no incident advice: the secret 'LLM_KEY' is not available \(.+\)$/);
      assert.deepEqual(rest, []);
    } finally {
      await env.close();
    }
  });

  test('a run cancelled while it waits for the advice ends cancelled, not completed without advice', async () => {
    const env = await failingEndpoint('503 Service Unavailable');
    try {
      // The failing endpoint is retried with backoff: the run is waiting for the next attempt.
      const id = await env.start('advise');
      assert.equal((await env.run(id)).status, 'running');
      await env.cancel(id, 'rollout abandoned');
      const run = await env.result(id);
      assert.equal(run.status, 'cancelled');
      assert.deepEqual(await env.logs(id), []);
    } finally {
      await env.close();
    }
  });
});
