/**
 * The PostgreSQL store's subscriber leases (migration 014): one row per subscriber, and the mark it
 * fences in `schedule_ticks`. Each method is one statement (so its own transaction), by primary key.
 */
import type { SubscriberLeaseGrant } from '../../core/ports.js';
import type { Queryable } from './prepared.js';

export const SUBSCRIBER_LEASE_SQL = {
  get: 'SELECT owner, lease_until FROM subscriber_leases WHERE subscriber = $1',
  // The WHERE is evaluated on the row as the last committed grant left it: of two nodes that both
  // saw the lease lapse, the second finds the first one's grant and takes nothing.
  grant: `INSERT INTO subscriber_leases (subscriber, owner, lease_until, token) VALUES ($1, $2, $3, 1)
    ON CONFLICT (subscriber) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until, token = subscriber_leases.token + 1
    WHERE subscriber_leases.owner IS NULL OR subscriber_leases.owner = excluded.owner OR subscriber_leases.lease_until <= $4
    RETURNING token`,
  renew: 'UPDATE subscriber_leases SET lease_until = $3 WHERE subscriber = $1 AND token = $2 AND owner IS NOT NULL',
  release: 'UPDATE subscriber_leases SET owner = NULL, lease_until = 0 WHERE subscriber = $1 AND token = $2',
  // FOR SHARE: a grant to another node waits for this statement, or this statement for the grant and
  // then sees the new token. So the new holder reads the mark only after a stale node's last move.
  advanceMark: `WITH lease AS (
      SELECT 1 FROM subscriber_leases WHERE subscriber = $1 AND token = $2 AND owner IS NOT NULL FOR SHARE
    )
    INSERT INTO schedule_ticks (schedule_id, tick) SELECT $1, $3 FROM lease
    ON CONFLICT (schedule_id) DO UPDATE SET tick = excluded.tick WHERE excluded.tick > schedule_ticks.tick`,
};

interface LeaseRow {
  owner: string | null;
  lease_until: number;
}

function refusal(row: LeaseRow | undefined, owner: string, now: number): SubscriberLeaseGrant | undefined {
  if (row?.owner == null || row.owner === owner || row.lease_until <= now) return undefined;
  return { acquired: false, owner: row.owner, until: row.lease_until };
}

export async function acquireSubscriberLease(
  db: Queryable,
  key: string,
  owner: string,
  now: number,
  until: number,
): Promise<SubscriberLeaseGrant> {
  // A read first: a node that does not hold the lease asks every second, and a refusal takes no row lock.
  const held = refusal((await db.query<LeaseRow>(SUBSCRIBER_LEASE_SQL.get, [key])).rows[0], owner, now);
  if (held) return held;
  const granted = (await db.query<{ token: number }>(SUBSCRIBER_LEASE_SQL.grant, [key, owner, until, now])).rows[0];
  if (granted) return { acquired: true, token: granted.token };
  // Another node was granted it in between; a new statement sees its grant.
  const row = (await db.query<LeaseRow>(SUBSCRIBER_LEASE_SQL.get, [key])).rows[0];
  return refusal(row, owner, now) ?? { acquired: false, owner: row?.owner ?? '', until: now };
}

export async function renewSubscriberLease(db: Queryable, key: string, token: number, until: number): Promise<boolean> {
  return ((await db.query(SUBSCRIBER_LEASE_SQL.renew, [key, token, until])).rowCount ?? 0) > 0;
}

export async function releaseSubscriberLease(db: Queryable, key: string, token: number): Promise<void> {
  await db.query(SUBSCRIBER_LEASE_SQL.release, [key, token]);
}

export async function advanceSubscriberMark(db: Queryable, key: string, token: number, seq: number): Promise<boolean> {
  return ((await db.query(SUBSCRIBER_LEASE_SQL.advanceMark, [key, token, seq])).rowCount ?? 0) > 0;
}
