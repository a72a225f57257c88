/**
 * A workflow name declared by two files (a copy made to experiment with, a paste, another team's file) stays with the
 * file the deployed workflow came from: its edits go on deploying, on a redeploy (dev mode's) and at a restart, and the
 * other file is an error naming it. The first file in alphabetical order used to win (`copy-of-nag.ts` replaced the
 * live `stale-nag`), and later neither deployed, so that one team's stray file froze another team's workflow.
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

test('a name declared by two files stays with the file it was deployed from, in a redeploy and at a restart, and check names both files', async () => {
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
    const refusals = () => messagesAt(logged, 'error').filter((line) => line.includes('stale-nag'));
    assert.deepEqual(
      refusals().map((line) => [line.includes(copy), line.includes(`belongs to ${original}`)]),
      [[true, true]],
      `only the copy is refused, naming the file the name belongs to: ${refusals().join('\n')}`,
    );
    assert.ok(
      logged.some((line) => line.level === 'warn' && line.data.file === original && line.message.includes(`also declared by ${copy}`)),
      'the original is told of the copy',
    );

    writeFileSync(original, nag('edited'));
    await runtime.redeploy();
    assert.equal(await answer(runtime, 'after-edit'), 'edited', "the original's edits deploy while the copy declares its name");
    const edited = runtime.engine.activeDefinition('stale-nag')?.version;

    await runtime.stop();
    logged.length = 0;
    runtime = await start();
    assert.equal(runtime.engine.activeDefinition('stale-nag')?.version, edited, 'a restart keeps it too');
    assert.equal(refusals().length, 1, refusals().join('\n'));
    assert.equal(await answer(runtime, 'after-restart'), 'edited');

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
    writeFileSync(original, nag('resolved'));
    logged.length = 0;
    await runtime.redeploy();
    assert.equal(await answer(runtime, 'resolved'), 'resolved');
    assert.deepEqual(refusals(), [], 'once the copy is gone, nothing is refused');
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
