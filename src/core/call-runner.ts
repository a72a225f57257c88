import { AttemptAbandonedError, attemptCall, type CallAnswer, type CallContext, type CallOutcome } from './call-executor.js';
import type { TypedEmitter } from './emitter.js';
import { loggedError, toError } from './errors.js';
import type { InlineCalls } from './inline-calls.js';
import type { CallRecord, DeployedDefinition } from './model.js';
import type { GrantedPermissions } from './secret-access.js';
import type { Capability, ClaimedCall, Clock, Logger, SecretSource, Store } from './ports.js';

/** Calls claimed and executed at once by one wake-up. */
const CALL_BATCH = 64;

/** Calls a takeover's log line names; the others it counts. */
const TAKEOVERS_NAMED = 10;

/** What the call runner tells the engine's listeners (EngineEvents has them too). */
export interface CallEvents extends Record<string, unknown> {
  /**
   * One attempt of a call: `ok`, `failed` (for good), `retry` (another attempt is scheduled) or
   * `abandoned` (given up from outside: its run ended, its lease passed, the server stopped).
   */
  'call:attempted': { runId: string; step: number; capability: string; outcome: 'ok' | 'failed' | 'retry' | 'abandoned' };
  /** A write of this node refused because another node holds the run or call now (the lease had passed). */
  'write:fenced': { runId: string; step?: number; what: 'task' | 'call_result' | 'call_retry' };
  /**
   * Calls claimed because they were due: a retry's time came, or the lease of the node that held them passed.
   * `lagMs` is how late past its due time (`max(nextAt, lease end)`) the earliest of them was claimed.
   */
  'calls:claimed': { calls: number; lagMs: number };
}

export interface CallRunnerOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  events: Pick<TypedEmitter<CallEvents>, 'emit'>;
  nodeId: string;
  capabilities: ReadonlyMap<string, Capability>;
  secrets: SecretSource;
  random: () => number;
  callLeaseMs: number;
  /** A claimed call is made with the permissions of its run's version: what it declares, as the operator grants it. */
  definitionFor: (version: string) => Promise<DeployedDefinition | undefined>;
  permissionsOf: (definition: DeployedDefinition) => GrantedPermissions;
  /** Work the engine's stop waits for. */
  track: (work: Promise<unknown>) => void;
  /** Wakes the engine at `at`: the time of a call's next attempt. */
  wakeAt: (at: number) => void;
  /** The store has mail for these runs: an answer recorded for them. */
  mailFor: (runIds: readonly string[]) => void;
  isStopping: () => boolean;
}

/** A call being made here; `abandon` gives its attempt up (absent while its task is being committed). */
export interface InflightCall {
  runId: string;
  step: number;
  abandon?: AbortController;
}

/**
 * Makes the calls of runs on this node: those a task just committed (the fast path, answering to
 * the run's advance through InlineCalls) and those claimed from the store (due for a retry, or left
 * by a node that stopped), recording the outcomes of the latter in the store, fenced by the call's
 * lease.
 */
export class CallRunner {
  /** Calls being made here, by `runId:step`: the heartbeat renews their leases. */
  private readonly inflight = new Map<string, InflightCall>();
  /** Answers waiting to be stored again after a store failure (recordAnswerPatiently): woken when the engine stops. */
  private readonly pauses = new Set<() => void>();

  /** When this runner, and so this process's engine, came to be: leases this node granted before it were the previous process's. */
  private readonly createdAt: number;

  constructor(private readonly options: CallRunnerOptions) {
    this.createdAt = options.clock.now();
  }

  /** The calls being made here, whose leases the heartbeat renews. */
  inflightCalls(): InflightCall[] {
    return [...this.inflight.values()];
  }

  /**
   * Gives up these attempts: their capabilities' signals abort, and nothing they answer is recorded.
   * `reason` says why, in the log. With `handBack` (the server stops; the calls are still this
   * node's) each call is made due again at once, the attempt counted.
   */
  abandon(calls: Iterable<InflightCall>, reason: string, { handBack = false } = {}): void {
    for (const call of calls) call.abandon?.abort(new AttemptAbandonedError(reason, handBack));
  }

  /** Gives up the attempts of `runId` made here: the run ended, their answers are not wanted. */
  abandonRun(runId: string, reason: string): void {
    this.abandon(
      this.inflightCalls().filter((call) => call.runId === runId),
      reason,
    );
  }

