/**
 * API tokens: made here, stored only as their hash. The first start of a database makes one (runtime.ts) and `autoflow
 * token rotate` replaces whatever is stored with a new one; either shows the token once.
 */
import { createHash, randomBytes } from 'node:crypto';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new admin token: `af_` and 32 characters of 24 random bytes. */
export function newApiToken(): string {
  return `af_${randomBytes(24).toString('base64url')}`;
}
