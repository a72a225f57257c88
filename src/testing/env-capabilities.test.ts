/**
 * What a test environment has in place of a server's configuration: no network (an unmocked `http.request` is refused,
 * naming its URL and how to mock it), advice that names `createTestEnv` rather than `autoflow.config.ts`, and every
 * capability of the engine mockable at any moment with `env.mock`.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createTestEnv, listenLoopback } from './index.js';

const folder = workflowFolder({
  'token.ts': `import { secrets, workflow } from 'autoflow';
export default workflow({
  name: 'token',
  permissions: { secrets: ['CHAT_TOKEN'] },
  async run() {
    return (await secrets.get('CHAT_TOKEN')).length;
  },
});`,
  'ticket.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'ticket',
  permissions: { activities: ['openTicket'] },
  async run() {
    return await activities.openTicket({});
  },
});`,
  'announce.ts': `import { emit, workflow } from 'autoflow';
export default workflow({
  name: 'announce',
  async run() {
    await emit('com.example.announced', { n: 1 });
    return 'announced';
  },
});`,
  'issue.ts': `import { gitlab, workflow } from 'autoflow';
export default workflow({
  name: 'issue',
  permissions: { gitlab: { projects: ['demo/app'] } },
  async run() {
    return (await gitlab.issues.get('demo/app', 1)).title;
  },
});`,
});
after(() => folder.remove());

/** A loopback server that counts the requests it gets, and a workflow allowed to reach it. */
async function listening(): Promise<{ url: string; hits: () => number; workflow: string; close: () => void }> {
  let hits = 0;
  const server = createServer((_request, response) => {
    hits++;
    response.end('real server');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const workflow = folder.write(
    'ping.ts',
    `import { http, workflow } from 'autoflow';
export default workflow({
  name: 'ping',
  permissions: { http: ['${url}'] },
  async run() {
    return (await http.request({ url: '${url}hit' }, { retry: { maxAttempts: 3 } })).body;
  },
});`,
  );
  return { url, hits: () => hits, workflow, close: () => server.close() };
}

describe('http in a test environment', () => {
  test('a request no mock answers is refused at once, naming its URL and how to mock it; nothing is sent', async () => {
    const server = await listening();
    const env = await createTestEnv({ workflows: [server.workflow] });
    try {
      const id = await env.start('ping');
      const run = await env.result(id);
      assert.equal(run.status, 'failed');
      assert.equal(
        run.error?.message,
        `http.request to ${server.url}hit was not sent: a test environment has no network. Answer it with a mock, ` +
          "createTestEnv({ mocks: { http: (method, args) => ({ status: 200, headers: {}, body: … }) } }) or env.mock('http', handler); " +
          'serve it from a stand-in (listenLoopback); or give createTestEnv a fetch of your own to send it with',
      );
      assert.equal((await env.calls(id))[0]?.attempts, 1, 'not retried: a retry would not send it either');
      assert.equal(server.hits(), 0);
    } finally {
      await env.close();
      server.close();
    }
  });

  test("autoflow/testing's stand-ins are reached without a fetch, while they listen", async () => {
    const standIn = await listenLoopback(() => ({ status: 200, body: 'stand-in' }));
    const workflow = folder.write(
      'stand-in.ts',
      `import { http, workflow } from 'autoflow';
export default workflow({
  name: 'stand-in',
  permissions: { http: ['${standIn.url}/'] },
  async run() {
    return (await http.request({ url: '${standIn.url}/status' })).body;
  },
});`,
    );
    const env = await createTestEnv({ workflows: [workflow] });
    try {
      assert.equal((await env.result(await env.start('stand-in'))).result, 'stand-in');
      await standIn.close();
      const closed = (await env.result(await env.start('stand-in'))).error?.message ?? '';
      assert.ok(
        closed.startsWith(`http.request to ${standIn.url}/status was not sent: `),
        `closed, it is a server like any other: ${closed}`,
      );
    } finally {
      await env.close();
    }
  });

  test('with a fetch of its own, the test sends requests through it', async () => {
    const server = await listening();
    const env = await createTestEnv({ workflows: [server.workflow], fetch: (input, init) => fetch(input, init) });
    try {
      assert.equal((await env.result(await env.start('ping'))).result, 'real server');
      assert.equal(server.hits(), 1);
    } finally {
      await env.close();
      server.close();
    }
  });
});

describe('advice of errors in a test environment', () => {
  test('a secret that is not configured names createTestEnv({ secrets }) and mocks, not the server configuration', async () => {
    const env = await createTestEnv({ workflows: [folder.path('token.ts')] });
    try {
      const run = await env.result(await env.start('token'));
      assert.equal(
        run.error?.message,
        "secret 'CHAT_TOKEN' is not configured: give it to the test environment, createTestEnv({ secrets: { CHAT_TOKEN: '…' } }), " +
          "or mock secrets: createTestEnv({ mocks: { secrets: handler } }) or env.mock('secrets', handler)",
      );
    } finally {
      await env.close();
    }
  });

  test('an activity that is not registered names createTestEnv({ activities }) and mocks', async () => {
    const env = await createTestEnv({ workflows: [folder.path('ticket.ts')] });
    try {
      const run = await env.result(await env.start('ticket'));
      assert.equal(
        run.error?.message,
        "no activity 'openTicket' is registered; give it to the test environment, createTestEnv({ activities: { openTicket: async (args) => … } }), " +
          "or mock activities: createTestEnv({ mocks: { activities: handler } }) or env.mock('activities', handler)",
      );
    } finally {
      await env.close();
    }
  });
});

describe('env.mock after creation', () => {
  test('answers secrets, emit and gitlab without a seed, and restoring puts the real one back', async () => {
    const env = await createTestEnv({ workflows: [folder.path('token.ts'), folder.path('announce.ts'), folder.path('issue.ts')] });
    try {
      const restoreSecrets = env.mock('secrets', () => 'from-mock');
      assert.equal((await env.result(await env.start('token'))).result, 'from-mock'.length);
      restoreSecrets();
      assert.equal((await env.result(await env.start('token'))).error?.name, 'CapabilityError', 'the real secrets again: none configured');

      const emitted: unknown[] = [];
      env.mock('emit', (_method, args) => {
        emitted.push(args);
        return { id: 'mocked', seq: 0 };
      });
      assert.equal((await env.result(await env.start('announce'))).result, 'announced');
      assert.deepEqual(emitted, [{ type: 'com.example.announced', data: { n: 1 } }]);
      assert.equal((await env.operations.listEvents({ type: 'com.example.announced' })).length, 0, 'the mock stood in for the inbox');

      const unmocked = await env.result(await env.start('issue'));
      assert.equal(
        unmocked.error?.message,
        'gitlab.issues.get was not sent: this test environment has no GitLab. Give it a simulated one, createTestEnv({ gitlab: demoSeed() }), ' +
          "or mock gitlab: createTestEnv({ mocks: { gitlab: handler } }) or env.mock('gitlab', handler)",
      );
      env.mock('gitlab', (method) => (method === 'issues.get' ? { iid: 1, title: 'Flaky job' } : null));
      assert.equal((await env.result(await env.start('issue'))).result, 'Flaky job');
    } finally {
      await env.close();
    }
  });

  test('a name the engine has no capability for is refused, listing the ones it has', async () => {
    const env = await createTestEnv({ workflows: [folder.path('token.ts')] });
    try {
      assert.throws(
        () => env.mock('slack', () => null),
        new RegExp(
          "^Error: capability 'slack' cannot be mocked after the environment was created: its engine has no capability of that name, " +
            'only http, secrets, emit, signals, tasks, activities, calendar, gitlab\\. ' +
            'To add one, pass it at creation: createTestEnv\\(\\{ mocks: \\{ slack: handler \\} \\}\\)$',
        ),
      );
    } finally {
      await env.close();
    }
  });
});
