/**
 * A workflow file too big to bundle (a 40 MB string constant made the server take ≈50 s before listening, stored
 * 80 MB and cost every run 5 s) is refused at deploy and by `autoflow check`, naming it; the other files deploy.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { memoryLogger, messagesAt } from '../../test/helpers/memory-logger.js';
import { VirtualClock } from './clocks.js';
import { checkWorkflowDirectory } from './deploy.js';
import { createRuntime, embeddedRuntimeConfig } from './runtime.js';

const root = mkdtempSync(join(tmpdir(), 'autoflow-deploy-size-'));
after(() => rmSync(root, { recursive: true, force: true }));

const workflowSource = (name: string, data = ''): string =>
  `import { workflow } from 'autoflow';\nconst DATA = '${data}';\nexport default workflow({ name: '${name}', async run() { return DATA.length; } });\n`;

test('a workflow file over the bundle limit is refused by deploy and check with its size and the limit; the others deploy', async () => {
  const dir = mkdtempSync(join(root, 'workflows-'));
  const big = join(dir, 'big.ts');
  writeFileSync(join(dir, 'small.ts'), workflowSource('small'));
  writeFileSync(big, workflowSource('big', 'x'.repeat(6 * 1024 * 1024)));
  const sizeError = /big\.ts is 6\.0 MiB, more than a workflow's bundle may hold \(5\.0 MiB\)\. Keep data out of the workflow's code/;

  const checked = await checkWorkflowDirectory(dir);
  assert.deepEqual(
    checked.map((result) => [result.name, result.error !== undefined]),
    [
      [undefined, true],
      ['small', false],
    ],
  );
  assert.match(String(checked[0]?.error), sizeError);

  const logger = memoryLogger();
  const runtime = await createRuntime(
    embeddedRuntimeConfig({ db: { kind: 'sqlite', path: join(root, 'size.db') }, workflowsDir: dir, apiToken: 'test' }),
    { clock: new VirtualClock(), logger, pollIntervalMs: null },
  );
  await runtime.start();
  try {
    assert.ok(runtime.engine.activeDefinition('small'), 'the other workflow is deployed');
    assert.equal(runtime.engine.activeDefinition('big'), undefined);
    const errors = messagesAt(logger.entries, 'error');
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /^workflow not deployed: Cannot bundle the workflow .*big\.ts:/);
    assert.match(errors[0] ?? '', sizeError);
  } finally {
    await runtime.stop();
  }
});
