import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { CapabilityError, createTestEnv } from './index.js';

const DAY = 86_400_000;

const folder = workflowFolder({
  'month.ts': `import { now, sleep, waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'month',
  async run(input: { key: string }) {
    const started = now().getTime();
    await sleep('30d');
    const slept = now().getTime();
    const answer = await waitFor('com.example.answer', { match: { subject: input.key }, timeout: '7d' });
    return { started, slept, ended: now().getTime(), answer: answer === null ? null : answer.data };
  },
});`,
  'notify.ts': `import { http, workflow } from 'autoflow';
export default workflow({
  name: 'notify',
  permissions: { http: ['https://chat.example.com/'] },
  async run(input: { text: string }) {
    const first = await http.request({ url: 'https://chat.example.com/post', method: 'POST', body: { text: input.text } });
    const second = await http.request({ url: 'https://chat.example.com/post', method: 'POST', body: { text: 'again' } });
    return [first.status, second.status];
  },
});`,
  'hourly.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'hourly', triggers: [{ cron: '0 * * * *' }], async run() { return 'tick'; } });`,
  'broken.ts': `import { workflow } from 'autoflow';
import { missing } from './nowhere';
export default workflow({ name: 'broken', async run() { return missing; } });`,
});
after(() => folder.remove());

describe('createTestEnv: the workflows it is given', () => {
  test('schedules: false holds cron triggers, so advance() starts no scheduled run; by default they fire', async () => {
    const ticks = async (schedules?: boolean): Promise<number> => {
      const env = await createTestEnv({ workflows: [folder.path('hourly.ts')], ...(schedules === undefined ? {} : { schedules }) });
      try {
        await env.advance('3h');
        return (await env.runtime.operations.listRuns({ workflow: 'hourly' })).runs.length;
      } finally {
        await env.close();
      }
    };
    assert.equal(await ticks(false), 0);
    assert.equal(await ticks(), 3);
  });

  test('a workflow file that does not build fails the environment, naming the file and why', async () => {
    await assert.rejects(
      createTestEnv({ workflows: [folder.path('month.ts'), folder.path('broken.ts')] }),
      (error: Error) =>
        error.name === 'DefinitionError' &&
        error.message.startsWith(`${folder.path('broken.ts')}: Cannot bundle`) &&
        /nowhere/.test(error.message),
    );
  });
});

test('a run id that names no run fails history, calls and logs, as it fails run: a mistyped id asserts nothing', async () => {
  const env = await createTestEnv({ workflows: [] });
  try {
    const reads = [
      (id: string) => env.history(id),
      (id: string) => env.calls(id),
      (id: string) => env.logs(id),
      (id: string) => env.run(id),
    ];
    for (const read of reads) await assert.rejects(read('no-such-run'), /^Error: no run no-such-run$/);
  } finally {
    await env.close();
  }
});

