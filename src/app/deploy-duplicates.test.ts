/**
 * A workflow name declared by two files (a copy made to experiment with, a paste) is an error naming both files, and
 * the workflow deployed under that name keeps its version, on a redeploy (dev mode's) and at a restart, until one of
 * the files goes. The first file in alphabetical order used to win: `copy-of-nag.ts` replaced the live `stale-nag`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { DeployedDefinition } from '../core/model.js';
import { memoryLogger, messagesAt, type LogEntry } from '../../test/helpers/memory-logger.js';
import { VirtualClock } from './clocks.js';
import { checkWorkflowDirectory, undeclaredWorkflows, type FileResult } from './deploy.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from './runtime.js';

const root = mkdtempSync(join(tmpdir(), 'autoflow-duplicates-'));
after(() => rmSync(root, { recursive: true, force: true }));

const nag = (says: string): string =>
  `import { workflow } from 'autoflow';\nexport default workflow({ name: 'stale-nag', async run() { return '${says}'; } });\n`;

test('a name declared by two files keeps its deployed version, in a redeploy and at a restart, and check names both files', async () => {
  const dir = mkdtempSync(join(root, 'workflows-'));
  const original = join(dir, 'stale-nag.ts');
  const copy = join(dir, 'copy-of-nag.ts');
  writeFileSync(original, nag('original'));
  const logged: LogEntry[] = [];
  const clock = new VirtualClock();
  const start = async (): Promise<Runtime> => {
    const runtime = await createRuntime(
      embeddedRuntimeConfig({ db: { kind: 'sqlite', path: join(root, `${dir.slice(-6)}.db`) }, workflowsDir: dir, apiToken: 'test' }),
      { clock, logger: memoryLogger(logged), pollIntervalMs: null },
    );
    await runtime.start();
    return runtime;
  };
  const answer = async (runtime: Runtime, id: string): Promise<unknown> => {
    await runtime.operations.startRun({ workflow: 'stale-nag', id, input: null });
    await runtime.engine.whenIdle();
    return (await runtime.operations.getRun(id)).result;
  };

  let runtime = await start();
  try {
    const deployed = runtime.engine.activeDefinition('stale-nag');
    assert.equal(deployed?.origin, original);

    writeFileSync(copy, nag('copy'));
    await runtime.redeploy();
    assert.equal(runtime.engine.activeDefinition('stale-nag')?.version, deployed?.version, 'the copy did not replace the live workflow');
    assert.equal(await answer(runtime, 'after-copy'), 'original');
    let errors = messagesAt(logged, 'error');
    assert.equal(errors.length, 2, errors.join('\n'));
    for (const line of errors) {
      assert.ok(line.includes(original) && line.includes(copy), `names both files: ${line}`);
      assert.match(line, new RegExp(`the deployed stale-nag stays at version ${deployed?.version.slice(0, 12)} from ${original}`));
    }

    writeFileSync(original, nag('edited'));
    await runtime.redeploy();
    assert.equal(
      runtime.engine.activeDefinition('stale-nag')?.version,
      deployed?.version,
      'neither file replaces it while both declare it',
    );

    await runtime.stop();
    logged.length = 0;
    runtime = await start();
    assert.equal(runtime.engine.activeDefinition('stale-nag')?.version, deployed?.version, 'a restart keeps it too');
    errors = messagesAt(logged, 'error');
    assert.equal(errors.length, 2, errors.join('\n'));
    for (const line of errors) assert.match(line, new RegExp(`the deployed stale-nag stays at version ${deployed?.version.slice(0, 12)} `));
    assert.equal(await answer(runtime, 'after-restart'), 'original');

    const checked = await checkWorkflowDirectory(dir);
    assert.deepEqual(
      checked.map((result) => [result.file, result.error?.includes(original) && result.error.includes(copy)]),
      [
        [copy, true],
        [original, true],
      ],
      'autoflow check fails both files, each naming both',
    );

    rmSync(copy);
    await runtime.redeploy();
    assert.equal(await answer(runtime, 'resolved'), 'edited', 'once the conflict is resolved, the remaining file deploys');
  } finally {
    await runtime.stop();
  }
});

test('a name two files declare is not retired when the file it was deployed from is gone', () => {
  const dir = join(root, 'renamed');
  const conflict = (file: string): FileResult => ({
    file: join(dir, file),
    name: 'stale-nag',
    error: 'declared twice',
    declaredBy: [join(dir, 'a.ts'), join(dir, 'b.ts')],
  });
  const deployed = (name: string): DeployedDefinition => ({
    name,
    origin: join(dir, `${name}.ts`),
    version: name,
    manifest: { name, triggers: [], permissions: {}, validatesInput: false },
    bundle: '',
    deployedAt: 0,
  });
  assert.deepEqual(undeclaredWorkflows(dir, [conflict('a.ts'), conflict('b.ts')], [deployed('stale-nag'), deployed('gone')]), ['gone']);
});
