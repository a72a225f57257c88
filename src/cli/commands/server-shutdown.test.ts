import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ServerProcess } from '../../../test/helpers/server-process.js';

mkdirSync('/tmp/fix-sre', { recursive: true });
const dir = mkdtempSync('/tmp/fix-sre/shutdown-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** A free port of 18700–18799 (the range this suite may use). */
async function portInRange(): Promise<number> {
  for (let port = 18_700; port < 18_800; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 18700–18799');
}

test('SIGTERM: the shutdown is logged as structured lines of the node — what it waits for, the leases handed back, done', async () => {
  const server = new ServerProcess({
    port: await portInRange(),
    db: `sqlite:${join(dir, 'autoflow.db')}`,
    workflowsDir: dir,
    token: 'shutdown-test-token',
    env: { AUTOFLOW_LOG_LEVEL: 'info' },
  });
  await server.start();
  await server.stop();
  const lines = server.output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; node?: string; level?: string; signal?: string });
  const shutdown = lines.filter((line) => /^SIGTERM: shutting down|^stopping:|^shut down$/.test(line.msg ?? ''));
  assert.deepEqual(
    shutdown.map((line) => [line.node, line.level, (line.msg ?? '').split(':')[0]]),
    [
      ['local', 'info', 'SIGTERM'],
      ['local', 'info', 'stopping'],
      ['local', 'info', 'stopping'],
      ['local', 'info', 'shut down'],
    ],
    server.output,
  );
  assert.doesNotMatch(server.output, /^SIGTERM: shutting down \(send it again/m, 'no unstructured line any more');
});

test('each AUTOFLOW_* variable the server does not read is warned of at start, with the one likely meant', async () => {
  const server = new ServerProcess({
    port: await portInRange(),
    db: `sqlite:${join(dir, 'variables.db')}`,
    workflowsDir: dir,
    token: 'variables-test-token',
    env: { AUTOFLOW_PROT: '18263', AUTOFLOW_WEBHOOK_SECRET: 'abc-def-ghi' },
  });
  await server.start();
  await server.stop();
  const warnings = server.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; level?: string; variable?: string })
    // Those this test set: the environment it runs in may have others.
    .filter((line) => line.variable === 'AUTOFLOW_PROT' || line.variable === 'AUTOFLOW_WEBHOOK_SECRET');
  assert.deepEqual(
    warnings.map((line) => [line.level, line.msg]),
    [
      [
        'warn',
        'environment variable AUTOFLOW_PROT is set, but AutoFlow reads no variable of that name, so it changes nothing; did you mean AUTOFLOW_PORT?',
      ],
      [
        'warn',
        'environment variable AUTOFLOW_WEBHOOK_SECRET is set, but AutoFlow reads no variable of that name, so it changes nothing; did you mean AUTOFLOW_GITLAB_WEBHOOK_SECRET?',
      ],
    ],
  );
  assert.doesNotMatch(server.stdout, /abc-def-ghi/, 'the value is not logged');
});
