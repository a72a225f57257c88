/**
 * `autoflow token rotate`: after a leak, the token a database's first start printed is replaced with a new one, which
 * a server running on that database takes at once, refusing the old one; printed once, on stdout, for scripts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { autoflow } from '../../../test/helpers/cli-process.js';
import { memoryLogger } from '../../../test/helpers/memory-logger.js';
import { createRuntime, embeddedRuntimeConfig } from '../../app/runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-token-'));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'workflows'));

test('rotating replaces the printed token: the running server refuses the old one and takes the new one at once', async () => {
  const path = join(dir, 'autoflow.db');
  const runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'sqlite', path }, workflowsDir: join(dir, 'workflows') }), {
    logger: memoryLogger([]),
    pollIntervalMs: null,
  });
  try {
    const printed = runtime.newApiToken;
    assert.ok(printed, 'the first start printed a token');
    assert.equal(await runtime.operations.authenticate(printed), true);

    const rotated = await autoflow(['token', 'rotate', '--db', `sqlite:${path}`], { cwd: dir });
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = rotated.stdout.trim();
    assert.match(fresh, /^af_[A-Za-z0-9_-]{32}$/, 'stdout holds the new token alone');
    assert.match(rotated.stderr, /It replaces the token stored before, which every server on this database refuses from now on/);
    assert.match(rotated.stderr, /A server started with AUTOFLOW_API_TOKEN \(apiToken\) accepts only that token/);

    assert.equal(await runtime.operations.authenticate(printed), false, 'the leaked token is refused');
    assert.equal(await runtime.operations.authenticate(fresh), true);
  } finally {
    await runtime.stop();
  }
});

test('a database that is not there, or keeps nothing, is refused with what to give instead', async () => {
  const missing = await autoflow(['token', 'rotate', '--db', `sqlite:${join(dir, 'nowhere.db')}`], { cwd: dir });
  assert.equal(missing.code, 2, 'a wrong --db is a wrong command line');
  assert.match(missing.stderr, /there is no database at .*nowhere\.db: give the servers’ database with --db/);
  assert.equal(missing.stdout, '');
  const memory = await autoflow(['token', 'rotate', '--db', 'memory:'], { cwd: dir });
  assert.equal(memory.code, 2);
  assert.match(memory.stderr, /the memory: database keeps no API token/);
});
