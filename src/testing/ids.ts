import { createHash } from 'node:crypto';

/**
 * The ids a test environment makes — run ids of `start` without one, event ids of `emit`, the simulator's webhook
 * and delivery UUIDs — from a seed and a counter per kind, so that every test run gets the same ones. A run's id
 * seeds its `Math.random()`, and a triggered run's id comes from its event's: random ids made both differ on every
 * test run. UUID-shaped (version 4), like the random ones a server makes. The engine's retry jitter draws from the
 * same seed (`random`), so that the virtual times of retries are the same on every test run too.
 */
export class TestIds {
  private readonly counts = new Map<string, number>();

  constructor(private readonly seed: string) {}

  next(kind: string): string {
    const hex = this.digest(kind);
    const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  /** The next number in [0, 1) of the seed's own sequence: the engine's retry jitter, which a server draws from `Math.random`. */
  random(): number {
    // 13 hex digits are 52 bits, the precision of a double in [0, 1).
    return Number.parseInt(this.digest('random').slice(0, 13), 16) / 2 ** 52;
  }

  /** The hash of the seed and the next count of `kind`. */
  private digest(kind: string): string {
    const count = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, count);
    return createHash('sha256').update(`${this.seed}\n${kind}\n${count}`).digest('hex');
  }
}
