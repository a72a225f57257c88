import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { autoflow, type CliOutcome } from '../../../test/helpers/cli-process.js';
import { workflowFolder } from '../../../test/helpers/workflow-files.js';
import type { RunView } from '../../app/operations.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../app/runtime.js';
import { createApp } from '../../server/http/app.js';
import { serve, type RunningServer } from '../../server/serve.js';
import { createMemoryLogger } from '../../server/testing/fake-operations.js';

/** A release train: one child run per service, of which one deploys, one fails and one waits for a go. */
const folder = workflowFolder({
  'deploy.ts': `import { signal, workflow } from 'autoflow';
export default workflow({
  name: 'deploy',
  async run(input: { service: string; outcome: 'ok' | 'fail' | 'wait' }) {
    if (input.outcome === 'fail') throw new Error(input.service + ' refused the deploy\\nsee its pipeline');
    if (input.outcome === 'wait') await signal('go', { timeout: '1d' });
    return { deployed: input.service };
  },
});`,
  'release.ts': `import { startChild, workflow } from 'autoflow';
export default workflow({
  name: 'release',
  async run() {
    const api = await startChild('deploy', { service: 'api', outcome: 'ok' }, { id: 'rel1-api' });
    const web = await startChild('deploy', { service: 'web', outcome: 'fail' }, { id: 'rel1-web' });
    await startChild('deploy', { service: 'db', outcome: 'wait' }, { id: 'rel1-db' });
    return (await Promise.allSettled([api.result(), web.result()])).map((settled) => settled.status);
  },
});`,
});

/** `autoflow runs --parent` and `autoflow show` of a parent, against a server running the workflows. */
describe('the child runs of a parent', () => {
  let runtime: Runtime;
  let server: RunningServer;
  const cli = (args: string[]): Promise<CliOutcome> =>
    autoflow(args, { cwd: folder.dir, env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: 'test-token' } });

  before(async () => {
    runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: folder.dir, apiToken: 'test-token' }));
    await runtime.start();
    server = await serve(createApp({ operations: runtime.operations, logger: createMemoryLogger() }), {
      port: 0,
      host: '127.0.0.1',
      shutdownGraceMs: 0,
    });
    await runtime.operations.startRun({ workflow: 'release', id: 'rel1' });
    assert.equal((await runtime.operations.waitForRun('rel1', 20_000)).status, 'completed');
  });
  after(async () => {
    await server?.close();
    await runtime?.stop();
    folder.remove();
  });

  test('runs --parent lists its children only; -q and --json as for any list', async () => {
    const table = await cli(['runs', '--parent', 'rel1']);
    assert.equal(table.code, 0, table.stderr);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^ID\s+WORKFLOW\s+VERSION\s+STATUS\s+CREATED\s+UPDATED$/, 'no PARENT column: --parent names it');
    assert.deepEqual(
      rows
        .map((row) =>
          row
            .split(/\s+/)
            .slice(0, 4)
            .filter((_, i) => i !== 2),
        )
        .sort(),
      [
        ['rel1-api', 'deploy', 'completed'],
        ['rel1-db', 'deploy', 'running'],
        ['rel1-web', 'deploy', 'failed'],
      ],
    );
    assert.equal((await cli(['runs', '--parent', 'rel1', '--status', 'failed', '-q'])).stdout, 'rel1-web\n');
    const json = JSON.parse((await cli(['runs', '--parent', 'rel1', '--json'])).stdout) as { runs: RunView[]; nextCursor: string | null };
    assert.deepEqual(json.runs.map((run) => [run.id, run.parentId]).sort(), [
      ['rel1-api', 'rel1'],
      ['rel1-db', 'rel1'],
      ['rel1-web', 'rel1'],
    ]);
    assert.equal(json.nextCursor, null);
  });

  test('runs --parent of a run without children, or of no run, says which', async () => {
    assert.deepEqual(await cli(['runs', '--parent', 'rel1-api']), { code: 0, stdout: '', stderr: "no child runs of run 'rel1-api'\n" });
    assert.deepEqual(await cli(['runs', '--parent', 'rel9']), {
      code: 0,
      stdout: '',
      stderr: "no child runs of run 'rel9', which does not exist\n",
    });
  });

  test('runs without --parent says whose child each run is, in a last column', async () => {
    const outcome = await cli(['runs']);
    assert.equal(outcome.code, 0, outcome.stderr);
    const [header, ...rows] = outcome.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^ID\s+WORKFLOW\s+VERSION\s+STATUS\s+CREATED\s+UPDATED\s+PARENT$/);
    assert.match(rows.find((row) => row.startsWith('rel1-web ')) ?? '', /\sfailed\s+\S+Z\s+\S+Z\s+rel1$/);
    assert.match(rows.find((row) => row.startsWith('rel1 ')) ?? '', /\scompleted\s+\S+Z\s+\S+Z$/, 'a run without a parent ends there');
  });

  test("show of the parent lists each child with its status, and a failed one's first line of error", async () => {
    const outcome = await cli(['show', 'rel1']);
    assert.equal(outcome.code, 0, outcome.stderr);
    const section = outcome.stdout.slice(outcome.stdout.indexOf('\nchildren\n'));
    assert.match(section, /^\nchildren\n( {2}rel1-\w+ .*\n){3}$/);
    assert.match(section, /^ {2}rel1-api\s+deploy\s+completed$/m);
    assert.match(section, /^ {2}rel1-db\s+deploy\s+running$/m);
    assert.match(section, /^ {2}rel1-web\s+deploy\s+failed\s+Error: web refused the deploy$/m);
    assert.ok(outcome.stdout.indexOf('\nhistory\n') < outcome.stdout.indexOf('\nchildren\n'), 'after the history');

    const shown = JSON.parse((await cli(['show', 'rel1', '--json'])).stdout) as { children: RunView[] };
    assert.deepEqual(shown.children.map((child) => [child.id, child.status]).sort(), [
      ['rel1-api', 'completed'],
      ['rel1-db', 'running'],
      ['rel1-web', 'failed'],
    ]);
  });

  test('show of a run that started no child has no children section, and --json an empty list', async () => {
    const outcome = await cli(['show', 'rel1-api']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.doesNotMatch(outcome.stdout, /^children$/m);
    assert.deepEqual((JSON.parse((await cli(['show', 'rel1-api', '--json'])).stdout) as { children: RunView[] }).children, []);
  });
});
