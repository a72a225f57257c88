/** A restart with the same workflow files deploys nothing: the versions on disk are those already active. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { memoryLogger, type LogEntry } from '../../test/helpers/memory-logger.js';
import { createRuntime, embeddedRuntimeConfig } from './runtime.js';

const root = mkdtempSync(join(tmpdir(), 'autoflow-restart-'));
after(() => rmSync(root, { recursive: true, force: true }));
const workflows = join(root, 'workflows');
mkdirSync(workflows);
for (const name of ['alpha', 'beta']) {
  writeFileSync(
    join(workflows, `${name}.ts`),
    `import { workflow } from 'autoflow';\nexport default workflow({ name: '${name}', async run() { return 1; } });\n`,
  );
}

async function startAndStop(): Promise<LogEntry[]> {
  const lines: LogEntry[] = [];
  const runtime = await createRuntime(
    embeddedRuntimeConfig({ db: { kind: 'sqlite', path: join(root, 'autoflow.db') }, workflowsDir: workflows, apiToken: 'test' }),
    { logger: memoryLogger(lines), pollIntervalMs: null },
  );
  await runtime.start();
  await runtime.stop();
  return lines;
}

test('a restart with unchanged files logs each workflow as unchanged, none as deployed', async () => {
  const deployedAt = (lines: LogEntry[]) => lines.filter((line) => line.message === 'workflow deployed').map((line) => line.data.workflow);
  assert.deepEqual(deployedAt(await startAndStop()), ['alpha', 'beta']);
  const again = await startAndStop();
  assert.deepEqual(deployedAt(again), []);
  assert.deepEqual(
    again.filter((line) => line.message === 'workflow unchanged').map((line) => line.data.workflow),
    ['alpha', 'beta'],
  );
});
