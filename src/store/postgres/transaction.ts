/** One transaction on one pooled connection, run again when PostgreSQL aborts it for a deadlock. */
import type { Pool } from 'pg';
import { toError } from '../../core/errors.js';
import { isQueryTimeout, isRetryable } from './pg-errors.js';
import { preparing, type Queryable } from './prepared.js';

/** How often a transaction aborted by a deadlock or serialization failure is tried in all. */
const ATTEMPTS = 3;

/**
 * Runs `body` between BEGIN and COMMIT on one connection; ROLLBACK when it throws. A transaction
 * that PostgreSQL aborted as a deadlock victim (40P01) or serialization failure (40001) did nothing,
 * so it is run again (up to three attempts) before the error is reported. A connection that failed,
 * or whose query timed out, is destroyed rather than returned to the pool.
 */
export async function inTransaction<T>(pool: Pool, body: (client: Queryable) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    /** Set when the connection must not be pooled again: the error says why (the pool reacts to a time-out). */
    let broken: Error | boolean = false;
    // A connection that dies while checked out (a server restart) emits 'error' on the client; with
    // no listener that would crash the process. The statement in flight fails by itself.
    const onError = (): void => void (broken = true);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await body(preparing(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (isQueryTimeout(error)) {
        // The server did not answer in time: the connection may be one a failover left silent, and
        // a ROLLBACK would only wait behind the query that hangs. Destroyed, it ends the
        // transaction on the server too.
        broken = toError(error);
      } else {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection itself failed: do not hand it out again
        }
      }
      if (attempt < ATTEMPTS && isRetryable(error)) continue;
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}