test("what deploying warns about is the test's to see (env.warnings, a process warning), and so is an action by the account the workflows act as", async () => {
  const files = workflowFolder({
    'opened.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'opened', triggers: [{ event: 'com.gitlab.events.merge_request_opened' }], async run() { return 1; } });`,
  });
  const warned: string[] = [];
  const onWarning = (warning: Error) => void warned.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  const env = await createTestEnv({
    workflows: [files.path('opened.ts')],
    gitlab: {
      users: ['dana', 'erik'],
      groups: [{ path: 'acme', members: { dana: 'maintainer', erik: 'developer' } }],
      projects: [{ path: 'acme/app' }],
    },
  });
  try {
    assert.equal(env.warnings.length, 1);
    assert.match(env.warnings[0] ?? '', /opened\.ts: .*merge_request_opened.*did you mean .*merge_request_created/);
    await env.gitlab.actions.createIssue('dana', 'acme/app', { title: 'by the bot' });
    await env.gitlab.actions.createIssue('dana', 'acme/app', { title: 'again' });
    await env.gitlab.actions.createIssue('erik', 'acme/app', { title: 'by a person' });
    await setImmediate();
    assert.deepEqual(
      warned.map((warning) => warning.split(':')[0]),
      ['AutoFlowDeployWarning', 'AutoFlowTestWarning'],
      'each said once',
    );
    assert.match(warned[1] ?? '', /actions\.createIssue\('dana', …\): dana is the account the workflows act as \(the seed's first user\)/);
  } finally {
    process.off('warning', onWarning);
    await env.close();
    files.remove();
  }
});

describe('createTestEnv: virtual time', () => {
  test('a now that is no time (an invalid Date, NaN) is refused at once, saying so', async () => {
    for (const now of [new Date('2026-13-45'), Number.NaN, 1e300]) {
      await assert.rejects(
        createTestEnv({ workflows: [], now }),
        /^TypeError: createTestEnv\(\{ now \}\): .* is no time; pass a valid Date or epoch milliseconds$/,
      );
    }
  });

  test('a run that sleeps 30 days, then waits up to 7 days for an event, ends at once and sees exactly that much time pass', async () => {
    const env = await createTestEnv({ workflows: [folder.path('month.ts')] });
    try {
      const startedAt = env.now();
      const wallClock = performance.now();
      const id = await env.start('month', { key: 'nobody-answers' });
      const run = await env.result(id);
      assert.equal(run.status, 'completed');
      const { started, slept, ended, answer } = run.result as { started: number; slept: number; ended: number; answer: null };
      assert.equal(started, startedAt);
      assert.equal(slept - started, 30 * DAY);
      assert.equal(ended - slept, 7 * DAY);
      assert.equal(answer, null);
      assert.equal(env.now() - startedAt, 37 * DAY);
      assert.ok(performance.now() - wallClock < 5_000, 'no real waiting');
    } finally {
      await env.close();
    }
  });

  test('advance() moves time by exactly the duration, and an event on day 33 satisfies the wait', async () => {
    const env = await createTestEnv({ workflows: [new URL(`file://${folder.path('month.ts')}`)], now: new Date('2026-03-01T00:00:00Z') });
    try {
      const id = await env.start('month', { key: 'k1' });
      await env.advance('33d');
      assert.equal(env.now(), Date.parse('2026-03-01T00:00:00Z') + 33 * DAY);
      assert.equal((await env.run(id)).status, 'running');
      await env.emit({ type: 'com.example.answer', subject: 'k1', data: { yes: true } });
      const run = await env.run(id);
      assert.equal(run.status, 'completed');
      const { slept, ended, answer } = run.result as { slept: number; ended: number; answer: unknown };
      assert.equal(ended - slept, 3 * DAY);
      assert.deepEqual(answer, { yes: true });
    } finally {
      await env.close();
    }
  });
});

describe('createTestEnv: mocks and the calls log', () => {
  test('env.mock replaces a capability mid-test; calls() lists each call with its args and outcome, in order', async () => {
    const env = await createTestEnv({
      workflows: [folder.path('notify.ts')],
      fetch: () => Promise.resolve(new Response('real', { status: 200 })),
    });
    try {
      const restore = env.mock('http', (method, args) => ({ status: 201, headers: {}, body: { mocked: method, args } }));
      const mocked = await env.start('notify', { text: 'hi' });
      assert.deepEqual((await env.result(mocked)).result, [201, 201]);
      const calls = await env.calls(mocked);
      assert.deepEqual(
        calls.map(({ capability, method, args, status, attempts }) => ({ capability, method, args, status, attempts })),
        [
          {
            capability: 'http',
            method: 'request',
            args: { url: 'https://chat.example.com/post', method: 'POST', body: { text: 'hi' } },
            status: 'completed',
            attempts: 1,
          },
          {
            capability: 'http',
            method: 'request',
            args: { url: 'https://chat.example.com/post', method: 'POST', body: { text: 'again' } },
            status: 'completed',
            attempts: 1,
          },
        ],
      );
      assert.match(calls[0]?.site ?? '', /^notify\.ts:6:\d+$/);

      restore();
      const real = await env.start('notify', { text: 'hello' });
      assert.deepEqual((await env.result(real)).result, [200, 200]);
    } finally {
      await env.close();
    }
  });

  test('a failing mock shows up as a failed call; mocks given at creation answer capabilities the engine lacks', async () => {
    const env = await createTestEnv({
      workflows: [folder.path('notify.ts')],
      mocks: {
        http: () => {
          throw new CapabilityError('chat_down', 'chat is down', { retryable: false });
        },
      },
    });
    try {
      const id = await env.start('notify', { text: 'hi' });
      const run = await env.result(id);
      assert.equal(run.status, 'failed');
      const [call, ...rest] = await env.calls(id);
      assert.equal(rest.length, 0);
      assert.equal(call?.status, 'failed');
      assert.equal(call?.error?.message, 'chat is down');
      assert.throws(
        () => env.mock('slack', () => null),
        /capability 'slack' cannot be mocked after the environment was created.*mocks: \{ slack: handler \}/,
      );
      assert.throws(() => env.gitlab, /createTestEnv\(\{ workflows, gitlab: demoSeed\(\) \}\)/);
    } finally {
      await env.close();
    }
  });

  test('env.retry: once the mock answers again, a failed run goes on from its failed call without repeating the first', async () => {
    let down = false;
    const env = await createTestEnv({
      workflows: [folder.path('notify.ts')],
      mocks: {
        http: (_method, args) => {
          if (down) throw new CapabilityError('chat_down', 'chat is down', { retryable: false });
          down = (args as { body: { text: string } }).body.text === 'hi';
          return { status: 200, headers: {}, body: null };
        },
      },
    });
    try {
      const id = await env.start('notify', { text: 'hi' });
      assert.equal((await env.result(id)).status, 'failed');
      down = false;
      await env.retry(id);
      const run = await env.result(id);
      assert.equal(run.status, 'completed');
      assert.deepEqual(run.result, [200, 200]);
      assert.deepEqual(
        (await env.calls(id)).map((call) => [(call.args as { body: { text: string } }).body.text, call.status]),
        [
          ['hi', 'completed'],
          ['again', 'completed'],
        ],
        'the history keeps the first call once and the second as it finally went',
      );
    } finally {
      await env.close();
    }
  });
});
