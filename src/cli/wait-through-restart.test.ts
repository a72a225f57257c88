/**
 * Waiting for a run while its server restarts (SIGTERM, then started again on the same database), as a deploy does:
 * `run --wait` says it lost the server and that it is back, and prints the result once the run ends. And `wait`
 * follows a run that continued as new. A real `autoflow server` on SQLite; the CLI in a child process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { autoflow, type CliOutcome } from '../../test/helpers/cli-process.js';
import { startServerIn, type ServerProcess } from '../../test/helpers/server-process.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';

const BIN = fileURLToPath(new URL('../../bin/autoflow.js', import.meta.url));
const TOKEN = 'wait-restart-token';
const folder = workflowFolder({
  'approval.ts': `import { signal, workflow } from 'autoflow';
export default workflow({
  name: 'approval',
  async run() {
    return { approved: await signal('go', { timeout: '1h' }) };
  },
});`,
  'chain.ts': `import { continueAsNew, workflow } from 'autoflow';
export default workflow({
  name: 'chain',
  async run(input: { n: number }) {
    if (input.n < 1) continueAsNew({ n: input.n + 1 });
    return { n: input.n };
  },
});`,
});
let server: ServerProcess;

/** The CLI in a child process, whose stderr the test follows while it runs. */
function startCli(args: readonly string[]): { stderrShows(pattern: RegExp): Promise<void>; outcome: Promise<CliOutcome> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: folder.dir,
    env: { ...process.env, AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const outcome = new Promise<CliOutcome>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  const stderrShows = (pattern: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const look = (): void => {
        if (!pattern.test(stderr)) return;
        child.stderr.off('data', look);
        resolve();
      };
      child.stderr.on('data', look);
      look();
      void outcome.then(({ stderr: said }) => reject(new Error(`the command ended before it said ${pattern}:\n${said}`)));
    });
  return { stderrShows, outcome };
}

before(async () => {
  server = await startServerIn(folder.dir, TOKEN);
});
after(async () => {
  await server?.stop();
  folder.remove();
});

test('run --wait rides out a server restart: it says the server was lost and is back, and prints the result', async () => {
  const waiting = startCli(['run', 'approval', '--id', 'approval-1', '--wait']);
  await waiting.stderrShows(/^started run approval-1\n/);
  await server.stop();
  await waiting.stderrShows(/lost AutoFlow/);
  await server.start();
  await waiting.stderrShows(/answers again/);
  const signalled = await server.api('/api/v1/runs/approval-1/signals/go', { method: 'POST', body: '"yes"' });
  assert.equal(signalled.status, 202);
  const { code, stdout, stderr } = await waiting.outcome;
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), { approved: 'yes' });
  assert.match(
    stderr,
    new RegExp(
      '^started run approval-1\\n' +
        `lost AutoFlow at ${server.url} \\((UND_ERR_SOCKET|ECONNRESET|ECONNREFUSED)\\); run approval-1 goes on there: trying to reach it again\\n` +
        `AutoFlow at ${server.url} answers again; waiting for run approval-1\\n$`,
    ),
  );
});

test('wait follows a run that continued as new to its end, and prints its result', async () => {
  const started = await server.api('/api/v1/runs', {
    method: 'POST',
    body: JSON.stringify({ workflow: 'chain', input: { n: 0 }, id: 'chain-1' }),
  });
  assert.equal(started.status, 201);
  const outcome = await autoflow(['wait', 'chain-1'], { cwd: folder.dir, env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: TOKEN } });
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.deepEqual(JSON.parse(outcome.stdout), { n: 1 });
  assert.equal(outcome.stderr, 'run chain-1 continued as chain-1~2\n');
});
