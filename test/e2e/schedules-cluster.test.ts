/**
 * Two runtimes (two nodes) on one PostgreSQL schema, both running the scheduler of a per-second
 * cron trigger: every tick starts exactly one run, and no tick between the first and the last is
 * lost. Unreachable server: skipped locally, a failure in CI.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../src/app/runtime.js';
import type { Logger } from '../../src/core/ports.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const URL_ = process.env.AUTOFLOW_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: URL_, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const reason = await admin((client) => client.query('SELECT 1')).then(
  () => undefined,
  (error: unknown) => (error instanceof Error ? error.message : String(error)),
);

if (reason !== undefined && process.env.CI === 'true') {
  it('schedules across nodes (CI must run it)', () => assert.fail(`PostgreSQL not reachable at ${URL_} (${reason})`));
} else {
  describe('cron triggers on two nodes', { skip: reason && `PostgreSQL not reachable (${reason})` }, () => {
    const schema = `af_${randomBytes(6).toString('hex')}`;
    const folder = workflowFolder({
      'every-second.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'every-second', triggers: [{ cron: '* * * * * *' }], async run(input) { return input; } });`,
    });
    const runtimes: Runtime[] = [];
    after(async () => {
      for (const runtime of runtimes) await runtime.stop().catch(() => undefined); // stopped in the test already
      folder.remove();
      await admin((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    });

    it('each tick starts one run, and no tick is lost', { timeout: 60_000 }, async () => {
      await admin((client) => client.query(`CREATE SCHEMA ${schema}`));
      const url = new URL(URL_);
      url.searchParams.set('options', `-c search_path=${schema}`);
      const logger = pino({ level: 'silent' }) as unknown as Logger;
      for (let i = 0; i < 2; i++) {
        runtimes.push(
          await createRuntime(
            embeddedRuntimeConfig({ db: { kind: 'postgres', url: url.toString() }, workflowsDir: folder.dir, apiToken: 'api' }),
            { logger },
          ),
        );
      }
      await Promise.all(runtimes.map((runtime) => runtime.start()));
      const readTicks = () =>
        admin(async (client) =>
          (await client.query<{ id: string }>(`SELECT id FROM ${schema}.runs ORDER BY id`)).rows.map((row) =>
            Date.parse(row.id.slice('every-second@'.length)),
          ),
        );
      // The schedule is on the wall clock (a cron of real seconds across two processes' schedulers):
      // wait for four ticks, checking twice a second.
      const deadline = Date.now() + 20_000;
      while ((await readTicks()).length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
      for (const runtime of runtimes) await runtime.stop();
      const ticks = await readTicks();
      assert.ok(ticks.length >= 4, `${ticks.length} ticks fired in 20 s`);
      const first = ticks[0]!;
      const expected = Array.from({ length: ticks.length }, (_, i) => first + i * 1000);
      assert.deepEqual(ticks, expected, 'one run per second, none missing');
    });
  });
}
