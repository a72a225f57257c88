/**
 * Turns what PostgreSQL (or the connection to it) reports into a StoreError that says what happened
 * and what to do about it. The driver's error stays attached as `cause`, its code in `details`.
 * Messages name the server by its URL with the password masked.
 */
import { AutoflowError, StoreError, toError, ValidationError } from '../../core/errors.js';

/** The URL with its password replaced by `****`, safe for messages and logs. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '****';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:****@');
  }
}

/** What node-postgres rejects a query with when the server did not answer it within `query_timeout`. */
const QUERY_TIMEOUT = 'Query read timeout';
/** What pg-pool rejects a checkout with when no connection came free within `connectionTimeoutMillis`. */
const POOL_TIMEOUT = 'timeout exceeded when trying to connect';

/** Whether the client gave up waiting for the answer to a query (the connection must then be destroyed). */
export function isQueryTimeout(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (cause.message === QUERY_TIMEOUT) return true;
  }
  return false;
}

/** Codes of the socket layer: the server could not be reached at all. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);

function codeOf(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The advice for an error code (SQLSTATE or errno). */
function explain(code: string | undefined, where: string, message: string): string {
  if (code !== undefined && UNREACHABLE.has(code)) {
    return `cannot reach PostgreSQL at ${where} (${code}): check that the server is running, that host and port in the URL are right, and that this machine may connect to it (firewall, listen_addresses).`;
  }
  if (message === QUERY_TIMEOUT) {
    return (
      `PostgreSQL at ${where} did not answer a query within postgres.queryTimeoutMs; the connection was dropped and the next query opens a new one. ` +
      'A failover or a network fault that left the connection silent, or a server too busy to answer, does this.'
    );
  }
  if (message === POOL_TIMEOUT) {
    return (
      `PostgreSQL at ${where}: no pooled connection came free in time: every one is busy with a query the server has not answered yet ` +
      '(each is given up after postgres.queryTimeoutMs), or the load needs more than postgres.poolSize connections.'
    );
  }
  if (/timeout/i.test(message) && /connect/i.test(message)) {
    return `cannot reach PostgreSQL at ${where}: connecting timed out. Check that the server is running and that host and port in the URL are right.`;
  }
  switch (code) {
    case '28P01':
    case '28000':
      return `PostgreSQL at ${where} refused the login (${message}): check the user and password in the URL and the server's pg_hba.conf.`;
    case '3D000':
      return `PostgreSQL at ${where}: the database does not exist (${message}). Create it (createdb) or fix the database name in the URL.`;
    case '42P01':
      return (
        `PostgreSQL at ${where} has no AutoFlow schema yet (${message}): check the schema the URL names (search_path), or start ` +
        'an AutoFlow server on it once, which creates it (store.migrate()).'
      );
    case '53100':
      return `PostgreSQL at ${where}: the server's disk is full. Free disk space on the database server, then retry.`;
    case '53300':
      return `PostgreSQL at ${where} has no connection slots left: lower poolSize, or raise max_connections on the server.`;
    case '57P01':
    case '57P02':
    case '57P03':
      return `PostgreSQL at ${where} is shutting down or starting up (${message}): retry once it is available.`;
    case '57014':
      return `PostgreSQL at ${where} cancelled a statement (${message}): it ran longer than postgres.queryTimeoutMs (statement_timeout), or an administrator cancelled it.`;
    case '40P01':
    case '40001':
      return `PostgreSQL at ${where}: a transaction clashed with a concurrent one and was rolled back (${message}); retry the operation.`;
  }
  if (code?.startsWith('23')) {
    return `PostgreSQL at ${where}: a write broke a constraint (${message}). This is a bug in AutoFlow: please report it with this message.`;
  }
  return `PostgreSQL at ${where}: ${message}${code ? ` (${code})` : ''}.`;
}

/**
 * A value PostgreSQL refused as data (SQLSTATE class 22, data exception: U+0000 in text, an invalid escape in jsonb;
 * or 54000, an index entry too large): the database answered, and the same write would fail again. Not a StoreError,
 * which says the database is unavailable (a 503 with Retry-After, a call retried): a ValidationError, so that the API
 * answers 400 with PostgreSQL's message. Should one get past the checks at the way in, the client hears what is wrong.
 */
export class PostgresDataError extends ValidationError {
  readonly sqlState: string;
  constructor(message: string, sqlState: string, cause: Error) {
    super('PostgreSQL refused a value', [`${message} (${sqlState})`]);
    this.sqlState = sqlState;
    this.cause = cause;
  }
}

/** Whether PostgreSQL refused the data of a statement rather than failed to run it. */
function isDataException(code: string | undefined): code is string {
  return code !== undefined && (code.startsWith('22') || code === '54000');
}

/**
 * An error from the driver becomes a StoreError, or a PostgresDataError for a value PostgreSQL refuses; AutoFlow's own
 * errors pass unchanged, and so does a programming error (a TypeError is a bug to see as it is, not a storage failure).
 */
export function toStoreError(error: unknown, url: string): Error {
  if (error instanceof AutoflowError) return error;
  const cause = toError(error);
  const code = codeOf(cause);
  const fromDriver =
    code !== undefined ||
    (cause.constructor.name === 'Error' && (cause.message === QUERY_TIMEOUT || /connect|terminat|Connection/i.test(cause.message)));
  if (!fromDriver) return cause;
  if (isDataException(code)) return new PostgresDataError(cause.message, code, cause);
  const where = maskUrl(url);
  return new StoreError(explain(code, where, cause.message), { cause, details: { code: code ?? null, url: where } });
}

/** SQLSTATEs after which the whole transaction may simply be run again. */
export function isRetryable(error: unknown): boolean {
  const code = error instanceof Error ? codeOf(error) : undefined;
  return code === '40P01' || code === '40001';
}
