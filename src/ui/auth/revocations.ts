/**
 * Sessions ended by signing out before their cookie expires. The cookie is signed, not stored, so
 * a copy of it would otherwise work until `expiresAt`; each entry is kept only until then.
 */
export interface SessionRevocations {
  /** Refuses the session `id` from now until `until` (epoch ms, the session's own expiry). */
  revoke(id: string, until: number): Promise<void>;
  isRevoked(id: string): Promise<boolean>;
}

/**
 * Revocations in this process, for a UI built without a store behind it (tests). The server passes
 * the store's, so that a session signed out on one server is refused by all of them.
 */
export function createMemoryRevocations(now: () => number = Date.now): SessionRevocations {
  const revoked = new Map<string, number>();
  const prune = (): void => {
    const at = now();
    for (const [id, until] of revoked) if (until <= at) revoked.delete(id);
  };
  return {
    revoke(id, until) {
      prune();
      revoked.set(id, until);
      return Promise.resolve();
    },
    isRevoked(id) {
      const until = revoked.get(id);
      return Promise.resolve(until !== undefined && until > now());
    },
  };
}
