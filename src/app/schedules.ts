import { Cron } from 'croner';
import type { Engine } from '../core/engine.js';
import { toError } from '../core/errors.js';
import type { DeployedDefinition, Json } from '../core/model.js';
import type { Clock, Logger, Store } from '../core/ports.js';

interface Schedule {
  id: string;
  definition: DeployedDefinition;
  cron: Cron;
  input: Json | undefined;
  cancel?: () => void;
}

/**
 * Cron triggers. Each tick starts one run whose id is derived from the tick, so several servers
 * (or a restart in the middle of a tick) still start it once. After downtime a schedule that
 * missed ticks fires once, for the latest missed tick, not once per tick.
 */
export class Scheduler {
  private schedules = new Map<string, Schedule>();
  private stopped = true;

  constructor(
    private readonly deps: { engine: Engine; store: Store; clock: Clock; logger: Logger },
  ) {}

  /** (Re)reads the cron triggers of the active definitions. */
  async sync(): Promise<void> {
    this.stopped = false;
    const wanted = new Map<string, Omit<Schedule, 'cron'> & { pattern: string; timezone?: string }>();
    for (const definition of this.deps.engine.definitions()) {
      definition.manifest.triggers.forEach((trigger, index) => {
        if (!('cron' in trigger)) return;
        const id = `${definition.name}#${index}:${trigger.cron}@${trigger.timezone ?? 'UTC'}`;
        wanted.set(id, { id, definition, input: trigger.input, pattern: trigger.cron, ...(trigger.timezone ? { timezone: trigger.timezone } : {}) });
      });
    }
    for (const [id, schedule] of this.schedules) {
      if (!wanted.has(id)) {
        schedule.cancel?.();
        this.schedules.delete(id);
      }
    }
    for (const [id, spec] of wanted) {
      const existing = this.schedules.get(id);
      if (existing) {
        existing.definition = spec.definition;
        continue;
      }
      const cron = new Cron(spec.pattern, { paused: true, timezone: spec.timezone ?? 'UTC' });
      const schedule: Schedule = { id, definition: spec.definition, cron, input: spec.input };
      this.schedules.set(id, schedule);
      await this.catchUp(schedule);
      this.armNext(schedule);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const schedule of this.schedules.values()) schedule.cancel?.();
    this.schedules.clear();
  }

  private async catchUp(schedule: Schedule): Promise<void> {
    const now = this.deps.clock.now();
    const last = await this.deps.store.getScheduleTick(schedule.id);
    if (last === undefined) {
      // A new schedule starts counting now: it does not fire for ticks before it existed.
      await this.deps.store.advanceScheduleTick(schedule.id, now);
      return;
    }
    const missed = schedule.cron.previousRuns(1, new Date(now + 1))[0]?.getTime();
    if (missed !== undefined && missed > last) await this.fire(schedule, missed);
  }

  private armNext(schedule: Schedule): void {
    if (this.stopped) return;
    const next = schedule.cron.nextRun(new Date(this.deps.clock.now()))?.getTime();
    if (next === undefined) return;
    schedule.cancel = this.deps.clock.schedule(next, () => {
      this.fire(schedule, next)
        .catch((error: unknown) =>
          this.deps.logger.error({ err: toError(error), schedule: schedule.id }, 'starting a scheduled run failed; the next tick will try again'),
        )
        .finally(() => this.armNext(schedule));
    });
  }

  /**
   * The run first, then the mark: the run's id is derived from the tick, so every node that fires
   * the same tick creates the same run once, and a node that dies between the two leaves a mark
   * behind, not a lost tick (the catch-up after a restart fires it again, which changes nothing).
   */
  private async fire(schedule: Schedule, tick: number): Promise<void> {
    const last = await this.deps.store.getScheduleTick(schedule.id);
    if (last !== undefined && tick <= last) return;
    const at = new Date(tick).toISOString();
    const { definition } = schedule;
    const { created } = await this.deps.engine.submitRun({
      id: `${definition.name}@${at}`,
      workflow: definition.name,
      version: definition.version,
      input: schedule.input ?? { scheduledAt: at },
      createdAt: this.deps.clock.now(),
    });
    await this.deps.store.advanceScheduleTick(schedule.id, tick);
    if (created) this.deps.logger.info({ workflow: definition.name, tick: at }, 'scheduled run started');
  }
}
