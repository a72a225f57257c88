import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/** How a cancelled run's cleanup ends, and what an error carries from where it happened to the run's end. */
const folder = workflowFolder({
  'cleanup.ts': `import { activities, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'cleanup',
  permissions: { activities: ['record'] },
  async run() {
    try {
      await sleep('1h');
    } finally {
      await activities.record('f1');
      await sleep('10m');
      await activities.record('f2');
    }
  },
});`,
  'compensate.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({
  name: 'compensate',
  async run() {
    try {
      await sleep('1h');
    } catch (error) {
      throw new Error('compensation failed', { cause: error });
    }
  },
});`,
  'ticket.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'ticket',
  permissions: { activities: ['fatal'] },
  async run() {
    try {
      await activities.fatal({});
    } catch (error: any) {
      throw new Error('gave up', { cause: error });
    }
  },
});`,
  'calls.ts': `import { http, workflow } from 'autoflow';
export default workflow({
  name: 'calls',
  permissions: { http: ['https://svc.example/'] },
  async run() {
    const seen: Record<string, unknown> = {};
    for (const path of ['unavailable', 'slow']) {
      try {
        await http.request({ url: 'https://svc.example/' + path, timeoutMs: 50 }, { retry: { maxAttempts: 2, initialInterval: 100 } });
      } catch (error: any) {
        seen[path] = { name: error.name, details: error.details };
      }
    }
    return seen;
  },
});`,
});
after(() => folder.remove());

class TicketError extends Error {
  override name = 'TicketError';
  details = { ticket: 42 };
}

describe('cancellation and errors', () => {
  test('a second cancel during the cleanup of the first is a no-op: the finally block runs to its end', async () => {
    const recorded: unknown[] = [];
    const env = await createTestEnv({
      workflows: [folder.path('cleanup.ts')],
      activities: { record: async (what) => void recorded.push(what) },
    });
    try {
      const id = await env.start('cleanup');
      await env.cancel(id, 'first');
      await env.advance('1m');
      // Whatever the server answers to the repeated request (the SDK ignores a second cancel that reaches the run
      // all the same: src/sdk/runtime-cancel.test.ts), the cleanup goes on.
      await env.operations.cancelRun(id, 'second').catch(() => undefined);
      const run = await env.result(id);
      assert.deepEqual(recorded, ['f1', 'f2']);
      assert.equal(run.status, 'cancelled');
      assert.equal(run.error?.message, `run ${id} was cancelled: first`);
    } finally {
      await env.close();
    }
  });

  test('a workflow that turns the cancellation into another error fails with it, the cancellation as its cause', async () => {
    const env = await createTestEnv({ workflows: [folder.path('compensate.ts')] });
    try {
      const id = await env.start('compensate');
      await env.cancel(id, 'withdrawn');
      const run = await env.run(id);
      assert.equal(run.status, 'failed');
      assert.equal(run.error?.message, 'compensation failed');
      assert.deepEqual(run.error?.cause, { name: 'CancelledError', message: 'The run was cancelled: withdrawn' });
    } finally {
      await env.close();
    }
  });

  test("an activity's error reaches the workflow as it was thrown, and the run's error keeps it as its cause, secrets redacted", async () => {
    const token = 's3cr3t-t0ken-value';
    const env = await createTestEnv({
      workflows: [folder.path('ticket.ts')],
      secrets: { TICKET_TOKEN: token },
      activities: {
        fatal: () =>
          Promise.reject(
            Object.assign(new TicketError('ticket system refused', { cause: new Error(`quota of ${token} used up`) }), {
              nonRetryable: true,
            }),
          ),
      },
    });
    try {
      const id = await env.start('ticket');
      const run = await env.result(id);
      assert.equal(run.status, 'failed');
      assert.equal(run.error?.message, 'gave up');
      assert.deepEqual(run.error?.cause, {
        name: 'TicketError',
        message: 'ticket system refused',
        details: { ticket: 42, code: 'activity_failed' },
        cause: { name: 'Error', message: 'quota of {{secret:TICKET_TOKEN}} used up' },
      });
      const stored = JSON.stringify([run, await env.history(id)]);
      assert.ok(!stored.includes(token), 'the secret is redacted from the causes too');
    } finally {
      await env.close();
    }
  });

  test('a call that gives up says why in details.code: a 503 with its status, a timeout as timeout', async () => {
    const fetch = (url: string | URL | Request): Promise<Response> =>
      (url instanceof Request ? url.url : String(url)).endsWith('/slow')
        ? Promise.reject(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))
        : Promise.resolve(new Response('down', { status: 503 }));
    const env = await createTestEnv({ workflows: [folder.path('calls.ts')], fetch });
    try {
      const run = await env.result(await env.start('calls'));
      assert.deepEqual(run.result, {
        unavailable: { name: 'CapabilityError', details: { status: 503, code: 'http_unavailable' } },
        slow: { name: 'CapabilityError', details: { timeoutMs: 50, code: 'timeout' } },
      });
    } finally {
      await env.close();
    }
  });
});
