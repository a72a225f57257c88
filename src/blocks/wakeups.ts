import { race } from '../sdk/durable.js';

/**
 * Durable waits raced again and again in a loop. A plain `race({ a: waitFor(…), poll: sleep(…) })`
 * in a loop leaves the losing waits and timers parked on the run, one more set per iteration; here
 * each wait stays parked until it fires, and only the one that fired is made anew.
 */
export class Wakeups {
  private readonly parked = new Map<string, Promise<unknown>>();

  /** Races the waits named in `sources` (made when not parked yet) and the one-off `extra` promises. */
  async next(
    sources: Record<string, () => Promise<unknown>>,
    extra: Record<string, Promise<unknown>> = {},
  ): Promise<{ key: string; value: unknown }> {
    const branches: Record<string, Promise<unknown>> = { ...extra };
    for (const [key, make] of Object.entries(sources)) {
      let parked = this.parked.get(key);
      if (!parked) {
        parked = make();
        this.parked.set(key, parked);
      }
      branches[key] = parked;
    }
    const woke = await race(branches);
    this.parked.delete(woke.key);
    return { key: woke.key, value: woke.value };
  }
}
