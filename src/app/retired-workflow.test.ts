import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { NotFoundError } from '../core/errors.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createRuntime, embeddedRuntimeConfig } from './runtime.js';

const folder = workflowFolder({
  'probe.ts': `import { workflow } from 'autoflow';\nexport default workflow({ name: 'probe', async run() { return 1; } });`,
  'keeper.ts': `import { workflow } from 'autoflow';\nexport default workflow({ name: 'keeper', async run() { return 2; } });`,
});
after(() => folder.remove());

async function notFound(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof NotFoundError, `expected a NotFoundError (404, exit 1), got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected a NotFoundError');
}

for (const db of [{ kind: 'memory' as const }, { kind: 'sqlite' as const, path: folder.path('retired.db') }]) {
  test(`${db.kind}: starting a retired workflow says it was retired and how to bring it back; an unknown name lists the deployed`, async () => {
    const runtime = await createRuntime(embeddedRuntimeConfig({ db, workflowsDir: folder.dir, apiToken: 'test' }), {
      pollIntervalMs: null,
    });
    await runtime.start();
    try {
      await runtime.operations.retireWorkflow('probe');
      assert.equal(
        await notFound(runtime.operations.startRun({ workflow: 'probe', input: null })),
        "workflow 'probe' does not exist; it was retired (undeployed, or its file left the workflows folder): deploy its file again to run it " +
          '(the server deploys its workflows folder when it starts, and on every change with --dev)',
      );
      assert.equal(
        await notFound(runtime.operations.startRun({ workflow: 'porbe', input: null })),
        "workflow 'porbe' does not exist; deployed: keeper",
      );
    } finally {
      await runtime.stop();
    }
  });
}
