/**
 * What a server warns of at start about its configuration, where the first sign would otherwise be a run that fails
 * half-way: a secret whose value is empty (`process.env.X ?? ''` with X unset), and an activity a workflow's
 * permissions name that the configuration does not register.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { memoryLogger } from '../../test/helpers/memory-logger.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import type { ActivityFunction } from '../capabilities/activities.js';
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

test('a secret configured empty is not configured: one warning at start names it, and secrets.get fails as for an unknown name', async () => {
  const { runtime, warnings } = await startServer('notify.ts', { secrets: { CHAT_TOKEN: '', OTHER: '', SET: 'a-long-secret-value' } });
  try {
    assert.deepEqual(
      warnings().map((entry) => [entry.data, entry.message]),
      [
        [
          { secrets: ['CHAT_TOKEN', 'OTHER'] },
          'secrets with an empty value count as not configured, and secrets.get fails for them (secret_missing): CHAT_TOKEN, OTHER; ' +
            'set AUTOFLOW_SECRET_<NAME>, or the environment variable autoflow.config.ts reads the value from',
        ],
      ],
    );
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
