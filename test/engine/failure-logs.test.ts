import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'fragile.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'fragile',
  permissions: { activities: ['refuse'] },
  async run() {
    await activities.refuse({}, { retry: { maxAttempts: 1 } });
  },
});`,
});
after(() => folder.remove());

test('a call that fails for good and a run that fails are each one warning in the server log, saying why', async () => {
  const lines: Array<{ level: number; msg: string; workflow?: string; err?: { type: string; name: string; message: string } }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  const env = await createTestEnv({
    workflows: [folder.path('fragile.ts')],
    activities: { refuse: () => Promise.reject(new Error('the ticket system said no')) },
    logger: pino({ level: 'warn' }, sink),
  });
  try {
    const id = await env.start('fragile', null, 'fragile-1');
    assert.equal((await env.result(id)).status, 'failed');
    const warnings = lines.filter((line) => line.level === 40).map((line) => line.msg);
    assert.deepEqual(warnings, [
      'call #1 activities.refuse of run fragile-1 failed: Error: the ticket system said no (gave up after 1 attempt)',
      'run fragile-1 of fragile failed: Error: the ticket system said no (gave up after 1 attempt)',
    ]);
    // Both lines name the workflow as a field, so that a log query can pick every failure of one workflow.
    assert.deepEqual(
      lines.filter((line) => line.level === 40).map((line) => line.workflow),
      ['fragile', 'fragile'],
    );
    // The error as the server's own errors are logged (`err`: type, message, stack), for one log query for all of them.
    assert.deepEqual(
      lines.filter((line) => line.level === 40).map((line) => [line.err?.type, line.err?.name, line.err?.message]),
      [
        ['Error', 'Error', 'the ticket system said no (gave up after 1 attempt)'],
        ['Error', 'Error', 'the ticket system said no (gave up after 1 attempt)'],
      ],
    );
  } finally {
    await env.close();
  }
});
