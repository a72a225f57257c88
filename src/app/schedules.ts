import { Cron } from 'croner';
import type { Engine } from '../core/engine.js';
import { toError } from '../core/errors.js';
import { withConcurrency } from '../core/concurrency.js';
import type { DeployedDefinition, Json, NewRun, RunRecord, WorkflowManifest } from '../core/model.js';
import type { Clock, Logger, Store } from '../core/ports.js';
import { scheduledRunId, scheduledRunInput } from '../core/run-id.js';

interface Schedule {
  id: string;
  /** Which of the workflow's cron triggers it is, from 1: every one after the first has it in its runs' ids. */
  ordinal: number;
  definition: DeployedDefinition;
  cron: Cron;
  input: Json | undefined;
  /** When this node first saw the schedule: a new schedule counts its ticks from then, even when its first mark is written later. */
  since: number;
  /** Attempts in a row that failed (the back-off grows with them), and the tick the first of them was for. */
  failures: number;
  failedTick?: number | undefined;
  cancel?: () => void;
}

/**
 * The next `count` times a cron trigger fires after `after`, in its time zone (UTC when it names none); none for a
 * pattern the cron library cannot read (deploys refuse such patterns; an old version may still have one).
 */
export function nextFireTimes(trigger: { cron: string; timezone?: string | undefined }, after: Date, count: number): Date[] {
  try {
    return new Cron(trigger.cron, { paused: true, timezone: trigger.timezone ?? 'UTC' }).nextRuns(count, after);
  } catch {
    return [];
  }
}

/** The first retry of a tick that could not be started comes this soon; each failure doubles it up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 1000;
export const RETRY_MAX_MS = 60_000;

const iso = (at: number) => new Date(at).toISOString();

/**
 * Whether `run`, found under the id of `workflow`'s run for `tick`, is that run, which a node started (this one
 * before a restart, or another). A schedule creates it at or after its tick, with no parent and no event: a run
 * created before the tick, of another workflow, or started by a parent or an event took the id from elsewhere.
 */
function startedBySchedule(run: RunRecord, workflow: string, tick: number): boolean {
  return run.workflow === workflow && run.parentId === undefined && run.triggerEventSeq === undefined && run.createdAt >= tick;
}

type CronTrigger = Extract<WorkflowManifest['triggers'][number], { cron: string }>;

/**
 * The cron triggers of a definition, each with the id of its schedule (what its tick mark is stored under). The id
 * counts cron triggers only, as run ids do: an event trigger added before one, or taken away, leaves it the schedule it
 * was, whose ticks missed while the server was down still fire.
 */
function schedulesOf(definition: DeployedDefinition): Array<{ id: string; trigger: CronTrigger; ordinal: number }> {
  const found: Array<{ id: string; trigger: CronTrigger; ordinal: number }> = [];
  for (const trigger of definition.manifest.triggers) {
    if (!('cron' in trigger)) continue;
    found.push({
      id: `${definition.name}#${found.length}:${trigger.cron}@${trigger.timezone ?? 'UTC'}`,
      trigger,
      ordinal: found.length + 1,
    });
  }
  return found;
}

/**
 * Cron triggers. Each tick starts one run whose id is derived from the tick, so several servers
 * (or a restart in the middle of a tick) still start it once. After downtime a schedule that
 * missed ticks fires once, for the latest missed tick, not once per tick.
 *
 * A tick whose start fails (the database is away) is tried again with back-off until it starts,
 * or until the schedule's next tick comes first and, by the same rule, starts in its place. Every
 * node does the same, and the derived run id keeps it to one run.
 */
export class Scheduler {
  private schedules = new Map<string, Schedule>();
  private stopped = true;

  constructor(private readonly deps: { engine: Engine; store: Store; clock: Clock; logger: Logger }) {}

