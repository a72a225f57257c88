/**
 * `autoflow show` and `autoflow run --wait` print where a failed run's error was thrown in the author's code (the
 * first frame of its source-mapped stack), under the error: the line alone, `Error: minor releases are frozen`, sent
 * the reader to `--json` or the web UI to find it. A parent failed by its child names the child, and `autoflow retry`
 * of it says to retry the child first instead of "retried: running" before the parent fails again at once. A real
 * runtime behind the API, the CLI in a child process.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { autoflow } from '../../test/helpers/cli-process.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../app/runtime.js';
import { createApp } from '../server/http/app.js';
import { serve, type RunningServer } from '../server/serve.js';
import { createMemoryLogger } from '../server/testing/fake-operations.js';
import { errorLocation } from './format.js';

const TOKEN = 'error-location-token';
const PORT = 18523;
const folder = workflowFolder();
const dir = folder.dir;
const gate = folder.write(
  'gate.ts',
  `import { workflow } from 'autoflow';

function check(version: string): void {
  if (version.startsWith('1.1')) throw new Error(\`minor releases are frozen (\${version})\`);
}

export default workflow({
  name: 'gate',
  async run(input: { version: string }) {
    check(input.version);
    return 'ok';
  },
});
`,
);
// A helper in another file that throws: the frames from it up to the workflow's line that called it.
mkdirSync(join(dir, 'lib'));
folder.write(
  'lib/parse.ts',
  `function split(version: string): number[] {
  return version.split('.').map((part) => {
    if (Number.isNaN(Number(part))) throw new TypeError(\`invalid version segment '\${part}'\`);
    return Number(part);
  });
}

export function parseRelease(title: string): number[] {
  return split(title);
}
`,
);
const release = folder.write(
  'release.ts',
  `import { workflow } from 'autoflow';
import { parseRelease } from './lib/parse';

export default workflow({
  name: 'release',
  async run(input: { title: string }) {
    return parseRelease(input.title);
  },
});
`,
);
// A parent failed by its child: its error names the child and points at the parent's own line.
const train = folder.write(
  'train.ts',
  `import { executeChild, workflow } from 'autoflow';
export default workflow({
  name: 'train',
  async run() {
    return { notes: await executeChild('train-notes', { version: 'v1' }) };
  },
});
`,
);
const trainNotes = folder.write(
  'train-notes.ts',
  `import { workflow } from 'autoflow';
export default workflow({
  name: 'train-notes',
  async run(input: { version: string }) {
    if (!/^\\d+$/.test(input.version)) throw new TypeError('invalid version segment');
    return 'notes';
  },
});
`,
);
let runtime: Runtime;
let server: RunningServer;

before(async () => {
  runtime = await createRuntime(
    embeddedRuntimeConfig({
      db: { kind: 'memory' },
      workflowsDir: dir,
      workflowFiles: [gate, release, train, trainNotes],
      apiToken: TOKEN,
    }),
    { logger: createMemoryLogger(), pollIntervalMs: null },
  );
  await runtime.start();
  server = await serve(createApp({ operations: runtime.operations, logger: runtime.logger }), {
    port: PORT,
    host: '127.0.0.1',
    shutdownGraceMs: 0,
  });
});
after(async () => {
  await server?.close();
  await runtime?.stop();
  folder.remove();
});

const cli = (args: string[]) => autoflow(args, { cwd: dir, env: { AUTOFLOW_URL: `http://127.0.0.1:${PORT}`, AUTOFLOW_API_TOKEN: TOKEN } });

describe("a failed run's error location", () => {
  test('run --wait prints it under the error', async () => {
    const outcome = await cli(['run', 'gate', '--input', '{"version":"1.1.0"}', '--wait', '--id', 'frozen-1']);
    assert.equal(outcome.code, 1);
    assert.match(
      outcome.stderr,
      /error: run frozen-1 failed: Error: minor releases are frozen \(1\.1\.0\)\n {4}at check \(gate\.ts:4:44\)\n$/,
    );
  });

  test('show prints it under the error', async () => {
    const outcome = await cli(['show', 'frozen-1']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.stdout, /^error( +)Error: minor releases are frozen \(1\.1\.0\)\n {5}\1at check \(gate\.ts:4:44\)$/m);
  });

  test("show prints the author's frames, from the helper that threw to the workflow's line that called it", async () => {
    assert.equal((await cli(['run', 'release', '--input', '{"title":"v1.2"}', '--wait', '--id', 'release-1'])).code, 1);
    const outcome = await cli(['show', 'release-1']);
    assert.equal(outcome.code, 0, outcome.stderr);
    const error = outcome.stdout.slice(outcome.stdout.indexOf('\nerror ') + 1, outcome.stdout.indexOf('\n\nhistory'));
    assert.deepEqual(
      error.split('\n').map((line) => line.replace(/^(error)? +/, '')),
      [
        "TypeError: invalid version segment 'v1'",
        'at <anonymous> (lib/parse.ts:3:47)',
        'at split (lib/parse.ts:2:3)',
        'at parseRelease (lib/parse.ts:9:3)',
        'at run (release.ts:7:12)',
      ],
    );
  });
});

describe('a parent failed by its child', () => {
  test("the error names the child and points at the parent's line; retry says to retry the child first", async () => {
    const started = await cli(['run', 'train', '--id', 'rt-1', '--wait']);
    assert.equal(started.code, 1);
    assert.match(
      started.stderr,
      /error: run rt-1 failed: ChildRunFailedError: child run rt-1\.1 \(workflow train-notes\) failed: TypeError: invalid version segment\n {4}at run \(train\.ts:5:27\)\n/,
    );
    const shown = await cli(['show', 'rt-1']);
    assert.match(
      shown.stdout,
      /error {5}ChildRunFailedError: child run rt-1\.1 \(workflow train-notes\) failed: TypeError: invalid version segment\n {10}at run \(train\.ts:5:27\)\n/,
    );
    assert.doesNotMatch(shown.stdout, /caused by TypeError/, "the child's error, quoted by the parent's, is not printed again");

    const retried = await cli(['retry', 'rt-1']);
    assert.equal(retried.code, 1);
    assert.equal(retried.stdout, '');
    assert.equal(
      retried.stderr,
      'error: run rt-1 failed because its child run rt-1.1 (workflow train-notes) failed, and that child is still ' +
        'failed: retried now, rt-1 would receive the same failure and fail again. Retry the child first ' +
        '(autoflow retry rt-1.1, with --latest once its fix is deployed), then rt-1\n',
    );
    assert.equal((await runtime.operations.getRun('rt-1')).status, 'failed');
  });
});

describe('errorLocation', () => {
  const info = (stack?: string) => ({ name: 'Error', message: 'boom', ...(stack === undefined ? {} : { stack }) });

  test("is the first frame in the author's sources, a package's included", () => {
    assert.equal(errorLocation(info('Error: boom\n    at check (gate.ts:4:44)\n    at run (gate.ts:10:5)')), 'at check (gate.ts:4:44)');
    assert.equal(errorLocation(info('Error: boom\n    at @acme/blocks/src/index.ts:6:3')), 'at @acme/blocks/src/index.ts:6:3');
  });

  test("is past the constructors of the author's error classes: where the error was thrown, not its super() call", () => {
    const stack = 'ReportError: late\n    at AppError (errors.ts:3:5)\n    at ReportError (errors.ts:9:5)\n    at run (report.ts:20:17)';
    assert.equal(errorLocation({ name: 'ReportError', message: 'late', stack }), 'at run (report.ts:20:17)');
    assert.equal(errorLocation(info('Error: boom\n    at ValidationError (errors.ts:3:5)')), 'at ValidationError (errors.ts:3:5)');
  });

  test('is nothing for a stack without such a frame: host paths, unmapped bundle frames, no stack', () => {
    assert.equal(errorLocation(info('Error: boom\n    at Object.invoke (/srv/autoflow/src/capabilities/http.ts:12:3)')), undefined);
    assert.equal(errorLocation(info('Error: boom\n    at node:internal/process/task_queues:95:5')), undefined);
    assert.equal(errorLocation(info('Error: boom\n    at file:///srv/x.js:1:2')), undefined);
    assert.equal(errorLocation(info('Error: boom\n    at f (workflow.js:1:200)')), undefined);
    assert.equal(errorLocation(info()), undefined);
  });
});
