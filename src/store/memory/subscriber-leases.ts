/** The memory store's subscriber leases: a map by key, with the same semantics as the SQL tables. */
import type { SubscriberLeaseGrant } from '../../core/ports.js';

interface LeaseRow {
  owner: string | undefined;
  until: number;
  token: number;
}

export class SubscriberLeaseTable {
  private readonly leases = new Map<string, LeaseRow>();

  /** `marks` is the store's map of schedule ticks: a subscriber's mark is one of them. */
  constructor(private readonly marks: Map<string, number>) {}

  acquire(key: string, owner: string, now: number, until: number): SubscriberLeaseGrant {
    const row = this.leases.get(key);
    if (row?.owner !== undefined && row.owner !== owner && row.until > now) return { acquired: false, owner: row.owner, until: row.until };
    const token = (row?.token ?? 0) + 1;
    this.leases.set(key, { owner, until, token });
    return { acquired: true, token };
  }

  renew(key: string, token: number, until: number): boolean {
    const row = this.held(key, token);
    if (row) row.until = until;
    return row !== undefined;
  }

  release(key: string, token: number): void {
    const row = this.held(key, token);
    if (row) Object.assign(row, { owner: undefined, until: 0 });
  }

  advance(key: string, token: number, seq: number): boolean {
    const mark = this.marks.get(key);
    if (!this.held(key, token) || (mark !== undefined && seq <= mark)) return false;
    this.marks.set(key, seq);
    return true;
  }

  private held(key: string, token: number): LeaseRow | undefined {
    const row = this.leases.get(key);
    return row?.owner !== undefined && row.token === token ? row : undefined;
  }
}
