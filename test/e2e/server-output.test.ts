/** What `autoflow server` writes where: log lines on stdout, one JSON object each (for log shippers); what a person reads on stderr. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, ServerProcess } from '../helpers/server-process.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-output-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('stdout holds only JSON log lines, level by name and time in ISO 8601; the banner and the first-start API token go to stderr', async () => {
  const server = new ServerProcess({
    port: await freePort(),
    db: `sqlite:${join(dir, 'autoflow.db')}`,
    workflowsDir: dir,
    token: '',
    env: { AUTOFLOW_LOG_LEVEL: 'info' },
  });
  await server.start();
  await server.stop();
  const lines = server.stdout.split('\n').filter((line) => line !== '');
  assert.ok(lines.length > 0, 'the server logged');
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line}`);
  // Readable as they are: the level by name, the time in ISO 8601 UTC.
  const first = JSON.parse(lines[0]!) as { level: unknown; time: unknown };
  assert.equal(first.level, 'info');
  assert.match(String(first.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.match(server.stderr, /AutoFlow is listening on http:\/\/127\.0\.0\.1:\d+/);
  assert.match(server.stderr, /export AUTOFLOW_API_TOKEN=\S+/);
  const created = `A new, empty database was created at ${join(dir, 'autoflow.db')}; if you meant an existing one, stop the server and check --db.`;
  assert.ok(server.stderr.includes(created), 'a mistyped --db shows');

  const again = new ServerProcess({
    port: await freePort(),
    db: `sqlite:${join(dir, 'autoflow.db')}`,
    workflowsDir: dir,
    token: 'any-api-token-0123',
  });
  await again.start();
  await again.stop();
  assert.ok(!again.stderr.includes('A new, empty database'), 'the database was there');
});
