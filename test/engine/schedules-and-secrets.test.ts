import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Logger } from '../../src/core/ports.js';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'hourly.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'hourly',
  triggers: [{ cron: '0 * * * *', timezone: 'Europe/Berlin' }],
  async run(input: { scheduledAt: string }) { return input.scheduledAt; },
});`,
});
after(() => folder.remove());

describe('schedules', () => {
  test('a cron trigger fires each tick once, and after downtime fires once for the ticks it missed', async () => {
    const db = { kind: 'sqlite' as const, path: join(folder.dir, 'cron.db') };
    const start = Date.UTC(2026, 0, 5, 9, 30);
    const first = await createTestEnv({ workflows: [folder.path('hourly.ts')], db, now: start });
    await first.advance('3h');
    const before = (await first.operations.listRuns({ workflow: 'hourly' })).runs.map((run) => run.result).sort();
    assert.deepEqual(before, ['2026-01-05T10:00:00.000Z', '2026-01-05T11:00:00.000Z', '2026-01-05T12:00:00.000Z']);
    await first.close();

    const second = await createTestEnv({ workflows: [folder.path('hourly.ts')], db, now: start + 8 * 3_600_000 });
    try {
      await second.settle();
      await second.advance('1h');
      const all = (await second.operations.listRuns({ workflow: 'hourly' })).runs.map((run) => run.result).sort();
      assert.deepEqual(all, [...before, '2026-01-05T17:00:00.000Z', '2026-01-05T18:00:00.000Z']);
    } finally {
      await second.close();
    }
  });
});

describe('secrets', () => {
  test('a secret reaches the service it is meant for but never the database file or the logs', async () => {
    const secret = 's3cr3t-token-value-42';
    const received: string[] = [];
    const server = createServer((request, response) => {
      received.push(String(request.headers.authorization));
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ echo: request.headers.authorization }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const file = folder.write(
      'uses-secret.ts',
      `import { http, log, secrets, workflow } from 'autoflow';
export default workflow({
  name: 'uses-secret',
  permissions: { secrets: ['API_TOKEN'], http: ['http://127.0.0.1:${port}/'] },
  async run() {
    const token = await secrets.get('API_TOKEN');
    log.info('using token ' + token);
    const response = await http.request({ url: 'http://127.0.0.1:${port}/x', headers: { authorization: 'Bearer ' + token } });
    return { length: token.length, echo: (response.body as { echo: string }).echo, token };
  },
});`,
    );
    const lines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    ) as unknown as Logger;
    const dbPath = join(folder.dir, 'secrets.db');
    // The service is a real server: the test's own fetch sends to it (a test environment has no network otherwise).
    const env = await createTestEnv({
      workflows: [file],
      db: { kind: 'sqlite', path: dbPath },
      secrets: { API_TOKEN: secret },
      logger,
      fetch,
    });
    try {
      const id = await env.start('uses-secret');
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.deepEqual(received, [`Bearer ${secret}`], 'the service got the real value');
      assert.equal((run.result as { length: number }).length, secret.length, 'the workflow saw the real value');
      assert.doesNotMatch(JSON.stringify(run.result), new RegExp(secret), 'the stored result has a reference, not the value');
      assert.ok((await env.logs(id)).some((line) => line.includes('{{secret:API_TOKEN}}')));
    } finally {
      await env.close();
      server.close();
    }
    for (const name of readdirSync(folder.dir).filter((entry) => entry.startsWith('secrets.db'))) {
      assert.equal(readFileSync(join(folder.dir, name)).includes(secret), false, `${name} does not contain the secret`);
    }
    assert.ok(lines.length > 0);
    assert.equal(lines.join('').includes(secret), false, 'no log line contains the secret');
  });
});
