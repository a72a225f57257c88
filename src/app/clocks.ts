import type { Clock } from '../core/ports.js';

/** setTimeout caps its delay at 2^31-1 ms (≈24.8 days); longer waits are re-armed in steps. */
const MAX_TIMEOUT = 2_147_483_647;

/** The real clock. */
export function createSystemClock(): Clock {
  return {
    now: () => Date.now(),
    schedule(at, callback, options) {
      let handle: NodeJS.Timeout | undefined;
      // Always through setTimeout, even when `at` has passed: the Clock contract promises callers
      // that the callback never runs inside schedule() itself.
      const arm = (): void => {
        const delay = at - Date.now();
        handle = setTimeout(delay > MAX_TIMEOUT ? arm : callback, Math.max(0, Math.min(delay, MAX_TIMEOUT)));
        if (options?.keepAlive !== true) handle.unref();
      };
      arm();
      return () => {
        if (handle) clearTimeout(handle);
      };
    },
  };
}

interface VirtualTimer {
  at: number;
  order: number;
  callback: () => void;
}

/**
 * A clock that moves only when told to: tests jump days ahead in no time. Callbacks due at the
 * same instant run in the order they were scheduled.
 */
export class VirtualClock implements Clock {
  private current: number;
  private timers: VirtualTimer[] = [];
  private order = 0;

  constructor(start: number = Date.UTC(2026, 0, 5, 9, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(at: number, callback: () => void): () => void {
    const timer: VirtualTimer = { at, order: this.order++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((item) => item !== timer);
    };
  }

  /** The time of the earliest scheduled callback, if any. */
  nextAt(): number | undefined {
    let next: number | undefined;
    for (const timer of this.timers) if (next === undefined || timer.at < next) next = timer.at;
    return next;
  }

  /** Moves to `at` (never backwards), running every callback due on the way, in time order. */
  advanceTo(at: number): void {
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= at).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.current = Math.max(this.current, due.at);
      due.callback();
    }
    this.current = Math.max(this.current, at);
  }

  advance(ms: number): void {
    this.advanceTo(this.current + ms);
  }
}
