/**
 * Dev mode redeploys a workflow when a file it was built from changes outside the workflows folder: shared code
 * imported relatively (`../lib/util.ts`) and a linked package (`npm link`, `file:`), at its real path. Files of
 * packages installed in node_modules are not watched.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import type { Logger } from '../core/ports.js';
import { checkWorkflowDirectory } from './deploy.js';
import { createRuntime, embeddedRuntimeConfig } from './runtime.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'autoflow-inputs-')));
after(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const workflows = join(root, 'workflows');
const util = write(join(root, 'lib', 'util.ts'), "export const word = 'one';\n");
const linked = join(root, 'blocks');
write(join(linked, 'package.json'), JSON.stringify({ name: '@acme/blocks', type: 'module', exports: { '.': './index.ts' } }));
const block = write(join(linked, 'index.ts'), "export const blockWord = 'b1';\n");
// As in a workflows repository: node_modules beside the workflows folder, not in it.
mkdirSync(join(root, 'node_modules', '@acme'), { recursive: true });
symlinkSync(linked, join(root, 'node_modules', '@acme', 'blocks'));
write(join(root, 'node_modules', 'installed', 'package.json'), JSON.stringify({ name: 'installed', main: 'index.js' }));
write(join(root, 'node_modules', 'installed', 'index.js'), "export const installedWord = 'i1';\n");
const usesUtil = write(
  join(workflows, 'uses-util.ts'),
  `import { workflow } from 'autoflow';
import { blockWord } from '@acme/blocks';
import { installedWord } from 'installed';
import { word } from '../lib/util';
export default workflow({ name: 'uses-util', async run() { return [word, blockWord, installedWord]; } });
`,
);
write(
  join(workflows, 'other.ts'),
  "import { workflow } from 'autoflow';\nexport default workflow({ name: 'other', async run() { return 0; } });\n",
);

test('a build names the files it was built from: its own, shared code outside the folder, linked packages; not node_modules', async () => {
  const results = await checkWorkflowDirectory(workflows);
  const inputs = Object.fromEntries(
    results.map((result): [string, string[]] => [result.name ?? result.file, [...(result.inputs ?? [])].sort()]),
  );
  assert.deepEqual(inputs, { other: [join(workflows, 'other.ts')], 'uses-util': [block, util, usesUtil].sort() });
});

test('dev mode redeploys the workflows that use a changed file outside the folder, and only those', { timeout: 60_000 }, async () => {
  const deployed: Array<(workflow: string) => void> = [];
  const logger: Logger = {
    debug: () => undefined,
    info: (data, message) => {
      const workflow = (data as { workflow?: string }).workflow;
      if (message === 'workflow deployed' && workflow !== undefined) for (const listener of deployed) listener(workflow);
    },
    warn: () => undefined,
    error: () => undefined,
    child: () => logger,
  };
  /** Resolves with the workflows deployed by the next redeploy that deploys `name`: no polling, the log line says it. */
  const nextDeployOf = (name: string): Promise<void> =>
    new Promise((resolve) => {
      const listener = (workflow: string): void => {
        if (workflow !== name) return;
        deployed.splice(deployed.indexOf(listener), 1);
        resolve();
      };
      deployed.push(listener);
    });
  const runtime = await createRuntime(
    embeddedRuntimeConfig({ db: { kind: 'sqlite', path: join(root, 'dev.db') }, workflowsDir: workflows, apiToken: 'test', dev: true }),
    { logger, pollIntervalMs: null },
  );
  await runtime.start();
  try {
    const version = (name: string): string | undefined => runtime.engine.activeDefinition(name)?.version;
    const other = version('other');
    const first = version('uses-util');

    let redeployed = nextDeployOf('uses-util');
    writeFileSync(util, "export const word = 'two';\n");
    await redeployed;
    const second = version('uses-util');
    assert.notEqual(second, first);

    redeployed = nextDeployOf('uses-util');
    writeFileSync(block, "export const blockWord = 'b2';\n");
    await redeployed;
    assert.notEqual(version('uses-util'), second);
    assert.equal(version('other'), other, 'a workflow that does not use the files keeps its version');

    const { run } = await runtime.operations.startRun({ workflow: 'uses-util', id: 'latest', input: null });
    await runtime.engine.whenIdle();
    assert.deepEqual((await runtime.operations.getRun(run.id)).result, ['two', 'b2', 'i1']);
  } finally {
    await runtime.stop();
  }
});
