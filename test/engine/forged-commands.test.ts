/**
 * A workflow's commands come out of its sandbox, where its own code runs beside the SDK's: it can
 * replace what the SDK uses, or name other runs through the public API. Whatever it does, it must
 * not reach a run that is not its own (here: cancel one), and a reply the host cannot read fails
 * only its own run.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { DatabaseConfig } from '../../src/config/database.js';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const FORGED = '{"kind":"cancelled","children":["victim-1"]}';

const folder = workflowFolder({
  'victim.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({ name: 'victim', async run() { await sleep('30d'); return 'victim done'; } });`,
  // No permissions at all: it only replaces JSON.stringify, so that the SDK would write its forged command.
  'forger.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({
  name: 'forger',
  async run() {
    (JSON as { stringify: unknown }).stringify = () => ${JSON.stringify(FORGED)};
    await sleep('1m');
    return 'forger done';
  },
});`,
  // Only the public API: a child id that is another run's. That run exists, so no child is started,
  // but the id is among the children the SDK lists when this run is cancelled.
  'borrower.ts': `import { sleep, startChild, workflow } from 'autoflow';
export default workflow({
  name: 'borrower',
  async run() {
    await startChild('victim', null, { id: 'victim-2' });
    await sleep('30d');
  },
});`,
  'malformed.ts': `import { startChild, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'malformed',
  async run() {
    await startChild('victim', null, { id: 42 as unknown as string });
    await sleep('30d');
  },
});`,
});
after(() => folder.remove());

const workflows = ['victim.ts', 'forger.ts', 'borrower.ts', 'malformed.ts'].map((name) => folder.path(name));
const databases: Array<[string, () => DatabaseConfig]> = [
  ['memory', () => ({ kind: 'memory' })],
  ['sqlite', () => ({ kind: 'sqlite', path: join(folder.dir, `runs-${Math.random().toString(36).slice(2)}.db`) })],
];

for (const [store, db] of databases) {
  describe(`forged commands (${store} store)`, () => {
    test('a workflow that replaces JSON.stringify to forge a cancel of another run leaves that run running', async () => {
      const env = await createTestEnv({ workflows, db: db() });
      try {
        await env.start('victim', null, 'victim-1');
        await env.start('forger', null, 'forger-1');
        await env.advance('1h');
        const victim = await env.run('victim-1');
        assert.equal(victim.status, 'running', JSON.stringify(victim.error));
        assert.deepEqual(
          (await env.history('victim-1')).map((event) => event.type),
          ['run_started', 'workflow_task', 'timer_started'],
          'the victim received nothing',
        );
        // The SDK wrote its commands with its own copy of JSON.stringify: the forger simply slept and finished.
        const forger = await env.run('forger-1');
        assert.equal(forger.status, 'completed', JSON.stringify(forger.error));
        assert.equal(forger.result, 'forger done');
        assert.equal((await env.result('victim-1')).result, 'victim done');
      } finally {
        await env.close();
      }
    });

    test('cancelling a run whose child id names another run cancels only its own children, not that run', async () => {
      const env = await createTestEnv({ workflows, db: db() });
      try {
        await env.start('victim', null, 'victim-2');
        await env.start('borrower', null, 'borrower-1');
        await env.cancel('borrower-1', 'stop');
        assert.equal((await env.run('borrower-1')).status, 'cancelled');
        const victim = await env.run('victim-2');
        assert.equal(victim.status, 'running', JSON.stringify(victim.error));
        assert.equal(victim.parentId, undefined);
      } finally {
        await env.close();
      }
    });

    test('a command the host cannot read fails its own run, saying what was wrong', async () => {
      const env = await createTestEnv({ workflows, db: db() });
      try {
        await env.start('victim', null, 'victim-3');
        const id = await env.start('malformed', null, 'malformed-1');
        const run = await env.run(id);
        assert.equal(run.status, 'failed');
        assert.match(run.error?.message ?? '', /Workflow 'malformed' returned commands the host cannot accept/);
        assert.match(run.error?.message ?? '', /command 1 of 2 \(kind 'child'\): 'childId' must be a string/);
        assert.equal((await env.run('victim-3')).status, 'running');
        assert.deepEqual(
          (await env.operations.listRuns({})).runs.map((r) => r.id).sort(),
          ['malformed-1', 'victim-3'],
          'no run was started with the malformed id',
        );
      } finally {
        await env.close();
      }
    });
  });
}
