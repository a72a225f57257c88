/**
 * `secretAccess`: on a server shared by teams, a workflow file asks for secrets itself (`permissions.secrets`), so any
 * author could ask for another team's deploy key; the operator's list decides who gets it.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { memoryLogger, type LogEntry } from '../../test/helpers/memory-logger.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { ConfigError } from '../core/errors.js';
import { join } from 'node:path';
import { createRuntime, embeddedRuntimeConfig } from './runtime.js';

const reader = (name: string) => `import { secrets, workflow } from 'autoflow';
export default workflow({
  name: '${name}',
  permissions: { secrets: ['TEAM_A_KEY'] },
  async run() {
    try {
      return { read: (await secrets.get('TEAM_A_KEY')).length };
    } catch (error) {
      return { refused: (error as Error).message };
    }
  },
});`;
const folder = workflowFolder({
  'team-a-deploy.ts': reader('team-a-deploy'),
  'team-b-tools.ts': reader('team-b-tools'),
  // Reads the secret, then waits: a server that replays it later may keep the secret from it.
  'team-a-wait.ts': `import { secrets, signal, workflow } from 'autoflow';
export default workflow({
  name: 'team-a-wait',
  permissions: { secrets: ['TEAM_A_KEY'] },
  async run() {
    const key = await secrets.get('TEAM_A_KEY');
    await signal('go');
    return { length: key.length };
  },
});`,
});
after(() => folder.remove());

const secrets = { TEAM_A_KEY: 'team-a-secret-value', TEAM_B_KEY: 'team-b-secret-value' };

test('only the workflows secretAccess names read a secret; another that asks for it is warned of at deploy and refused', async () => {
  const lines: LogEntry[] = [];
  const runtime = await createRuntime(
    embeddedRuntimeConfig({
      db: { kind: 'memory' },
      workflowsDir: folder.dir,
      apiToken: 'secret-access-test-token',
      secrets,
      secretAccess: { TEAM_A_KEY: ['team-a-*'] },
    }),
    { logger: memoryLogger(lines), pollIntervalMs: null },
  );
  try {
    await runtime.start();
    const warned = lines.filter((line) => line.level === 'warn' && line.message.includes("asks for secret 'TEAM_A_KEY'"));
    assert.deepEqual(
      warned.map((line) => line.data.workflow),
      ['team-b-tools'],
    );
    assert.match(warned[0]!.message, /secretAccess gives to team-a-\* only/);
    const resultOf = async (workflow: string) => {
      const { run } = await runtime.operations.startRun({ workflow, id: `${workflow}-1` });
      await runtime.engine.whenIdle();
      return (await runtime.operations.getRun(run.id)).result;
    };
    assert.deepEqual(await resultOf('team-a-deploy'), { read: secrets.TEAM_A_KEY.length });
    assert.deepEqual(await resultOf('team-b-tools'), {
      refused: "workflow 'team-b-tools' may not read secret 'TEAM_A_KEY': the server's secretAccess lets only team-a-* read it",
    });
  } finally {
    await runtime.stop();
  }
});

test('secretAccess naming a secret the server does not set stops the start: a typo would leave the real one open', async () => {
  await assert.rejects(
    createRuntime(
      embeddedRuntimeConfig({
        db: { kind: 'memory' },
        workflowsDir: folder.dir,
        apiToken: 'secret-access-test-token',
        secrets,
        secretAccess: { TEAM_A_KY: ['team-a-*'] },
      }),
    ),
    (error: Error) =>
      error instanceof ConfigError &&
      /secretAccess names 'TEAM_A_KY', which is not among the configured secrets \(TEAM_A_KEY, TEAM_B_KEY\)/.test(error.message),
  );
});

test('a run that read a secret which secretAccess keeps from it by now is held, never handed the reference text as the value', async () => {
  const path = join(folder.dir, 'held.db');
  const start = async (allowed: string[], lines: LogEntry[] = []) => {
    const runtime = await createRuntime(
      embeddedRuntimeConfig({
        db: { kind: 'sqlite', path },
        workflowsDir: folder.dir,
        apiToken: 'secret-access-test-token',
        secrets,
        secretAccess: { TEAM_A_KEY: allowed },
      }),
      { logger: memoryLogger(lines), pollIntervalMs: null },
    );
    await runtime.start();
    return runtime;
  };
  let runtime = await start(['team-a-*']);
  try {
    await runtime.operations.startRun({ workflow: 'team-a-wait', id: 'held-1' });
    await runtime.engine.whenIdle();
  } finally {
    await runtime.stop();
  }
  const lines: LogEntry[] = [];
  runtime = await start(['nobody'], lines);
  try {
    await runtime.operations.signalRun('held-1', 'go', true);
    await runtime.engine.whenIdle();
    const run = await runtime.operations.getRun('held-1');
    assert.equal(run.status, 'running', `not advanced on a reference: ${JSON.stringify(run.result)}`);
    assert.ok(
      lines.some(
        (line) =>
          JSON.stringify(line.data).includes('secret_withheld') ||
          /kept from its workflow by the server's secretAccess/.test(JSON.stringify(line.data)),
      ),
      'the log says why',
    );
  } finally {
    await runtime.stop();
  }
  runtime = await start(['team-a-*']);
  try {
    await runtime.engine.whenIdle();
    const run = await runtime.operations.waitForRun('held-1', 5000);
    assert.deepEqual(run.result, { length: secrets.TEAM_A_KEY.length }, 'given access again, it goes on with the value');
  } finally {
    await runtime.stop();
  }
});
