/**
 * The SQLite store's subscriber leases (migration 010): one row per subscriber, and the mark it
 * fences in `schedule_ticks`. Every statement is a primary-key lookup.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { SubscriberLeaseGrant } from '../../core/ports.js';

export const SUBSCRIBER_LEASE_SQL = {
  get: 'SELECT owner, lease_until, token FROM subscriber_leases WHERE subscriber = ?',
  grant: `INSERT INTO subscriber_leases (subscriber, owner, lease_until, token) VALUES (@key, @owner, @until, 1)
    ON CONFLICT (subscriber) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until, token = subscriber_leases.token + 1
    RETURNING token`,
  renew: 'UPDATE subscriber_leases SET lease_until = @until WHERE subscriber = @key AND token = @token AND owner IS NOT NULL',
  release: 'UPDATE subscriber_leases SET owner = NULL, lease_until = 0 WHERE subscriber = @key AND token = @token',
  // The SELECT's WHERE also keeps SQLite from reading ON CONFLICT as a join constraint.
  advanceMark: `INSERT INTO schedule_ticks (schedule_id, tick)
    SELECT @key, @seq WHERE EXISTS (SELECT 1 FROM subscriber_leases WHERE subscriber = @key AND token = @token AND owner IS NOT NULL)
    ON CONFLICT (schedule_id) DO UPDATE SET tick = excluded.tick WHERE excluded.tick > schedule_ticks.tick`,
};

interface LeaseRow {
  owner: string | null;
  lease_until: number;
  token: number;
}

type Params = Record<string, unknown>;

export class SqliteSubscriberLeases {
  private prepared?: {
    get: Statement<[string], LeaseRow>;
    grant: Statement<[Params], { token: number }>;
    renew: Statement<[Params]>;
    release: Statement<[Params]>;
    advanceMark: Statement<[Params]>;
  };

  constructor(private readonly db: Database) {}

  private statements() {
    this.prepared ??= {
      get: this.db.prepare(SUBSCRIBER_LEASE_SQL.get),
      grant: this.db.prepare(SUBSCRIBER_LEASE_SQL.grant),
      renew: this.db.prepare(SUBSCRIBER_LEASE_SQL.renew),
      release: this.db.prepare(SUBSCRIBER_LEASE_SQL.release),
      advanceMark: this.db.prepare(SUBSCRIBER_LEASE_SQL.advanceMark),
    };
    return this.prepared;
  }

  /**
   * A read: the refusal while another node holds the lease, so that a node that does not hold it
   * asks without writing; undefined when a grant may succeed.
   */
  refusal(key: string, owner: string, now: number): SubscriberLeaseGrant | undefined {
    const row = this.statements().get.get(key);
    if (row?.owner == null || row.owner === owner || row.lease_until <= now) return undefined;
    return { acquired: false, owner: row.owner, until: row.lease_until };
  }

  /** Inside a write transaction. */
  acquire(key: string, owner: string, now: number, until: number): SubscriberLeaseGrant {
    const refused = this.refusal(key, owner, now);
    if (refused) return refused;
    return { acquired: true, token: this.statements().grant.get({ key, owner, until })!.token };
  }

  /** Inside a write transaction. */
  renew(key: string, token: number, until: number): boolean {
    return this.statements().renew.run({ key, token, until }).changes > 0;
  }

  /** Inside a write transaction. */
  release(key: string, token: number): void {
    this.statements().release.run({ key, token });
  }

  /** Inside a write transaction. */
  advance(key: string, token: number, seq: number): boolean {
    return this.statements().advanceMark.run({ key, token, seq }).changes > 0;
  }
}
