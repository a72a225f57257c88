/**
 * The store's timeouts against connections that go silent: a TCP proxy in front of the test server
 * freezes the connections open at one moment (no RST, as a failover can leave them), and the store
 * must fail what it asked within its query timeout, drop those connections, and go on with new ones.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { StoreError } from '../../core/errors.js';
import { TcpProxy } from '../../../test/helpers/tcp-proxy.js';
import { TEST_POSTGRES_URL, testOnPostgres } from '../../../test/helpers/postgres.js';
import { isQueryTimeout, toStoreError } from './pg-errors.js';
import { withApplicationName } from './pool.js';
import { createPostgresStore, type PostgresStore } from './postgres-store.js';

const PORTS = Array.from({ length: 100 }, (_, i) => 18_700 + i);
const TIMEOUT_MS = 400;

const target = new URL(TEST_POSTGRES_URL);
const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) }, PORTS);
after(() => proxy.close());

/** A store through the proxy, in the test's schema, with a short query timeout; migrated. */
async function storeThroughProxy(url: string, nodeId: string): Promise<PostgresStore> {
  const store = createPostgresStore({ url: proxy.url(url), poolSize: 3, queryTimeoutMs: TIMEOUT_MS, connectTimeoutMs: 2000, nodeId });
  await store.migrate();
  return store;
}

/** How long `work` took to settle, and its error; an error of its own when it has not settled after 5 s. */
async function timed(work: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer within 5 s: the store waits for a silent connection')), 5000);
  });
  try {
    await Promise.race([work, deadline]);
    return { ms: performance.now() - started, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, error };
  } finally {
    clearTimeout(timer);
  }
}

await testOnPostgres(
  'a query on a frozen connection fails within the query timeout, the connection is destroyed, and the next query gets a new one',
  async (url) => {
    const store = await storeThroughProxy(url, 'frozen-query');
    try {
      assert.equal(await store.countApiTokens(), 0);
      const frozen = proxy.freeze();
      assert.ok(frozen.length > 0, 'the pool holds a connection');
      const { ms, error } = await timed(store.countApiTokens());
      assert.ok(error instanceof StoreError, `a StoreError, not ${String(error)}`);
      assert.match(error.message, /did not answer a query within postgres\.queryTimeoutMs; the connection was dropped/);
      assert.ok(ms >= TIMEOUT_MS - 50 && ms < TIMEOUT_MS + 1500, `failed after ${Math.round(ms)} ms`);
      // The frozen connections are closed by the driver, not handed out again: the next queries succeed.
      assert.equal(await store.countApiTokens(), 0);
      await store.addFirstApiToken('hash', 'after the freeze', Date.now());
      assert.equal(await store.countApiTokens(), 1);
      const used = frozen.filter((connection) => connection.closedByClient);
      assert.ok(used.length >= 1, 'the connection that timed out was destroyed');
    } finally {
      proxy.dropFrozen();
      await store.close();
    }
  },
);

await testOnPostgres(
  'a transaction on a frozen connection fails within one timeout (no ROLLBACK waiting behind the hung query) and its connection is destroyed',
  async (url) => {
    const store = await storeThroughProxy(url, 'frozen-transaction');
    try {
      // Every pooled connection made once, so that whichever the transaction checks out is frozen.
      await Promise.all([store.countApiTokens(), store.countApiTokens(), store.countApiTokens()]);
      const frozen = proxy.freeze();
      // releaseLeases is a transaction: BEGIN, two statements, COMMIT.
      const { ms, error } = await timed(store.releaseLeases('nobody', ['run-1']));
      assert.ok(error instanceof StoreError, `a StoreError, not ${String(error)}`);
      assert.ok(ms < 2 * TIMEOUT_MS, `failed after ${Math.round(ms)} ms`);
      await store.releaseLeases('nobody', ['run-1']);
      assert.ok(
        frozen.some((connection) => connection.closedByClient),
        'the timed-out transaction connection was destroyed, not returned to the pool',
      );
    } finally {
      proxy.dropFrozen();
      await store.close();
    }
  },
);

await testOnPostgres('a pool whose connections all hang says so, not "connecting timed out"', async (url) => {
  const store = createPostgresStore({ url: proxy.url(url), poolSize: 1, queryTimeoutMs: 1000, connectTimeoutMs: 200, nodeId: 'busy-pool' });
  await store.migrate();
  try {
    await store.countApiTokens();
    proxy.freeze();
    const hung = timed(store.countApiTokens());
    const { error } = await timed(store.countApiTokens());
    assert.ok(error instanceof StoreError);
    assert.doesNotMatch(error.message, /connecting timed out/);
    assert.match(error.message, /no pooled connection came free in time.*postgres\.queryTimeoutMs.*postgres\.poolSize/);
    assert.ok((await hung).error instanceof StoreError, 'the query that hung fails too, after the query timeout');
  } finally {
    proxy.dropFrozen();
    await store.close();
  }
});

await testOnPostgres('the connections name AutoFlow and the node in application_name', async (url) => {
  const store = createPostgresStore({ url, queryTimeoutMs: 12_345, nodeId: 'host-1-abcdef12' });
  try {
    await store.migrate();
    await store.countApiTokens();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ application_name: string }>(
        "SELECT application_name FROM pg_stat_activity WHERE application_name = 'autoflow host-1-abcdef12'",
      );
      assert.ok(rows.length >= 1);
    } finally {
      await client.end();
    }
  } finally {
    await store.close();
  }
});

describe('pool settings', () => {
  test('application_name: AutoFlow and the node id, the end kept when too long, and one the URL names wins', () => {
    const name = (url: string) => new URL(url).searchParams.get('application_name');
    assert.equal(name(withApplicationName('postgres://u@db/x', 'web-1-42-abcd1234')), 'autoflow web-1-42-abcd1234');
    const long = withApplicationName('postgres://u@db/x', `${'a'.repeat(80)}-4242-abcd1234`);
    assert.ok(Buffer.byteLength(name(long) ?? '') <= 63);
    assert.match(name(long) ?? '', /^autoflow …a+-4242-abcd1234$/);
    assert.equal(name(withApplicationName('postgres://u@db/x?application_name=mine', 'n')), 'mine');
    assert.equal(name(withApplicationName('postgres://u@db/x?options=-c%20application_name%3Dmine', 'n')), null);
  });

  test('a query timeout becomes a StoreError that says what happened', () => {
    const error = toStoreError(new Error('Query read timeout'), 'postgres://u:secret@db/x');
    assert.ok(error instanceof StoreError);
    assert.ok(isQueryTimeout(new Error('wrapped', { cause: new Error('Query read timeout') })));
    assert.doesNotMatch(error.message, /secret/);
  });
});
