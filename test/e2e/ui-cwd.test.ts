import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { freePort, ServerProcess } from '../helpers/server-process.js';
import { HttpSession } from '../helpers/ui-server.js';

/**
 * `autoflow server` run from a workflows repository, not from the AutoFlow checkout: tsx reads
 * the tsconfig.json of the current folder (here the one `autoflow init` writes, without JSX
 * settings), and the UI's pages must render all the same.
 */
test('the web UI renders when the server is started from another folder', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-cwd-'));
  mkdirSync(join(dir, 'workflows'));
  copyFileSync(fileURLToPath(new URL('../../templates/init/tsconfig.json', import.meta.url)), join(dir, 'tsconfig.json'));
  const server = new ServerProcess({
    port: await freePort(),
    db: `sqlite:${join(dir, 'autoflow.db')}`,
    workflowsDir: join(dir, 'workflows'),
    token: 'cwd-test-api-token',
  });
  // Test files run in processes of their own: the child inherits this folder as its working folder.
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    await server.start();
  } finally {
    process.chdir(cwd);
  }
  try {
    const login = await fetch(`${server.url}/auth/login`);
    assert.equal(login.status, 200, server.output);
    assert.match(await login.text(), /Sign in with GitLab/);
    const browser = new HttpSession(server.url.replace('127.0.0.1', 'localhost'));
    await browser.signIn('alice');
    const tasks = await browser.request('/tasks');
    assert.equal(tasks.status, 200);
    assert.match(await tasks.text(), /My tasks/);
    const missing = await browser.request('/runs/no-such-run');
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /<h1>Not found<\/h1>/);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every .tsx of the UI names its JSX runtime itself, whatever tsconfig.json tsx finds', () => {
  const root = fileURLToPath(new URL('../../src/ui/', import.meta.url));
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.tsx'));
  assert.ok(files.length > 0);
  for (const name of files) {
    assert.match(
      readFileSync(join(root, name), 'utf8'),
      /^\/\*\* @jsxRuntime automatic @jsxImportSource hono\/jsx \*\//,
      `${name} starts with the JSX pragma`,
    );
  }
});
