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
