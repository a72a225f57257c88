/**
 * `autoflow export --out` writes a file only its owner reads, as `autoflow backup` does: it holds the run's input and
 * history; one it cannot write fails the command (exit 1). A command that sent no token is told so, and how to give one. As users run the CLI: a child process,
 * against a loopback server over the fake operations.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { autoflow } from '../../test/helpers/cli-process.js';
import { createApp } from '../server/http/app.js';
import { serve, type RunningServer } from '../server/serve.js';
import { createFakeOperations, createMemoryLogger } from '../server/testing/fake-operations.js';

const operations = createFakeOperations({ workflows: { hello: () => ({ greeting: 'Hello!' }) } });
let server: RunningServer;
let dir: string;

before(async () => {
  server = await serve(createApp({ operations, logger: createMemoryLogger() }), { port: 0, host: '127.0.0.1', shutdownGraceMs: 0 });
  dir = mkdtempSync(join(tmpdir(), 'autoflow-export-'));
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], env: Record<string, string>) => autoflow(args, { cwd: dir, env: { AUTOFLOW_URL: server.url, ...env } });

test('export --out writes the run readable by its owner only, a file that was there too', async () => {
  const started = await cli(['run', 'hello', '--id', 'exported', '--wait'], { AUTOFLOW_API_TOKEN: 'test-token' });
  assert.equal(started.code, 0, started.stderr);
  const existing = join(dir, 'existing.json');
  writeFileSync(existing, 'old');
  chmodSync(existing, 0o644);
  for (const file of ['new.json', 'existing.json']) {
    const outcome = await cli(['export', 'exported', '--out', file], { AUTOFLOW_API_TOKEN: 'test-token' });
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
    assert.equal((JSON.parse(readFileSync(join(dir, file), 'utf8')) as { run: { id: string } }).run.id, 'exported');
  }
});

test('export --out that cannot be written (a missing folder, a full disk) is a failure, exit 1, not a wrong command line', async () => {
  const missingFolder = await cli(['export', 'exported', '--out', 'no-such-folder/run.json'], { AUTOFLOW_API_TOKEN: 'test-token' });
  assert.equal(missingFolder.code, 1);
  assert.match(missingFolder.stderr, /^error: cannot write --out no-such-folder\/run\.json: ENOENT: no such file or directory/);
  // A device is written to as it is: its mode is not the export's to change.
  const mode = statSync('/dev/full').mode;
  const full = await cli(['export', 'exported', '--out', '/dev/full'], { AUTOFLOW_API_TOKEN: 'test-token' });
  assert.equal(full.code, 1);
  assert.match(full.stderr, /^error: cannot write --out \/dev\/full: ENOSPC: no space left on device/);
  assert.equal(statSync('/dev/full').mode, mode);
});

test('a command that sent no token is told so, and how to give one', async () => {
  const outcome = await cli(['runs'], { AUTOFLOW_API_TOKEN: '' });
  assert.equal(outcome.code, 1);
  assert.match(outcome.stderr, /this route needs an API token/);
  assert.match(outcome.stderr, /\(this command sent none: give it with --token <token> or in AUTOFLOW_API_TOKEN/);
  assert.doesNotMatch(outcome.stderr, /sent the one in/);
});