  /**
   * Marks calls that a task is about to commit as made here, before the commit: a claim of this
   * node's due calls racing with it must not make them too. Returns what unmarks them.
   */
  reserve(calls: readonly CallRecord[]): () => void {
    const keys = calls.map((call) => {
      const key = keyOf(call);
      this.inflight.set(key, { runId: call.runId, step: call.step });
      return key;
    });
    return () => {
      for (const key of keys) this.inflight.delete(key);
    };
  }

  /**
   * Makes a call its run's last task committed, at once, for the advance that waits on `inline`.
   * A failed attempt to be retried is recorded at once; it has nothing for the workflow yet.
   */
  startInline(inline: InlineCalls, call: CallRecord, context: CallContext): void {
    const answer = this.execute(call, context).then(
      (outcome): CallAnswer | undefined => {
        if (outcome.kind === 'resolved')
          return { resolution: outcome.resolution, attempts: outcome.attempts, at: this.options.clock.now() };
        if (outcome.kind === 'retry') this.options.track(this.reschedule(call, context.workflow, outcome));
        else if (outcome.handBack) this.options.track(this.handBack(call, outcome));
        return undefined;
      },
      (error: unknown) => {
        // Not an outcome of the call (a listener threw): it is made again once its lease passes, as after a crash.
        this.options.logger.error(
          { err: toError(error), runId: call.runId, step: call.step },
          'making a call failed in the engine; it is made again once its lease passes',
        );
        return undefined;
      },
    );
    inline.add(answer);
  }

  /**
   * Records the answer of a call that no task of its run took in memory (a claimed call, or one
   * still running when its run's advance ended), fenced by the call's lease, and wakes the run.
   */
  async recordAnswer(runId: string, { resolution, attempts, at }: CallAnswer): Promise<void> {
    const { store, logger, events, nodeId } = this.options;
    const { step } = resolution;
    if (await store.resolveCall(runId, step, resolution, attempts, at, nodeId)) {
      this.options.mailFor([runId]);
      return;
    }
    // Refused while the run goes on: our lease passed and another node holds the call, or
    // resolved it. Otherwise the run ended (cancelled, say) without needing this result.
    const status = (await store.getRun(runId))?.status;
    if (status !== 'running') {
      logger.info({ runId, step, status }, 'call result not recorded: the run ended while the call was made');
      return;
    }
    events.emit('write:fenced', { runId, step, what: 'call_result' });
    logger.warn({ runId, step }, 'call result not recorded: its lease passed and another node took the call over');
  }

