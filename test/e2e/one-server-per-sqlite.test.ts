import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, ServerProcess } from '../helpers/server-process.js';

/**
 * Every server on SQLite is the node `local`: a second one on the same file would take the first one's call
 * leases as its own and run the calls again. It is refused; once the first is gone, even by a crash, it starts.
 */
test('a second server on the same SQLite file is refused, and starts once the first has crashed', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-one-server-'));
  const workflowsDir = join(dir, 'workflows');
  mkdirSync(workflowsDir);
  const db = `sqlite:${join(dir, 'data', 'autoflow.db')}`;
  const first = new ServerProcess({ port: await freePort(), db, workflowsDir, token: 'first-server-token' });
  const second = new ServerProcess({ port: await freePort(), db, workflowsDir, token: 'second-server-token' });
  try {
    await first.start();
    await assert.rejects(second.start(), (error: Error) => {
      assert.match(error.message, /exited with 1/);
      assert.match(error.message, /another AutoFlow server is running on the SQLite database .*autoflow\.db/);
      return true;
    });
    assert.equal((await first.api('/api/v1/runs')).status, 200, 'the first server goes on');
    await first.kill();
    second.output = '';
    await second.start();
    assert.equal((await second.api('/api/v1/runs')).status, 200);
  } finally {
    await first.kill();
    await second.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
