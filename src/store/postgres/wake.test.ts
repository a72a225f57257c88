/**
 * LISTEN/NOTIFY between two stores on one schema, against the local server: a write that gives
 * work to other nodes wakes them at once, a node is not woken by its own writes, and a store on
 * another schema is not woken at all. Unreachable server: skipped locally, a failure in CI.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { newRun } from '../conformance/fixtures.js';
import { createPostgresStore, type PostgresStore } from './postgres-store.js';
import { postgresUnreachable, TEST_POSTGRES_URL } from '../../../test/helpers/postgres.js';

const URL = TEST_POSTGRES_URL;

const reason = await postgresUnreachable();

/** Resolves with how many wake-ups `count` saw once `until` holds or `ms` passed. */
async function settle(count: () => number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  const start = count();
  while (Date.now() < deadline && count() === start) await new Promise((resolve) => setTimeout(resolve, 10));
  return count();
}

if (reason !== undefined && process.env.CI === 'true') {
  it('PostgreSQL wake-ups (CI must run them)', () => assert.fail(`PostgreSQL not reachable at ${URL} (${reason})`));
} else {
  describe('PostgreSQL wake-ups (LISTEN/NOTIFY)', { skip: reason && `PostgreSQL not reachable at ${URL} (${reason})` }, () => {
    const schema = `af_${randomBytes(6).toString('hex')}`;
    const other = `af_${randomBytes(6).toString('hex')}`;
    const stores: PostgresStore[] = [];
    const stops: Array<() => Promise<void>> = [];
    after(async () => {
      for (const stop of stops) await stop();
      for (const store of stores) await store.close();
      const admin = new pg.Client({ connectionString: URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`DROP SCHEMA IF EXISTS ${other} CASCADE`);
      await admin.end();
    });

    it('wakes the other nodes of the schema at once, not the writer, not another schema', async () => {
      const [a, b, elsewhere] = [
        createPostgresStore({ url: URL, schema }),
        createPostgresStore({ url: URL, schema }),
        createPostgresStore({ url: URL, schema: other }),
      ];
      stores.push(a, b, elsewhere);
      for (const store of stores) await store.migrate();
      const woken = { a: 0, b: 0, elsewhere: 0 };
      const errors: Error[] = [];
      stops.push(
        a.listen(
          () => woken.a++,
          (error) => errors.push(error),
        ),
      );
      stops.push(
        b.listen(
          () => woken.b++,
          (error) => errors.push(error),
        ),
      );
      stops.push(
        elsewhere.listen(
          () => woken.elsewhere++,
          (error) => errors.push(error),
        ),
      );
      // Each listener wakes once when its connection is up (what it missed while away).
      for (const key of ['a', 'b', 'elsewhere'] as const) assert.equal(await settle(() => woken[key], 5000), 1, `${key} connected`);

      // The listener does not poll: only the NOTIFY of a's write can wake b.
      assert.equal((await a.createRun(newRun('r1'))).created, true);
      assert.equal(await settle(() => woken.b, 5000), 2, 'b woke for a new run written by a');
      await b.createRun(newRun('r2'));
      assert.equal(await settle(() => woken.a, 2000), 2, 'a woke for the run written by b');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(woken, { a: 2, b: 2, elsewhere: 1 }, 'no echo of its own writes, nothing across schemas');
      assert.deepEqual(errors, []);
    });
  });
}
