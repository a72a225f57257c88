/**
 * `autoflow show` and `autoflow run --wait` print where a failed run's error was thrown in the author's code (the
 * first frame of its source-mapped stack), under the error: the line alone, `Error: minor releases are frozen`, sent
 * the reader to `--json` or the web UI to find it. A real runtime behind the API, the CLI in a child process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { autoflow } from '../../test/helpers/cli-process.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../app/runtime.js';
import { createApp } from '../server/http/app.js';
import { serve, type RunningServer } from '../server/serve.js';
import { createMemoryLogger } from '../server/testing/fake-operations.js';
import { errorLocation } from './format.js';

const TOKEN = 'error-location-token';
const PORT = 18523;
const dir = mkdtempSync(join(tmpdir(), 'autoflow-error-location-'));
const gate = join(dir, 'gate.ts');
writeFileSync(
  gate,
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
let runtime: Runtime;
let server: RunningServer;

before(async () => {
  runtime = await createRuntime(
    embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: dir, workflowFiles: [gate], apiToken: TOKEN }),
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
  rmSync(dir, { recursive: true, force: true });
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
});

describe('errorLocation', () => {
  const info = (stack?: string) => ({ name: 'Error', message: 'boom', ...(stack === undefined ? {} : { stack }) });

  test("is the first frame in the author's sources, a package's included", () => {
    assert.equal(errorLocation(info('Error: boom\n    at check (gate.ts:4:44)\n    at run (gate.ts:10:5)')), 'at check (gate.ts:4:44)');
    assert.equal(errorLocation(info('Error: boom\n    at @acme/blocks/src/index.ts:6:3')), 'at @acme/blocks/src/index.ts:6:3');
  });

  test('is nothing for a stack without such a frame: host paths, unmapped bundle frames, no stack', () => {
    assert.equal(errorLocation(info('Error: boom\n    at Object.invoke (/srv/autoflow/src/capabilities/http.ts:12:3)')), undefined);
    assert.equal(errorLocation(info('Error: boom\n    at node:internal/process/task_queues:95:5')), undefined);
    assert.equal(errorLocation(info('Error: boom\n    at file:///srv/x.js:1:2')), undefined);
    assert.equal(errorLocation(info('Error: boom\n    at f (workflow.js:1:200)')), undefined);
    assert.equal(errorLocation(info()), undefined);
  });
});
