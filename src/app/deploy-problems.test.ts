/**
 * A workflow file saved broken (a syntax error, a bad declaration) used to show only as a line in the server's log:
 * `GET /api/v1/workflows` and `autoflow workflows` listed the version before as active, and `retry --latest` took it,
 * without a word. Now the API lists the file, its error and what still runs; the CLI prints them (on stderr, after
 * the table); `retry --latest` warns; a fix clears it. A real runtime behind real HTTP, the CLI in a child process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { autoflow } from '../../test/helpers/cli-process.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createApp } from '../server/http/app.js';
import { serve, type RunningServer } from '../server/serve.js';
import { createMemoryLogger } from '../server/testing/fake-operations.js';
import type { DeployProblemView, WorkflowView } from './operations.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from './runtime.js';

const TOKEN = 'deploy-problems-token';
const good = `import { workflow } from 'autoflow';
export default workflow({
  name: 'greet',
  async run(input: { fail?: boolean } | null) {
    if (input?.fail) throw new Error('asked to fail');
    return 'hello';
  },
});
`;
// Line 6, column 18: the `;` after `+`.
const broken = good.replace("return 'hello';", "return 'hi' +;");

const folder = workflowFolder({ 'greet.ts': good });
let runtime: Runtime;
let server: RunningServer;
let deployed: string;

before(async () => {
  runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: folder.dir, apiToken: TOKEN }), {
    logger: createMemoryLogger(),
    pollIntervalMs: null,
  });
  await runtime.start();
  server = await serve(createApp({ operations: runtime.operations, logger: runtime.logger }), {
    port: 0,
    host: '127.0.0.1',
    shutdownGraceMs: 0,
  });
  deployed = runtime.engine.activeDefinition('greet')?.version ?? assert.fail('greet is deployed');
  await runtime.operations.startRun({ workflow: 'greet', id: 'failed-1', input: { fail: true } });
  await runtime.engine.whenIdle();
  assert.equal((await runtime.operations.getRun('failed-1')).status, 'failed');
});
after(async () => {
  await server?.close();
  await runtime?.stop();
  folder.remove();
});

async function listed(): Promise<{ workflows: WorkflowView[]; problems: DeployProblemView[] }> {
  const response = await fetch(`${server.url}/api/v1/workflows`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200);
  return (await response.json()) as { workflows: WorkflowView[]; problems: DeployProblemView[] };
}

const cli = (args: string[]) => autoflow(args, { cwd: folder.dir, env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: TOKEN } });

describe('a workflow file saved broken', () => {
  before(async () => {
    folder.write('greet.ts', broken);
    // A new file that never built: no workflow of it is known.
    folder.write('draft.ts', "import { workflow } from 'autoflow';\nexport default workflow({ async run() { return 1; } });\n");
    await runtime.redeploy();
  });

  test('GET /api/v1/workflows lists it with its file:line, and the version before stays active', async () => {
    const { workflows, problems } = await listed();
    assert.deepEqual(
      workflows.map((workflow) => [workflow.name, workflow.version]),
      [['greet', deployed]],
    );
    const [greet, draft] = [...problems].sort((a, b) => b.file.localeCompare(a.file));
    assert.equal(problems.length, 2, JSON.stringify(problems));
    assert.equal(greet?.file, 'greet.ts');
    assert.equal(greet?.workflow, 'greet');
    assert.match(greet?.message ?? '', /^ {2}greet\.ts:6:18: Unexpected ";"$/m, 'the error with its line, relative to the folder');
    assert.doesNotMatch(greet?.message ?? '', new RegExp(folder.dir), 'not where the server keeps the folder');
    assert.ok(Date.parse(greet?.since ?? '') > 0, greet?.since);
    assert.deepEqual(workflows[0]?.problems, [greet], 'the workflow names the problem of its file');
    assert.equal(draft?.file, 'draft.ts');
    assert.equal(draft?.workflow, undefined);
    assert.match(draft?.message ?? '', /name: is required/);
  });

  test('autoflow workflows prints the table on stdout, and each problem on stderr with what still runs; exit 0', async () => {
    const outcome = await cli(['workflows']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.stdout, /^NAME +VERSION +DEPLOYED +TRIGGERS\ngreet +\w{12} /);
    assert.doesNotMatch(outcome.stdout, /fails to build/);
    assert.match(
      outcome.stderr,
      new RegExp(
        `^✗ greet\\.ts fails to build \\(since \\S+Z\\); greet is still running version ${deployed.slice(0, 12)} deployed \\S+Z\\n` +
          '  Cannot bundle the workflow greet\\.ts:\\n {4}greet\\.ts:6:18: Unexpected ";"$',
        'm',
      ),
    );
    assert.match(
      outcome.stderr,
      /^✗ draft\.ts fails to build \(since \S+Z\); no workflow of it is deployed\n {2}draft\.ts: .*\n {4}name: is required/m,
    );
  });

  test('autoflow workflows --json prints what the API answers: the workflows, each with its problems, and every problem', async () => {
    const outcome = await cli(['workflows', '--json']);
    assert.equal(outcome.code, 0, outcome.stderr);
    const { workflows, problems } = JSON.parse(outcome.stdout) as { workflows: WorkflowView[]; problems: Array<{ file: string }> };
    assert.equal(workflows[0]?.problems?.[0]?.file, 'greet.ts');
    // The file of no deployed workflow too, which a post-deploy check must see.
    assert.deepEqual(problems.map((problem) => problem.file).sort(), ['draft.ts', 'greet.ts']);
    assert.equal(outcome.stderr, '', 'all of it is on stdout');
  });

  test('retry --latest retries on the version that built, and warns that it is not the code in the file', async () => {
    const outcome = await cli(['retry', '--latest', 'failed-1']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, `run failed-1 retried: running on version ${deployed.slice(0, 12)}\n`);
    assert.match(
      outcome.stderr,
      new RegExp(
        `^warning: run failed-1: greet\\.ts fails to build since \\S+Z: the retry uses version ${deployed.slice(0, 12)} of greet ` +
          'deployed \\S+Z, the last that built, not the code in the file; `autoflow workflows` says why it fails\\n$',
      ),
    );
  });
  test('starting a run of a workflow whose only file fails to build says why, not only that it does not exist', async () => {
    const outcome = await cli(['run', 'draft']);
    assert.equal(outcome.code, 1);
    assert.match(
      outcome.stderr,
      /workflow 'draft' does not exist; its file draft\.ts fails to build \(since \S+Z\): .*name: is required.*\(`autoflow workflows` shows the whole error\)/,
    );
  });
});

describe('the file fixed', () => {
  before(async () => {
    folder.write('greet.ts', good.replace("'hello'", "'hello again'"));
    await runtime.redeploy();
  });

  test('clears its problem: the API and the CLI no longer list it', async () => {
    const { workflows, problems } = await listed();
    assert.notEqual(workflows[0]?.version, deployed, 'the fix is deployed');
    assert.equal(workflows[0]?.problems, undefined);
    assert.deepEqual(
      problems.map((problem) => problem.file),
      ['draft.ts'],
    );
    const outcome = await cli(['workflows']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.doesNotMatch(outcome.stderr, /greet\.ts/);
  });
});
