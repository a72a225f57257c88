/**
 * Wake-ups between nodes over `LISTEN/NOTIFY`: after a write that gives work to whichever node
 * holds a run (a call resolved, a timer fired, an event stored, a run created), the store sends a
 * NOTIFY; every other node listening on the same schema wakes its engine at once instead of at its
 * next poll. NOTIFY is a hint, never the only path: a missed one costs one poll interval. The triggers of migration 024
 * send one as well when they start a queued run of a concurrency group, as sender `concurrency`: no node's id, so
 * every node wakes, the writer's too.
 */
import type pg from 'pg';
import type { Pool } from 'pg';
import { toError } from '../../core/errors.js';
import { createDedicatedClient, endClient, type PoolSettings } from './pool.js';

/** One channel per database; the payload names the schema, so nodes of other schemas ignore it. */
export const WAKE_CHANNEL = 'autoflow_wake';

/** Payload `<schema>:<sender>`: the schema as the sending connection sees it, and who sent it. */
const NOTIFY_SQL = `SELECT pg_notify('${WAKE_CHANNEL}', current_schema() || ':' || $1::text)`;

export interface WakeListenerOptions {
  /** The store's connection settings (URL with its schema's search_path, timeouts). */
  connection: PoolSettings;
  /** This store's id: its own notifications are not echoed back to it. */
  senderId: string;
  onWake: () => void;
  /** Reports a lost or failed listening connection (it is retried). */
  onError: (error: Error) => void;
  /** First retry delay after the connection is lost; doubles up to 30 s. @default 500 */
  retryMs?: number;
}

/**
 * Sends NOTIFYs, at most one in flight: calls while one is on its way are folded into one more,
 * sent after it. A failed NOTIFY is reported, never thrown at the write that asked for it.
 */
export function createNotifier(pool: Pool, senderId: string, onError: (error: Error) => void): () => void {
  let sending = false;
  let again = false;
  const send = (): void => {
    sending = true;
    again = false;
    pool
      .query(NOTIFY_SQL, [senderId])
      .catch((error: unknown) => onError(toError(error)))
      .finally(() => {
        sending = false;
        if (again) send();
      });
  };
  return () => {
    if (sending) again = true;
    else send();
  };
}

/**
 * Listens on a dedicated connection (not from the pool: a LISTEN belongs to its session), and
 * reconnects with back-off when the server restarts. After every (re)connect it wakes once,
 * because notifications sent while it was away are lost. Returns the function that stops it.
 */
export function listenForWakes(options: WakeListenerOptions): () => Promise<void> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  const initialDelay = options.retryMs ?? 500;
  let delay = initialDelay;
  let schema: string | undefined;

  const retry = (error: Error): void => {
    if (stopped || retryTimer) return;
    options.onError(error);
    const failed = client;
    client = undefined;
    failed?.removeAllListeners('end');
    failed?.connection.stream.destroy(); // it is broken already: no goodbye to wait for
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, 30_000);
  };

  const connect = async (): Promise<void> => {
    const next = createDedicatedClient(options.connection);
    client = next;
    next.on('error', (error) => retry(error));
    next.on('end', () => retry(new Error('the LISTEN connection to PostgreSQL closed')));
    next.on('notification', (message) => {
      const payload = message.payload ?? '';
      const at = payload.lastIndexOf(':');
      if (payload.slice(0, at) === schema && payload.slice(at + 1) !== options.senderId) options.onWake();
    });
    try {
      await next.connect();
      schema = (await next.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]?.schema;
      await next.query(`LISTEN ${WAKE_CHANNEL}`);
      if (stopped) {
        await endClient(next, options.connection);
        return;
      }
      delay = initialDelay;
      options.onWake();
    } catch (error) {
      retry(toError(error));
    }
  };

  void connect();
  return async () => {
    stopped = true;
    if (retryTimer) clearTimeout(retryTimer);
    const last = client;
    client = undefined;
    last?.removeAllListeners('end');
    if (last) await endClient(last, options.connection);
  };
}