  /** (Re)reads the cron triggers of the active definitions. */
  async sync(): Promise<void> {
    this.stopped = false;
    const wanted = new Map<string, Omit<Schedule, 'cron' | 'since' | 'failures'> & { pattern: string; timezone?: string }>();
    for (const definition of this.deps.engine.definitions()) {
      for (const { id, trigger, ordinal } of schedulesOf(definition)) {
        wanted.set(id, {
          id,
          ordinal,
          definition,
          input: trigger.input,
          pattern: trigger.cron,
          ...(trigger.timezone ? { timezone: trigger.timezone } : {}),
        });
      }
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
        // A new version may give the same pattern another input.
        existing.definition = spec.definition;
        existing.input = spec.input;
        continue;
      }
      let cron: Cron;
      try {
        cron = new Cron(spec.pattern, { paused: true, timezone: spec.timezone ?? 'UTC' });
      } catch (error) {
        // Deploys refuse such patterns (manifest.ts); a version deployed before they did must not stop the server
        // from starting, nor the other schedules from being armed.
        this.deps.logger.error(
          { err: toError(error), workflow: spec.definition.name, version: spec.definition.version, cron: spec.pattern },
          `the cron trigger "${spec.pattern}" of workflow '${spec.definition.name}' cannot be scheduled; fix it in the workflow's file and deploy it again`,
        );
        continue;
      }
      const schedule: Schedule = {
        id,
        ordinal: spec.ordinal,
        definition: spec.definition,
        cron,
        input: spec.input,
        since: this.deps.clock.now(),
        failures: 0,
      };
      this.schedules.set(id, schedule);
      // Awaited, so that the catch-up after downtime has happened when sync() returns; a failure
      // goes into the retries instead of leaving the schedule registered but never armed.
      await this.attempt(schedule);
    }
  }

  /**
   * `next` was deployed in place of `previous` (none: a new workflow, or one retired until now). Its schedules that
   * `previous` did not have count their ticks from now: a workflow restored after a week, or a pattern changed back,
   * does not start a run at once for a tick that passed while the schedule was not deployed.
   */
  async deployed(previous: DeployedDefinition | undefined, next: DeployedDefinition): Promise<void> {
    const kept = new Set(previous ? schedulesOf(previous).map(({ id }) => id) : []);
    for (const { id } of schedulesOf(next)) {
      if (!kept.has(id)) await this.deps.store.advanceScheduleTick(id, this.deps.clock.now());
    }
  }

  stop(): void {
    this.stopped = true;
    for (const schedule of this.schedules.values()) schedule.cancel?.();
    this.schedules.clear();
  }

  /** False once the schedule was stopped or replaced: work still in flight for it arms nothing more. */
  private isLive(schedule: Schedule): boolean {
    return !this.stopped && this.schedules.get(schedule.id) === schedule;
  }

  /** The latest tick at or before `at`, or `armed` when the timer ran a little before its tick. */
  private latestTick(schedule: Schedule, at: number, armed?: number): number | undefined {
    const latest = schedule.cron.previousRuns(1, new Date(at + 1))[0]?.getTime();
    if (armed === undefined) return latest;
    return latest === undefined ? armed : Math.max(latest, armed);
  }

  /** Starts the tick that is due (`armed`, or whichever came last), then arms what comes next. */
  private async attempt(schedule: Schedule, armed?: number): Promise<void> {
    const target = this.latestTick(schedule, this.deps.clock.now(), armed);
    let outcome: { due: number | undefined; mark: number };
    try {
      outcome = await this.catchUp(schedule, armed);
    } catch (error) {
      this.retryLater(schedule, target, toError(error));
      return;
    }
    this.recovered(schedule, outcome.due, outcome.mark);
    this.armNext(schedule, outcome.due);
  }

  /**
   * Fires the latest tick due that the mark does not cover yet: the one armed, the one a failed
   * start left behind, or, after downtime, the latest of those missed. Returns that tick, and the
   * mark as it was before.
   */
  private async catchUp(schedule: Schedule, armed?: number): Promise<{ due: number | undefined; mark: number }> {
    const now = this.deps.clock.now();
    let last = await this.deps.store.getScheduleTick(schedule.id);
    if (last === undefined) {
      // A new schedule starts counting when it was first seen: it does not fire for ticks before it existed.
      await this.deps.store.advanceScheduleTick(schedule.id, schedule.since);
      last = schedule.since;
    }
    const due = this.latestTick(schedule, now, armed);
    if (due !== undefined && due > last) await this.fire(schedule, due);
    return { due, mark: last };
  }

  /** Arms the next tick; at once when one passed while this node was busy starting the previous. */
  private armNext(schedule: Schedule, covered: number | undefined): void {
    if (!this.isLive(schedule)) return;
    const now = this.deps.clock.now();
    const missed = this.latestTick(schedule, now);
    if (missed !== undefined && (covered === undefined || missed > covered)) {
      schedule.cancel = this.deps.clock.schedule(now, () => void this.attempt(schedule));
      return;
    }
    const next = schedule.cron.nextRun(new Date(now))?.getTime();
    if (next === undefined) return;
    schedule.cancel = this.deps.clock.schedule(next, () => void this.attempt(schedule, next));
  }

  private retryLater(schedule: Schedule, tick: number | undefined, error: Error): void {
    if (!this.isLive(schedule)) return;
    schedule.failures++;
    if (tick !== undefined) schedule.failedTick ??= tick;
    const now = this.deps.clock.now();
    const backoff = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(schedule.failures - 1, 16));
    const next = schedule.cron.nextRun(new Date(now))?.getTime();
    const supersedes = next !== undefined && next <= now + backoff;
    const at = supersedes ? next : now + backoff;
    const fields = {
      err: error,
      schedule: schedule.id,
      workflow: schedule.definition.name,
      ...(tick === undefined ? {} : { tick: iso(tick) }),
      attempt: schedule.failures,
      retryAt: iso(at),
    };
    const what = `starting the scheduled run of ${schedule.definition.name}${tick === undefined ? '' : ` for ${iso(tick)}`} failed`;
    if (supersedes) {
      this.deps.logger.error(
        fields,
        `${what} (attempt ${schedule.failures}); the next tick, ${iso(at)}, comes before another try and starts in its place (one run for the ticks missed)`,
      );
    } else {
      this.deps.logger.warn(fields, `${what} (attempt ${schedule.failures}); trying again at ${iso(at)}`);
    }
    schedule.cancel = this.deps.clock.schedule(at, () => void this.attempt(schedule, supersedes ? at : undefined));
  }

  /** After failed attempts: says which tick the schedule started with, so no tick goes missing silently. */
  private recovered(schedule: Schedule, covered: number | undefined, mark: number): void {
    const { failures, failedTick } = schedule;
    schedule.failures = 0;
    schedule.failedTick = undefined;
    if (failures === 0) return;
    const fields = { schedule: schedule.id, workflow: schedule.definition.name, failedAttempts: failures };
    const attempts = `${failures} failed attempt${failures === 1 ? '' : 's'}`;
    if (failedTick === undefined || covered === undefined || covered === failedTick) {
      this.deps.logger.info(
        { ...fields, ...(covered === undefined ? {} : { tick: iso(covered) }) },
        `the scheduled run of ${schedule.definition.name}${covered === undefined ? '' : ` for ${iso(covered)}`} is started, after ${attempts}`,
      );
    } else if (mark >= failedTick) {
      this.deps.logger.info(
        { ...fields, tick: iso(failedTick) },
        `another node has handled the tick ${iso(failedTick)} of ${schedule.definition.name} meanwhile (after ${attempts} here)`,
      );
    } else {
      this.deps.logger.warn(
        { ...fields, tick: iso(covered), missedTick: iso(failedTick) },
        `no run of ${schedule.definition.name} was started for ${iso(failedTick)}: starting it failed until a later tick was due; the run for ${iso(covered)} is started in its place`,
      );
    }
  }

  /**
   * The run first, then the mark: the run's id is derived from the tick, so every node that fires
   * the same tick creates the same run once, and a node that dies between the two leaves a mark
   * behind, not a lost tick (the catch-up after a restart fires it again, which changes nothing).
   */
  private async fire(schedule: Schedule, tick: number): Promise<void> {
    const at = iso(tick);
    const { definition } = schedule;
    const newRun: NewRun = {
      id: scheduledRunId(definition.name, schedule.ordinal, tick),
      workflow: definition.name,
      version: definition.version,
      input: scheduledRunInput(schedule.input, tick),
      createdAt: this.deps.clock.now(),
    };
    const { created, run } = await this.deps.engine.submitRun(withConcurrency(newRun, definition.manifest.concurrency));
    await this.deps.store.advanceScheduleTick(schedule.id, tick);
    if (created) this.deps.logger.info({ workflow: definition.name, tick: at }, 'scheduled run started');
    else if (!startedBySchedule(run, definition.name, tick)) {
      // Nothing else would tell: the tick counts as handled, and the run under its id is someone else's.
      this.deps.logger.warn(
        {
          workflow: definition.name,
          tick: at,
          runId: run.id,
          runWorkflow: run.workflow,
          ...(run.parentId === undefined ? {} : { parentId: run.parentId }),
        },
        `no run of ${definition.name} was started for ${at}: its id ${run.id} is taken by a run the schedule did not start ` +
          `(of workflow ${run.workflow}${run.parentId === undefined ? '' : `, a child of ${run.parentId}`}, created ${iso(run.createdAt)}); ` +
          "ids ending in @ and an ISO time are the schedules' own",
      );
    }
  }
}
