import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';

/** The local test server (trust auth); another one can be named for a run. */
export const TEST_POSTGRES_URL = process.env.AUTOFLOW_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Why the test server cannot be used, or undefined when it answers a query. */
export async function postgresUnreachable(url = TEST_POSTGRES_URL): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  // A refused connection is reported by connect(); the 'error' event would only repeat it.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message || String((error as { code?: unknown }).code) : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs `sql` on the test server with a connection of its own (creating and dropping a test's schema). */
export async function adminQuery(sql: string, url = TEST_POSTGRES_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The test server's URL with `schema` as the search path: a store on it keeps its tables there. */
export function urlInSchema(schema: string, url = TEST_POSTGRES_URL): string {
  const withSchema = new URL(url);
  withSchema.searchParams.set('options', `-c search_path=${schema}`);
  return withSchema.toString();
}

/**
 * A test on a schema of its own on the test server: made before `body`, dropped after it (`body` stops what it
 * started there first). Unreachable server: skipped locally, saying why; a failure in CI, which must run it.
 */
export async function testOnPostgres(name: string, body: (url: string) => Promise<void>): Promise<void> {
  const reason = await postgresUnreachable();
  if (reason !== undefined && process.env.CI === 'true') {
    void test(`${name} (CI must run it)`, () => assert.fail(`PostgreSQL not reachable at ${TEST_POSTGRES_URL} (${reason})`));
    return;
  }
  void test(name, { skip: reason && `PostgreSQL not reachable at ${TEST_POSTGRES_URL} (${reason})` }, async () => {
    const schema = `af_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(`CREATE SCHEMA ${schema}`);
    try {
      await body(urlInSchema(schema));
    } finally {
      await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });
}
