/**
 * What a server warns of at start about its configuration, where the first sign would otherwise be a run that fails
 * half-way: a secret whose value is empty (`process.env.X ?? ''` with X unset), and a secret or an activity a
 * workflow's permissions name that the configuration does not set or register. And what stops it: a secret too short.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { memoryLogger } from '../../test/helpers/memory-logger.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import type { ActivityFunction } from '../capabilities/activities.js';
import { ConfigError } from '../core/errors.js';
import { VirtualClock } from './clocks.js';
import { createRuntime, embeddedRuntimeConfig } from './runtime.js';

const folder = workflowFolder({
  'notify.ts': `import { secrets, workflow } from 'autoflow';
export default workflow({
  name: 'notify',
  permissions: { secrets: ['CHAT_TOKEN'] },
  async run() {
    return await secrets.get('CHAT_TOKEN');
  },
});`,
  'tickets.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'tickets',
  permissions: { activities: ['openTicket', 'closeTicket'] },
  async run() {
    return await activities.openTicket({ title: 'x' });
  },
});`,
});
after(() => folder.remove());

/** A server with one of the workflows, started, and what it logged. */
async function startServer(workflow: string, parts: { secrets?: Record<string, string>; activities?: Record<string, ActivityFunction> }) {
  const logger = memoryLogger();
  const runtime = await createRuntime(
    embeddedRuntimeConfig({
      db: { kind: 'memory' },
      workflowsDir: folder.dir,
      workflowFiles: [folder.path(workflow)],
      apiToken: 'test',
      ...parts,
    }),
    { clock: new VirtualClock(), logger, pollIntervalMs: null },
  );
  await runtime.start();
  const warnings = () => logger.entries.filter((entry) => entry.level === 'warn');
  return { runtime, warnings };
}

const chatTokenMissing =
  "permissions.secrets: workflow notify may read secret 'CHAT_TOKEN', but no secret 'CHAT_TOKEN' is configured on this server, " +
  "so secrets.get('CHAT_TOKEN') will fail (secret_missing); set AUTOFLOW_SECRET_CHAT_TOKEN or add it to secrets in autoflow.config.ts, " +
  'or remove it from permissions.secrets';

test('a secret configured empty is not configured: one warning at start names it, the workflow that reads it is deployed with another, and secrets.get fails as for an unknown name', async () => {
  const { runtime, warnings } = await startServer('notify.ts', { secrets: { CHAT_TOKEN: '', OTHER: '', SET: 'a-long-secret-value' } });
  try {
    assert.deepEqual(
      warnings().map((entry) => entry.message),
      [
        'secrets with an empty value count as not configured, and secrets.get fails for them (secret_missing): CHAT_TOKEN, OTHER; ' +
          'set AUTOFLOW_SECRET_<NAME>, or the environment variable autoflow.config.ts reads the value from',
        chatTokenMissing,
      ],
    );
    assert.deepEqual(warnings()[0]?.data, { secrets: ['CHAT_TOKEN', 'OTHER'] });
    await runtime.operations.startRun({ workflow: 'notify', id: 'n1', input: null });
    await runtime.engine.whenIdle();
    const run = await runtime.operations.getRun('n1');
    assert.equal(run.status, 'failed');
    assert.equal(
      run.error?.message,
      "secret 'CHAT_TOKEN' is not configured: set AUTOFLOW_SECRET_CHAT_TOKEN or add it to secrets in autoflow.config.ts",
    );
    assert.equal((run.error?.details as { code?: string } | undefined)?.code, 'secret_missing');
  } finally {
    await runtime.stop();
  }
});

test('a workflow whose permissions name a secret the configuration does not set (a typo of its name) is deployed with a warning naming both', async () => {
  const { runtime, warnings } = await startServer('notify.ts', { secrets: { CHAT_TOKN: 'a-long-secret-value' } });
  try {
    assert.deepEqual(
      warnings().map((entry) => [entry.data.workflow, entry.message]),
      [['notify', chatTokenMissing]],
    );
    assert.ok(runtime.engine.activeDefinition('notify'), 'deployed all the same: the configuration may be fixed later');
  } finally {
    await runtime.stop();
  }
});

test('a secret shorter than 8 characters stops the start, naming it: its value would be rewritten wherever it occurs', async () => {
  await assert.rejects(
    startServer('notify.ts', { secrets: { CHAT_TOKEN: 'a-long-secret-value', FLAG: 'true', PIN: '1234567', UNSET: '' } }),
    (error: Error) =>
      error instanceof ConfigError &&
      error.message ===
        'secrets shorter than 8 characters: FLAG, PIN. Secret values are kept out of history, logs and the API by replacing them ' +
          "wherever they occur, and so short a value occurs in ordinary text, which would be rewritten too (a secret 'true' would " +
          "change every 'true' a run handles); give each a longer value",
  );
});

test('a workflow whose permissions name an activity the configuration lacks is deployed with a warning naming both', async () => {
  const openTicket: ActivityFunction = () => Promise.resolve({ id: 'T-1' });
  const { runtime, warnings } = await startServer('tickets.ts', { activities: { openTicket } });
  try {
    assert.deepEqual(
      warnings().map((entry) => [entry.data.workflow, entry.message]),
      [
        [
          'tickets',
          "permissions.activities: workflow tickets may call activity 'closeTicket', but no activity 'closeTicket' is registered on this server, " +
            'so its calls will fail (unknown_activity); add it to activities in autoflow.config.ts, or remove it from permissions.activities',
        ],
      ],
    );
    assert.ok(runtime.engine.activeDefinition('tickets'), 'deployed all the same: the configuration may be fixed later');
    await runtime.operations.startRun({ workflow: 'tickets', id: 't1', input: null });
    await runtime.engine.whenIdle();
    assert.deepEqual((await runtime.operations.getRun('t1')).result, { id: 'T-1' });
  } finally {
    await runtime.stop();
  }
});
