import { toError } from '../core/errors.js';
import type { Clock, Logger, Store } from '../core/ports.js';
import type { RetainedKind } from './metrics.js';

/** How long the store keeps what is done with; 0 keeps that kind for ever. */
export interface RetentionPolicy {
  /**
   * Days a run is kept after it ended (completed, failed, cancelled, continued as new); a
   * definition version, after it was deployed, while it is not active and no run uses it.
   */
  runDays: number;
  /** Days an event is kept after it arrived, once routed. */
  eventDays: number;
}

const DAY_MS = 86_400_000;
/** Deletion needs no precision, and a sweep that finds nothing costs a few index reads. */
export const SWEEP_INTERVAL_MS = 10 * 60_000;
/**
 * Runs, events or definition versions one store call deletes. The stores bound each transaction by
 * rows, not runs: a run's history and logs go a few thousand rows at a time, between the engine's commits.
 */
const BATCH = 200;
/** A sweep leaves the rest to the next one, so that the first sweep over years of data does not hold the store for long. */
const MAX_PER_SWEEP = 20_000;

/**
 * Retention: deletes the runs that ended more than `runDays` ago, with their history, logs and
 * human tasks, the definition versions deployed that long ago that are not active and that no
 * run uses any more, and the routed events that arrived more than `eventDays` ago; soon after
 * start and then every SWEEP_INTERVAL_MS. An event an outgoing subscriber has not been given yet
 * stays. Every node of a cluster sweeps; they delete different rows.
 */
export class RetentionSweeper {
  private cancelTimer: (() => void) | undefined;
  private sweeping: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: {
      store: Store;
      clock: Clock;
      logger: Logger;
      policy: RetentionPolicy;
      /** The highest event seq every outgoing subscriber has been given; undefined without subscribers. */
      deliveredThrough: () => Promise<number | undefined>;
      onDeleted: (kind: RetainedKind, count: number) => void;
    },
  ) {}

  start(): void {
    const { runDays, eventDays } = this.deps.policy;
    if (runDays === 0 && eventDays === 0) return;
    this.deps.logger.info(
      { runDays, eventDays },
      'retention: ended runs, unused definition versions and routed events are deleted after these many days (0 keeps them)',
    );
    this.arm(this.deps.clock.now());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    await this.whenIdle();
  }

  /** Resolves once the sweep in progress, if any, has ended and the next one is armed. */
  whenIdle(): Promise<void> {
    return this.sweeping ?? Promise.resolve();
  }

  /** One sweep, now: how many runs, events and definition versions it deleted. */
  async sweep(): Promise<Record<RetainedKind, number>> {
    const { store, clock, policy } = this.deps;
    const now = clock.now();
    const deleted = { runs: 0, events: 0, definitions: 0 };
    if (policy.runDays > 0) {
      const before = now - policy.runDays * DAY_MS;
      deleted.runs = await this.drain('runs', (limit) => store.deleteEndedRuns(before, limit));
      // After the runs: a version goes once the last run that used it has gone.
      deleted.definitions = await this.drain('definitions', (limit) => store.deleteUnusedDefinitions(before, limit));
    }
    if (policy.eventDays > 0) {
      const through = (await this.deps.deliveredThrough()) ?? Number.MAX_SAFE_INTEGER;
      deleted.events = await this.drain('events', (limit) => store.deleteOldEvents(now - policy.eventDays * DAY_MS, through, limit));
    }
    if (deleted.runs + deleted.events + deleted.definitions > 0) {
      this.deps.logger.info(
        { ...deleted, runDays: policy.runDays, eventDays: policy.eventDays },
        'retention deleted ended runs, old events and unused definition versions',
      );
    }
    return deleted;
  }

  /** Deletes batch after batch until one deletes nothing (an unrouted event may hold a batch short). */
  private async drain(kind: RetainedKind, deleteBatch: (limit: number) => Promise<number>): Promise<number> {
    let total = 0;
    while (total < MAX_PER_SWEEP && !this.stopped) {
      const deleted = await deleteBatch(Math.min(BATCH, MAX_PER_SWEEP - total));
      if (deleted === 0) break;
      total += deleted;
      this.deps.onDeleted(kind, deleted);
    }
    return total;
  }

  private arm(at: number): void {
    this.cancelTimer = this.deps.clock.schedule(at, () => {
      this.sweeping = this.sweep()
        .then(
          () => undefined,
          (error: unknown) =>
            this.deps.logger.warn({ err: toError(error) }, 'retention could not delete old runs and events; it tries again later'),
        )
        .finally(() => {
          this.sweeping = undefined;
          if (!this.stopped) this.arm(this.deps.clock.now() + SWEEP_INTERVAL_MS);
        });
    });
  }
}
