/**
 * The store's connection pools and their timeouts. Without them a failover that leaves the old
 * connections silent (no RST) freezes a node until the kernel gives up on the socket, which takes
 * from minutes to hours: every pooled connection waits for an answer that never comes.
 */
import pg from 'pg';
import type { ClientConfig, CustomTypesConfig, Pool, PoolClient } from 'pg';
import { isQueryTimeout } from './pg-errors.js';

export const DEFAULT_POOL_SIZE = 10;
/** Far above AutoFlow's longest statements (index lookups, batches of at most a few hundred rows). */
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Silence after which the kernel probes the connection: a peer that vanished is noticed even while nothing is asked of it. */
const KEEPALIVE_IDLE_MS = 10_000;
/** PostgreSQL keeps 63 bytes of `application_name` (NAMEDATALEN - 1). */
const APPLICATION_NAME_BYTES = 63;

export interface PoolSettings {
  /** With the schema's search_path, and `application_name` unless the URL names one. */
  connectionString: string;
  poolSize?: number | undefined;
  connectTimeoutMs?: number | undefined;
  queryTimeoutMs?: number | undefined;
  types: CustomTypesConfig;
}

/**
 * The URL with `application_name` "autoflow <nodeId>", unless the operator named the sessions (a URL
 * parameter, `options`, or PGAPPNAME): operators find a node's sessions in `pg_stat_activity` by it.
 * Too long, the node id keeps its end (its pid and random part, which tell the nodes of one host apart).
 */
export function withApplicationName(url: string, nodeId: string | undefined): string {
  const parsed = new URL(url);
  const named =
    parsed.searchParams.has('application_name') ||
    /application_name\s*=/.test(parsed.searchParams.get('options') ?? '') ||
    process.env.PGAPPNAME !== undefined;
  if (named) return url;
  let name = nodeId === undefined ? 'autoflow' : `autoflow ${nodeId}`;
  for (let cut = 1; Buffer.byteLength(name) > APPLICATION_NAME_BYTES; cut++) name = `autoflow …${(nodeId ?? '').slice(cut)}`;
  parsed.searchParams.set('application_name', name);
  return parsed.toString();
}

/**
 * The positive whole number of ms of `connectTimeoutMs`; by default 10 s, or the query timeout when
 * that is shorter: a server that takes longer to let a client in than it may take to answer a query
 * is as silent as one that does not answer, and a stop waits for a connection being opened.
 */
export function connectTimeoutOf(settings: Pick<PoolSettings, 'connectTimeoutMs' | 'queryTimeoutMs'>): number {
  return Math.max(1, Math.floor(settings.connectTimeoutMs ?? Math.min(DEFAULT_CONNECT_TIMEOUT_MS, queryTimeoutOf(settings))));
}

function common(settings: PoolSettings): ClientConfig {
  return {
    connectionString: settings.connectionString,
    connectionTimeoutMillis: connectTimeoutOf(settings),
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    types: settings.types,
  };
}

/** The positive whole number of ms of `queryTimeoutMs`, or the default. */
export function queryTimeoutOf(settings: Pick<PoolSettings, 'queryTimeoutMs'>): number {
  return Math.max(1, Math.floor(settings.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS));
}

/**
 * A connection's settings with its timeouts: the pool's connections and the one LISTEN keeps for
 * itself have the same.
 */
function withTimeouts(settings: PoolSettings): ClientConfig {
  const timeoutMs = queryTimeoutOf(settings);
  return {
    ...common(settings),
    // The client stops waiting for a query the server has not answered, and the connection is
    // destroyed, never pooled again: pg-pool ends a client released with an error, and pg destroys
    // the socket of a client whose query is still in flight (transaction.ts releases it so too).
    query_timeout: timeoutMs,
    // The server ends such a statement as well: one the client gave up on then does not go on
    // holding locks on a backend nobody listens to any more.
    statement_timeout: timeoutMs,
    // And a node that froze inside a transaction (a stopped VM) does not keep its row locks longer.
    idle_in_transaction_session_timeout: timeoutMs,
  };
}

/** The pool of every query but the migrations; `onIdleError` hears of a connection that failed while idle. */
export function createPool(settings: PoolSettings, onIdleError: (error: Error) => void): Pool {
  const pool = new pg.Pool({ ...withTimeouts(settings), max: Math.max(1, Math.floor(settings.poolSize ?? DEFAULT_POOL_SIZE)) });
  dropIdleAfterTimeout(pool, onIdleError);
  return pool;
}

/** A connection of its own, outside the pool (a LISTEN belongs to its session), with the pool's timeouts. */
export function createDedicatedClient(settings: PoolSettings): pg.Client {
  return new pg.Client(withTimeouts(settings));
}

/**
 * Ends a connection with a goodbye to the server, but waits at most the query timeout for the server
 * to close its side: a silent one never does, and a stopping server must not wait for it.
 */
export async function endClient(client: pg.Client, settings: Pick<PoolSettings, 'queryTimeoutMs'>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    // A connection that is already broken or gone ends with an error or at once: either way it is closed.
    client.end().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, queryTimeoutOf(settings)))),
  ]);
  clearTimeout(timer);
  client.connection.stream.destroy();
}

/**
 * A query that timed out says that the way to the server may be broken: the idle connections opened
 * on it are as likely to be silent, and each would make one more caller wait a whole timeout before
 * the pool gets to a working one. They are closed too (new connections are cheap), without a warning
 * for each: the time-out was reported already.
 */
function dropIdleAfterTimeout(pool: Pool, onIdleError: (error: Error) => void): void {
  const idle = new Set<PoolClient>();
  const dropped = new WeakSet<PoolClient>();
  pool.on('acquire', (client) => idle.delete(client));
  pool.on('remove', (client) => idle.delete(client));
  pool.on('release', (error: Error | boolean | undefined, client) => {
    if (!error) {
      idle.add(client);
      return;
    }
    idle.delete(client);
    if (!isQueryTimeout(error)) return;
    // pg-pool has no public call to drop an idle client. Its `_remove` takes it out of the idle list
    // at once, before the next checkout could get it; without it (another pg-pool), the socket's end
    // makes the pool remove it a moment later.
    const remove = (pool as unknown as { _remove?: (client: PoolClient) => void })._remove?.bind(pool);
    for (const other of idle) {
      dropped.add(other);
      remove?.(other);
      other.connection.stream.destroy();
    }
    idle.clear();
  });
  // An idle connection that dies (a server restart) must not crash the process; the next query gets a new one.
  pool.on('error', (error, client) => {
    if (!dropped.has(client)) onIdleError(error);
  });
}

/**
 * One connection for the migrations, without AutoFlow's timeouts: building an index on a large table
 * may take minutes, and a migration cut off is rolled back and would be cut off again at every
 * start. The role's and the database's own settings apply.
 */
export function createMigrationPool(settings: PoolSettings): Pool {
  return new pg.Pool({ ...common(settings), max: 1 });
}