  /**
   * recordAnswer, tried again while the store fails (an outage), until the call's lease would have
   * passed — another node may make the call then, and a late answer would be refused anyway — or the
   * engine stops.
   */
  async recordAnswerPatiently(runId: string, answer: CallAnswer): Promise<void> {
    const { clock, logger } = this.options;
    const until = clock.now() + this.options.callLeaseMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.recordAnswer(runId, answer);
        return;
      } catch (error) {
        const next = clock.now() + Math.min(10_000, 500 * 2 ** (attempt - 1));
        if (next >= until || this.options.isStopping()) {
          logger.warn(
            { err: toError(error), runId, step: answer.resolution.step },
            `the answer of call #${answer.resolution.step} could not be stored; the call is made again once its lease passes`,
          );
          return;
        }
        await this.pause(next);
      }
    }
  }

  /** Waits until `at`, or until the engine stops (wakeForStop): a stop must not wait out a back-off of seconds. */
  private pause(at: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        this.pauses.delete(wake);
        cancel();
        resolve();
      };
      const cancel = this.options.clock.schedule(at, wake, { keepAlive: true });
      this.pauses.add(wake);
    });
  }

  /**
   * Whether an attempt may start under a lease that ends at `leaseUntil`: only with half of the lease left. The
   * lease counts from before the write that took it, which may have waited long (a row lock, a database coming
   * back after a restart): an attempt started near its end would overlap the one of the node that claims the call
   * when it passes. A call left so waits for its lease to pass and is claimed like any due call.
   */
  mayStart(leaseUntil: number): boolean {
    return this.options.clock.now() < leaseUntil - this.options.callLeaseMs / 2;
  }

  /** The engine is stopping: answers waiting to be stored again try once more now, and then give up. */
  wakeForStop(): void {
    for (const wake of [...this.pauses]) wake();
  }

  /** Calls due for a retry, or left behind by a node that stopped before finishing them. */
  async runDue(): Promise<void> {
    const now = this.options.clock.now();
    const leaseUntil = now + this.options.callLeaseMs;
    const calls = await this.options.store.claimDueCalls(this.options.nodeId, now, leaseUntil, CALL_BATCH);
    if (calls.length > 0) {
      const earliest = Math.min(...calls.map(dueAtOf));
      this.options.events.emit('calls:claimed', { calls: calls.length, lagMs: Math.max(0, now - earliest) });
      this.logTakeovers(calls, now);
    }
    await this.runClaimed(calls, leaseUntil);
  }

  /**
   * One line for each node whose calls this claim took over: which calls, and how long after that node's lease
   * passed. Without it a call whose node died shows nowhere: it is simply made again, up to a call lease later.
   */
  private logTakeovers(calls: readonly ClaimedCall[], now: number): void {
    const byOwner = new Map<string, ClaimedCall[]>();
    for (const call of calls) {
      const owner = call.previousLease?.owner;
      if (owner !== undefined) byOwner.set(owner, [...(byOwner.get(owner) ?? []), call]);
    }
    for (const [owner, taken] of byOwner) {
      const pastLeaseMs = Math.max(0, now - Math.min(...taken.map((call) => call.previousLease!.until)));
      const named = taken.slice(0, TAKEOVERS_NAMED).map((call) => `#${call.step} ${call.capability}.${call.method} of run ${call.runId}`);
      const more = taken.length > TAKEOVERS_NAMED ? ` and ${taken.length - TAKEOVERS_NAMED} more` : '';
      const whose = owner === this.options.nodeId ? `this node (${owner}), from before it stalled or restarted` : `node ${owner}`;
      this.options.logger.info(
        {
          from: owner,
          pastLeaseMs,
          calls: taken.map((call) => ({ runId: call.runId, step: call.step, call: `${call.capability}.${call.method}` })),
        },
        `took over ${taken.length} call(s) from ${whose}, whose lease passed ${formatSeconds(pastLeaseMs)} ago: ${named.join(', ')}${more}; each is made again, its lost attempt counted`,
      );
    }
  }

  /**
   * The calls this node still holds from before a restart under the same id, a batch at a time.
   * One lease end for all batches: a call reclaimed once then ends its lease there and is not
   * reclaimed again (see Store.reclaimOwnCalls). That end is reckoned from when this runner was
   * created, so that only leases granted before it are taken: a call this process leased itself
   * (a run a schedule started before the engine, one claimed meanwhile) is being made here already,
   * and may have answered without its answer being recorded yet.
   */
  async reclaimOwn(): Promise<void> {
    const { store, clock, nodeId } = this.options;
    const leaseUntil = this.createdAt + this.options.callLeaseMs;
    for (;;) {
      const calls = await store.reclaimOwnCalls(nodeId, clock.now(), leaseUntil, CALL_BATCH);
      if (calls.length > 0) {
        this.options.logger.info(
          { calls: calls.map((call) => ({ runId: call.runId, step: call.step, call: `${call.capability}.${call.method}` })) },
          `took back ${calls.length} call(s) this node (${nodeId}) held before it restarted; each is made again, its lost attempt counted`,
        );
      }
      await this.runClaimed(calls, leaseUntil);
      if (calls.length < CALL_BATCH || this.options.isStopping()) return;
    }
  }

  /** Executes claimed calls (those not already running here) and records their outcomes, fenced. */
  private async runClaimed(calls: CallRecord[], leaseUntil: number): Promise<void> {
    const { store, clock } = this.options;
    const now = clock.now();
    await Promise.all(
      calls
        .filter((call) => !this.inflight.has(keyOf(call)))
        .map(async (call) => {
          const run = await store.getRun(call.runId);
          const definition = run && (await this.options.definitionFor(run.version));
          if (!run || !definition) return;
          // A node that stalled (GC pause, SIGSTOP, a slow store) since the claim may lose the call to
          // another node any moment: it must not start an attempt that would overlap theirs.
          if (!this.mayStart(leaseUntil)) {
            this.options.wakeAt(leaseUntil);
            return;
          }
          const outcome = await this.execute(call, { workflow: run.workflow, permissions: this.options.permissionsOf(definition), now });
          if (outcome.kind === 'abandoned') return outcome.handBack ? this.handBack(call, outcome) : undefined;
          if (outcome.kind === 'retry') return this.reschedule(call, run.workflow, outcome);
          return this.recordAnswer(call.runId, { resolution: outcome.resolution, attempts: outcome.attempts, at: clock.now() });
        }),
    );
  }

  private async execute(call: CallRecord, context: CallContext): Promise<CallOutcome> {
    const { clock, logger, events, capabilities, secrets, random } = this.options;
    const key = keyOf(call);
    const abandon = new AbortController();
    this.inflight.set(key, { runId: call.runId, step: call.step, abandon });
    try {
      const outcome = await attemptCall(call, { ...context, now: clock.now() }, { capabilities, secrets, random, clock }, abandon.signal);
      const error = outcome.kind === 'resolved' && !outcome.resolution.ok ? outcome.resolution.error : undefined;
      const result = outcome.kind === 'resolved' ? (error ? 'failed' : 'ok') : outcome.kind;
      events.emit('call:attempted', { runId: call.runId, step: call.step, capability: call.capability, outcome: result });
      if (outcome.kind === 'abandoned') {
        logger.info(
          {
            runId: call.runId,
            workflow: context.workflow,
            step: call.step,
            call: `${call.capability}.${call.method}`,
            reason: outcome.reason,
          },
          `call #${call.step} ${call.capability}.${call.method} of run ${call.runId} was given up: ${outcome.reason}`,
        );
      }
      if (error) {
        // The workflow may catch it; the log still says which call failed for good, and why.
        logger.warn(
          {
            runId: call.runId,
            workflow: context.workflow,
            step: call.step,
            call: `${call.capability}.${call.method}`,
            err: loggedError(error),
          },
          `call #${call.step} ${call.capability}.${call.method} of run ${call.runId} failed: ${error.name}: ${error.message}`,
        );
      }
      return outcome;
    } finally {
      this.inflight.delete(key);
    }
  }

  /**
   * An attempt given up while the server stops: it counts, as it may have had effects, and the call is
   * due again at once, for another node or the next start. Fenced: should the lease have passed
   * meanwhile, the node that holds the call now decides.
   */
  private async handBack(call: CallRecord, outcome: Extract<CallOutcome, { kind: 'abandoned' }>): Promise<void> {
    const { store, clock, nodeId } = this.options;
    const error = { name: 'AttemptAbandonedError', message: `attempt ${outcome.attempts} was given up: ${outcome.reason}` };
    await store.rescheduleCall(call.runId, call.step, outcome.attempts, clock.now(), error, nodeId);
  }

  /**
   * Records a failed attempt, fenced: after our lease passed, the node that took the call over decides. `workflow`
   * names the run's in the log line, so that an operator can find every failing call of one workflow.
   */
  private async reschedule(call: CallRecord, workflow: string, outcome: Extract<CallOutcome, { kind: 'retry' }>): Promise<void> {
    const { store, logger, events, nodeId } = this.options;
    const { runId, step } = call;
    if (await store.rescheduleCall(runId, step, outcome.attempts, outcome.nextAt, outcome.error, nodeId)) {
      const name = `${call.capability}.${call.method}`;
      const nextAt = new Date(outcome.nextAt).toISOString();
      // A call that keeps failing is otherwise silent until it gives up, which may be an hour later.
      logger.warn(
        { runId, workflow, step, call: name, attempt: outcome.attempts, nextAt, err: loggedError(outcome.error) },
        `call #${step} ${name} of run ${runId} failed (attempt ${outcome.attempts}): ${outcome.error.name}: ${outcome.error.message}; next attempt at ${nextAt}`,
      );
      this.options.wakeAt(outcome.nextAt);
    } else {
      events.emit('write:fenced', { runId, step, what: 'call_retry' });
      logger.warn({ runId, step }, 'retry of a call not recorded: its lease passed and another node holds it (or it was resolved)');
    }
  }
}

/** When a claimed call was due: its next attempt, or the end of the lease it took over if later. */
function dueAtOf(call: ClaimedCall): number {
  return Math.max(call.nextAt, call.previousLease?.until ?? call.nextAt);
}

/** `1.2 s`, `2 min 5 s`: a log line's duration. */
function formatSeconds(ms: number): string {
  const seconds = Math.round(ms / 100) / 10;
  if (seconds < 60) return `${seconds} s`;
  const whole = Math.round(ms / 1000);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

function keyOf(call: { runId: string; step: number }): string {
  return `${call.runId}:${call.step}`;
}
