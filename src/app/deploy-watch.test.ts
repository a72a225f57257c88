/**
 * Dev mode redeploys when a workflow file changes however the editor saves it: vim, JetBrains and `sed -i` write a
 * temporary file and rename it over the original, which node 20's recursive `fs.watch` lost track of for good.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createRuntime, embeddedRuntimeConfig } from './runtime.js';

const folder = workflowFolder();
// The database lives elsewhere, as it does for a user: its writes inside the folder would trigger redeploys of their own.
const data = mkdtempSync(join(tmpdir(), 'autoflow-dev-watch-'));
after(() => {
  folder.remove();
  rmSync(data, { recursive: true, force: true });
});

const source = (name: string, result: number): string =>
  `import { workflow } from 'autoflow';\nexport default workflow({ name: '${name}', async run() { return ${result}; } });\n`;

/** Polls `probe` until it holds: the watcher's debounce and chokidar's timing are not ours to know. */
async function until(what: string, probe: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('dev mode redeploys after an atomic save, an edit in place after it, and retires the deleted file', { timeout: 60_000 }, async () => {
  folder.write('greet.ts', source('greet', 1));
  const runtime = await createRuntime(
    embeddedRuntimeConfig({ db: { kind: 'sqlite', path: join(data, 'dev.db') }, workflowsDir: folder.dir, apiToken: 'test', dev: true }),
    { pollIntervalMs: null },
  );
  await runtime.start();
  try {
    const versionOf = (name: string): string | undefined => runtime.engine.activeDefinition(name)?.version;
    const first = versionOf('greet');
    assert.ok(first, 'greet is deployed at start');

    // start() returns once the folder is watched: a new file is deployed.
    folder.write('other.ts', source('other', 0));
    await until('the new file to deploy', async () => versionOf('other') !== undefined);

    const atomicSave = (text: string): void => {
      writeFileSync(folder.path('.greet.ts.swp'), text);
      renameSync(folder.path('.greet.ts.swp'), folder.path('greet.ts'));
    };
    atomicSave(source('greet', 2));
    await until('the atomic save to redeploy', async () => versionOf('greet') !== first);
    const second = versionOf('greet');

    writeFileSync(folder.path('greet.ts'), source('greet', 3));
    await until('the edit in place after an atomic save to redeploy', async () => versionOf('greet') !== second);
    const third = versionOf('greet');

    atomicSave(source('greet', 4));
    await until('a second atomic save to redeploy', async () => versionOf('greet') !== third);

    rmSync(folder.path('greet.ts'));
    await until('the deleted file to retire its workflow', async () => versionOf('greet') === undefined);
    assert.ok(versionOf('other'), 'the other workflow stays');
  } finally {
    await runtime.stop();
  }
});
