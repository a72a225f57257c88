import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/**
 * A workflow's log lines are repeated in the server's log, a few per workflow task: one run that logged 1,000 lines a
 * task wrote 116 MB to the server's stdout. The run's own log keeps them all.
 */
const folder = workflowFolder({
  'chatty.ts': `import { log, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'chatty',
  async run() {
    for (let i = 0; i < 50; i++) log.info('line ' + i);
    log.error('the one that matters');
    await sleep('1s');
    log.warn('after the sleep');
  },
});`,
});
after(() => folder.remove());

interface Line {
  level: number;
  msg: string;
  runId?: string;
  workflow?: string;
  source?: string;
}

test("a task's first 20 log lines reach the server's log, then one line that counts the rest; the run keeps them all", async () => {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Line);
      done();
    },
  });
  const env = await createTestEnv({ workflows: [folder.path('chatty.ts')], logger: pino({ level: 'debug' }, sink) });
  try {
    const id = await env.start('chatty', null, 'chatty-1');
    assert.equal((await env.result(id)).status, 'completed');
    const mirrored = lines.filter((line) => line.source === 'workflow');
    assert.ok(mirrored.every((line) => line.runId === id && line.workflow === 'chatty'));
    assert.deepEqual(
      mirrored.map((line) => line.msg),
      [
        ...Array.from({ length: 20 }, (_, i) => `line ${i}`),
        `run ${id} logged 31 more lines in this workflow task, not repeated here; read them with: autoflow logs ${id}`,
        'after the sleep',
      ],
    );
    assert.equal(mirrored[20]?.level, 50, 'at the level of the most severe line it stands for (an error)');
    assert.equal((await env.logs(id)).length, 52, 'the run keeps every line');
  } finally {
    await env.close();
  }
});
