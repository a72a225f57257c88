import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { pino } from 'pino';
import type { Logger } from '../../src/core/ports.js';
import { createTestEnv } from '../../src/testing/index.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'flaky.ts': `import { activities, workflow } from 'autoflow';
export default workflow({ name: 'flaky', permissions: { activities: ['send'] }, async run() { return activities.send('hi'); } });`,
});
after(() => folder.remove());

test('each failed attempt that will be retried is a warning in the server log: run, call, attempt, error, next attempt', async () => {
  const lines: { level: number; msg: string; runId?: string; call?: string; attempt?: number; nextAt?: string }[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
        done();
      },
    }),
  ) as unknown as Logger;
  let attempts = 0;
  const env = await createTestEnv({
    workflows: [folder.path('flaky.ts')],
    logger,
    activities: {
      send: () => (++attempts <= 2 ? Promise.reject(new Error('mail server busy')) : Promise.resolve('sent')),
    },
  });
  try {
    const id = await env.start('flaky');
    const run = await env.result(id);
    assert.deepEqual([run.status, run.result], ['completed', 'sent']);
    const warnings = lines.filter((line) => line.level === 40 && line.call === 'activities.send');
    assert.deepEqual(
      warnings.map((line) => [line.runId, line.attempt]),
      [
        [id, 1],
        [id, 2],
      ],
    );
    assert.match(
      warnings[0]!.msg,
      /^call #1 activities\.send of run .+ failed \(attempt 1\): Error: mail server busy; next attempt at \d{4}-\d\d-\d\dT/,
    );
  } finally {
    await env.close();
  }
});
