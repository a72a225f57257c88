import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { autoflow } from '../../../test/helpers/cli-process.js';
import { workflowFolder } from '../../../test/helpers/workflow-files.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../app/runtime.js';
import { createApp } from '../../server/http/app.js';
import { serve, type RunningServer } from '../../server/serve.js';
import { createMemoryLogger } from '../../server/testing/fake-operations.js';

/** A pipeline whose build step, a child run, failed: the pipeline failed with the child's failure. */
const folder = workflowFolder({
  'pipeline.ts': `import { startChild, workflow } from 'autoflow';
export default workflow({
  name: 'pipeline',
  async run() {
    const build = await startChild('build', null, { id: 'ci-1.build' });
    return await build.result();
  },
});`,
  'build.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'build', async run() { throw new Error('the runner went away'); } });`,
});

const TOKEN = 'retry-tree-test-token-0123456789';
let runtime: Runtime;
let server: RunningServer;

before(async () => {
  runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: folder.dir, apiToken: TOKEN }));
  await runtime.start();
  server = await serve(createApp({ operations: runtime.operations, logger: createMemoryLogger() }), {
    port: 0,
    host: '127.0.0.1',
    shutdownGraceMs: 0,
  });
  await runtime.operations.startRun({ workflow: 'pipeline', id: 'ci-1' });
  assert.equal((await runtime.operations.waitForRun('ci-1', 20_000)).status, 'failed');
});
after(async () => {
  await server?.close();
  await runtime?.stop();
  folder.remove();
});

test('retry --failed --dry-run counts a parent whose failed child it retries first, as the retry itself does, without warnings about it', async () => {
  const dry = await autoflow(['retry', '--failed', '--dry-run'], {
    cwd: folder.dir,
    env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: TOKEN },
  });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(
    dry.stdout,
    /^run ci-1\.build \(build\) is failed since \S+ {2}Error: the runner went away\n {2}would go on, on version \w+\n/,
  );
  assert.match(
    dry.stdout,
    /\nrun ci-1 \(pipeline\) is failed since \S+ {2}.+\n {2}would go on after its child ci-1\.build, which this retry takes first\n$/,
  );
  assert.equal(
    dry.stderr,
    'dry run: 2 of 2 runs would be retried; nothing was retried\n',
    'no warning to retry ci-1 too: it is in the batch',
  );

  // Alone, the parent is refused as before: its child is failed and not retried first.
  const alone = await autoflow(['retry', 'ci-1', '--dry-run'], {
    cwd: folder.dir,
    env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: TOKEN },
  });
  assert.equal(alone.code, 1);
  assert.match(alone.stdout, /\n {2}✗ would be refused: run ci-1 failed because its child run ci-1\.build .+Retry the child first/);
  // And the child alone still says what its parent needs.
  const child = await autoflow(['retry', 'ci-1.build', '--dry-run'], {
    cwd: folder.dir,
    env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: TOKEN },
  });
  assert.match(
    child.stderr,
    /^warning: run ci-1\.build: its parent run ci-1 \(failed\) goes on only when it is retried too: autoflow retry ci-1\n/,
  );
  assert.equal((await runtime.operations.getRun('ci-1')).status, 'failed', 'nothing was retried');
});
