import type { CallContext } from './call-executor.js';
import { CallRunner, type CallEvents } from './call-runner.js';
import { groupFullError } from './concurrency.js';
import { TypedEmitter } from './emitter.js';
import {
  ConflictError,
  loggedError,
  NondeterminismError,
  NotFoundError,
  SandboxLimitError,
  toError,
  toErrorInfo,
  ValidationError,
  withoutStack,
} from './errors.js';
import { asRecorded } from './history.js';
import { InlineCalls } from './inline-calls.js';
import { InstanceCache, type CachedRun } from './instance-cache.js';
import { storableJsonProblem } from './storable-json.js';
import { canonicalJson } from './json.js';
import { mirrorTaskLogs } from './log-mirror.js';
import type {
  ActiveDefinition,
  CloudEvent,
  DeployedDefinition,
  HistoryEvent,
  Json,
  NewRun,
  PendingResolution,
  Resolution,
  RunRecord,
  RunStatus,
  WaitRecord,
} from './model.js';
import { isRetriable, SIGNAL_EVENT_PREFIX, TERMINAL_STATUSES } from './model.js';
import type {
  Capability,
  Clock,
  EventRouting,
  Logger,
  RouteResult,
  RunLease,
  RunRetry,
  Sandbox,
  SecretSource,
  Store,
  TaskCommit,
  TaskCommitRefusal,
  TaskCommitResult,
  WorkflowInstance,
} from './ports.js';
import { replayHistory, type ReplayOutcome } from './replay.js';
import { planRetry, planStuckRetry, retriedRecord, type RetryInput } from './run-retry.js';
import {
  leftWorkToClaim,
  lookBack,
  planRouting,
  type ChainLimitSkip,
  type OwnAccount,
  type RoutingOptions,
  type TriggerFailure,
} from './router.js';
import { grantedPermissions, type GrantedPermissions, type SecretAccess } from './secret-access.js';
import { redactJson, revealResolution, secretValuesOf } from './secrets.js';
import { SlotReturns } from './slot-returns.js';
import { buildStuckCommit, buildTaskCommit, buildTerminalCommit, committedRecord, newRunRecord, type DeliveredResolution } from './task.js';

export interface EngineOptions {
  store: Store;
  sandbox: Sandbox;
  clock: Clock;
  logger: Logger;
  capabilities: ReadonlyMap<string, Capability>;
  secrets: SecretSource;
  /** Which workflows may read which secrets, beyond what their own `permissions.secrets` asks (secret-access.ts). */
  secretAccess?: SecretAccess;
  /**
   * Checks a new run's input against its definition's JSON Schema, throwing what is wrong: applied to child runs and
   * continue-as-new successors, which no API call checks (validator objects, zod…, check themselves in the sandbox).
   */
  checkInput?: (definition: DeployedDefinition, input: Json) => void;
  /** This process's identity for leases. A process restarting under the same id recovers its leases at once. */
  nodeId: string;
  /** Randomness for retry jitter. @default Math.random */
  random?: () => number;
  sandboxLimits?: { memoryLimitBytes?: number; cpuMsPerActivation?: number };
  /** Live sandboxes kept. @default 500 */
  cacheSize?: number;
  /** Bytes the live sandboxes kept may hold together (docs/engine.md, "Sandboxes are a cache"). @default 1 GiB */
  cacheMemoryBytes?: number;
  /** Runs advanced at once. @default 64 */
  concurrency?: number;
  /**
   * How long a run waiting only for its own calls keeps its slot while the node has none free and other runs are
   * ready; then it gives the slot back and the answers reach it through the store (slot-returns.ts). @default 1000
   */
  slotReturnAfterMs?: number;
  /** How far back a new wait looks for an event that arrived just before it. @default 300000 */
  lookbackMs?: number;
  /** @default 30000 */
  runLeaseMs?: number;
  /** How long a node may take to execute a call before another may try. @default 120000 */
  callLeaseMs?: number;
  /**
   * On stop, how long calls still running may take to finish. Those that do not are given up
   * (their signals abort) and handed back: another node, or the next start, makes them again.
   * @default 10000
   */
  stopGraceMs?: number;
  /** Safety-net poll for work written by other processes; null disables it (virtual-time tests). @default 1000 */
  pollIntervalMs?: number | null;
  /**
   * How often the leases of the runs and calls in progress are renewed, so that a long call is not
   * taken over by another node; null disables it (virtual-time tests).
   * @default a third of the shorter lease; null when `pollIntervalMs` is null
   */
  heartbeatMs?: number | null;
  /** AutoFlow's own GitLab account: triggers start no run for the events it caused (router.ts, OwnAccount). @default none */
  ownAccount?: OwnAccount;
  /** Hears of each trigger an event at the end of too long a chain of emits did not start (router.ts, RoutingOptions). */
  onChainLimit?: RoutingOptions['onChainLimit'];
}

/** A run startHere is creating: what its first commit inserts, and how startHere learns the outcome. */
interface RunCreation {
  create: { run: NewRun; lease: RunLease };
  settle: (created: RunRecord | undefined) => void;
}

export interface EngineEvents extends Record<string, unknown> {
  /** A task of the run committed; `run` is its record as the store now holds it. */
  'run:updated': { run: RunRecord };
  'run:finished': { runId: string; workflow: string; status: RunStatus };
  /** A failed run was retried (Engine.retry); `run` is its record now, `latest` whether it moved to the active version. */
  'run:retried': { run: RunRecord; latest: boolean };
  'event:routed': { seq: number; createdRunIds: string[]; deliveredRunIds: string[]; markedRouted: boolean };
  /** One attempt of a call: `ok`, `failed` (for good) or `retry` (another attempt is scheduled). */
  'call:attempted': CallEvents['call:attempted'];
  /** Due timers fired; `lagMs` is how late the wake-up for the earliest of them was. */
  'timers:fired': { runs: number; lagMs: number };
  /** Calls claimed when due (a retry's time came, a dead node's lease passed); `lagMs`: how late the earliest was. */
  'calls:claimed': CallEvents['calls:claimed'];
  /** A write of this node refused because another node holds the run or call now (the lease had passed). */
  'write:fenced': CallEvents['write:fenced'];
}

const terminal = new Set<RunStatus>(TERMINAL_STATUSES);

/** nextDelivery's answer when the run gave its slot back while its calls run (SlotReturns). */
const SLOT_GIVEN_BACK = Symbol('slot given back');
/** Waits read per page by lookBackUnfinished. */
const UNFINISHED_LOOKBACK_PAGE = 200;
/**
 * How old a wait must be before the heartbeat does its lookback again when none is recorded: a lookback takes
 * milliseconds, and one still under way on a busy node is left to finish.
 */
const UNFINISHED_LOOKBACK_AGE_MS = 30_000;

/** Whether `wait` waits for a signal sent to `run` itself (`signal(name)`, or `waitFor` on the type with that subject). */
function isOwnSignalWait(run: RunRecord, wait: WaitRecord): boolean {
  const { eventType, paths, key } = wait;
  return eventType.startsWith(SIGNAL_EVENT_PREFIX) && paths.length === 1 && paths[0] === 'subject' && key === canonicalJson([run.id]);
}

/** The runs a task commit gave mail to: the parent it told of its end, the children it cancelled. */
function runsMailedBy(commit: TaskCommit): string[] {
  const runIds = (commit.cancelChildren ?? []).map((child) => child.runId);
  if (commit.notifyParent) runIds.push(commit.notifyParent.runId);
  return runIds;
}

/**
 * The engine: advances runs one workflow task at a time (DESIGN.md §2), executes their calls,
 * fires their timers and routes events to triggers and waits. All state is in the Store; the
 * engine keeps only caches, so any number of them can be stopped and started at any moment.
 */
export class Engine {
  readonly events = new TypedEmitter<EngineEvents>();
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly cache: InstanceCache;
  private readonly calls: CallRunner;
  private readonly random: () => number;
  private readonly concurrency: number;
  private readonly lookbackMs: number;
  private readonly runLeaseMs: number;
  private readonly callLeaseMs: number;
  private readonly definitionsByVersion = new Map<string, DeployedDefinition>();
  private activeDefinitions: ActiveDefinition[] = [];
  private readonly activeRuns = new Map<string, Promise<void>>();
  /** The workflow of each run being advanced here, once read: the ready queue serves the others first. */
  private readonly advancingWorkflows = new Map<string, string>();
  /** The calls each run being advanced here makes itself; mail for the run is noted there too. */
  private readonly inlineCalls = new Map<string, InlineCalls>();
  private readonly slotReturns: SlotReturns;
  /** Slots held for runs being created here, which this node advances as soon as they exist. */
  private reservedSlots = 0;
  /** submitRun calls in progress. */
  private submitting = 0;
  /** Runs this node claimed, with their lease end: handed back on stop. */
  private readonly leasedRuns = new Map<string, number>();
  /** Runs started here that do not exist yet: the commit of their first task creates them (see startHere). */
  private readonly creating = new Map<string, RunCreation>();
  private heartbeat: (() => void) | undefined;
  /** The lookback for waits that missed theirs, while one is under way (sweepUnfinishedLookbacks). */
  private unfinishedLookbacks: Promise<void> | undefined;
  /** Runs whose advance failed unexpectedly: not retried before `until`, so a broken run cannot spin. */
  private readonly failing = new Map<string, { attempts: number; until: number }>();
  private readonly background = new Set<Promise<unknown>>();
  /** Hashes events' keys for the waits on a secret (correlation.ts). */
  private readonly fingerprint = (text: string): string => this.options.secrets.fingerprint(text);
  private pumping = false;
  private pumpRequested = false;
  private routing = false;
  private routeRequested = false;
  private wake: { at: number; cancel: () => void } | undefined;
  private poll: (() => void) | undefined;
  private stopping = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: EngineOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = options.logger;
    this.cache = new InstanceCache(options.cacheSize ?? 500, options.cacheMemoryBytes ?? 1024 * 1024 * 1024, (runId) =>
      this.activeRuns.has(runId),
    );
    this.random = options.random ?? Math.random;
    this.concurrency = options.concurrency ?? 64;
    this.lookbackMs = options.lookbackMs ?? 300_000;
    this.runLeaseMs = options.runLeaseMs ?? 30_000;
    this.callLeaseMs = options.callLeaseMs ?? 120_000;
    this.calls = new CallRunner({
      store: this.store,
      clock: this.clock,
      logger: this.logger,
      events: this.events,
      nodeId: options.nodeId,
      capabilities: options.capabilities,
      secrets: options.secrets,
      random: this.random,
      callLeaseMs: this.callLeaseMs,
      definitionFor: (version) => this.definitionFor(version),
      permissionsOf: (definition) => this.permissionsOf(definition),
      track: (work) => this.track(work),
      wakeAt: (at) => this.considerWake(at),
      mailFor: (runIds) => this.mailFor(runIds),
      isStopping: () => this.stopping,
    });
    this.slotReturns = new SlotReturns({
      clock: this.clock,
      logger: this.logger,
      afterMs: options.slotReturnAfterMs ?? 1000,
      isFull: () => this.freeSlots() <= 0,
      readyRuns: async () => (await this.store.queueStats()).readyRuns,
      pump: () => this.pump(),
    });
  }

  // lifecycle -----------------------------------------------------------------------------

  /** Loads the deployed definitions and picks up whatever work the store holds. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.refreshDefinitions();
    this.routeSoon();
    this.pump();
    // After a restart under the same node id, the calls this node held when it stopped are
    // reclaimed at once, instead of when their leases would have passed.
    this.track(this.calls.reclaimOwn());
    this.track(this.onDue());
    this.sweepUnfinishedLookbacks(this.clock.now());
    this.schedulePoll();
    this.scheduleHeartbeat();
  }

  /** Stops taking work, lets what is in flight finish, and frees the sandboxes. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.calls.wakeForStop();
    this.wake?.cancel();
    this.wake = undefined;
    this.poll?.();
    this.poll = undefined;
    this.slotReturns.stop();
    const graceMs = this.options.stopGraceMs ?? 10_000;
    const calls = this.calls.inflightCalls().length;
    this.logger.info(
      { runs: this.activeRuns.size, calls, graceMs },
      `stopping: waiting for ${this.activeRuns.size} run(s) being advanced and ${calls} call(s) in flight; calls still running after ${graceMs} ms (shutdownGraceMs) are given up and handed back`,
    );
    const giveUp = this.clock.schedule(
      this.clock.now() + graceMs,
      () => {
        const running = this.calls.inflightCalls();
        if (running.length > 0) {
          this.logger.info(
            { calls: running.length, graceMs },
            `stopping: giving up ${running.length} call(s) still running after ${graceMs} ms`,
          );
        }
        this.calls.abandon(running, `the server is stopping and the call ran past the ${graceMs} ms grace`, { handBack: true });
      },
      { keepAlive: true },
    );
    await this.whenIdle();
    giveUp();
    this.heartbeat?.();
    this.heartbeat = undefined;
    this.cache.clear();
    await this.handBackLeases();
  }

  /** Graceful shutdown: the runs and calls this node still holds become claimable by others at once. */
  private async handBackLeases(): Promise<void> {
    const now = this.clock.now();
    const held = [...this.leasedRuns].filter(([, until]) => until > now).map(([id]) => id);
    this.leasedRuns.clear();
    try {
      await this.store.releaseLeases(this.options.nodeId, held);
      this.logger.info(
        { runs: held.length },
        `stopping: handed back the leases of ${held.length} run(s) and of this node's calls; other nodes may take them at once`,
      );
    } catch (error) {
      // Not fatal: the leases then simply expire and other nodes recover the work after that.
      this.logger.warn(
        { err: toError(error), runs: held.length },
        'handing leases back failed; other nodes take the work over once they expire',
      );
    }
  }

  /** Resolves once no run is being advanced and no call, routing or timer work is in flight. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  isIdle(): boolean {
    return (
      this.activeRuns.size === 0 &&
      this.reservedSlots === 0 &&
      this.submitting === 0 &&
      this.background.size === 0 &&
      !this.pumping &&
      !this.routing
    );
  }

  /** Sandboxes held in memory, and their bytes. */
  cacheStats(): { runs: number; bytes: number } {
    return { runs: this.cache.size, bytes: this.cache.memoryUsage() };
  }

  /** The capabilities calls are made with here, by name (the `capability` of call metrics). */
  capabilityNames(): string[] {
    return [...this.options.capabilities.keys()];
  }

  // definitions ---------------------------------------------------------------------------

  async deploy(definition: DeployedDefinition): Promise<void> {
    await this.store.deployDefinition(definition);
    this.definitionsByVersion.set(definition.version, definition);
    await this.refreshDefinitions();
  }

  /** No new runs of `name` (triggers, schedules, starts); its runs in flight go on with their versions. */
  async retire(name: string): Promise<boolean> {
    const retired = await this.store.retireDefinition(name);
    await this.refreshDefinitions();
    return retired;
  }

  definitions(): readonly ActiveDefinition[] {
    return this.activeDefinitions;
  }

  activeDefinition(name: string): ActiveDefinition | undefined {
    return this.activeDefinitions.find((definition) => definition.name === name);
  }

  /** Why the active version of `workflow` refuses `input` (EngineOptions.checkInput), or undefined. */
  private inputProblem(workflow: string, input: Json): string | undefined {
    const definition = this.activeDefinition(workflow);
    if (!definition || !this.options.checkInput) return undefined;
    try {
      this.options.checkInput(definition, input);
      return undefined;
    } catch (caught) {
      return toError(caught).message;
    }
  }

  /**
   * Reads the active definitions again: what other nodes on the same store deployed or retired.
   * True when they changed.
   */
  async syncDefinitions(): Promise<boolean> {
    const before = this.activeDefinitions.map((definition) => definition.version).join(' ');
    await this.refreshDefinitions();
    return this.activeDefinitions.map((definition) => definition.version).join(' ') !== before;
  }

  private async refreshDefinitions(): Promise<void> {
    this.activeDefinitions = await this.store.listActiveDefinitions();
    for (const definition of this.activeDefinitions) this.definitionsByVersion.set(definition.version, definition);
  }

  private async definitionFor(version: string): Promise<DeployedDefinition | undefined> {
    const cached = this.definitionsByVersion.get(version);
    if (cached) return cached;
    const stored = await this.store.getDefinition(version);
    if (stored) this.definitionsByVersion.set(version, stored);
    return stored;
  }

  // intake --------------------------------------------------------------------------------

  /**
   * Creates a run (idempotent by id) and starts its first workflow task. With a slot free, the run
   * starts here: its creation is committed with its first task (startHere). When that does not
   * happen, or the run exists, it is created on its own, leased to this node and advanced at once,
   * still without a claim through the ready queue. Without a free slot it waits there.
   */
  async submitRun(run: NewRun): Promise<{ created: boolean; run: RunRecord }> {
    // Counted until it returns: the engine is not idle while a run it was given is being created.
    this.submitting++;
    try {
      // Whether a run in a concurrency group may start is the store's to say as it creates the run (it may be
      // queued): it goes through the ready queue, which takes only runs that may run.
      if (run.concurrency !== undefined) return await this.createUnleased(run);
      if (!this.stopping && this.freeSlots() > 0 && !this.activeRuns.has(run.id)) {
        const started = await this.startHere(run);
        if (started) return { created: true, run: started };
      }
      return await this.createRun(run);
    } finally {
      this.submitting--;
      this.settle();
    }
  }

  /** Creates a run on its own: leased to this node and advanced here while a slot is free, else queued. */
  private async createRun(run: NewRun): Promise<{ created: boolean; run: RunRecord }> {
    if (this.stopping || this.freeSlots() <= 0) return this.createUnleased(run);
    this.reservedSlots++;
    const leaseUntil = this.clock.now() + this.runLeaseMs;
    let result: { created: boolean; run: RunRecord };
    try {
      result = await this.store.createRun(run, { owner: this.options.nodeId, until: leaseUntil });
    } finally {
      this.reservedSlots--;
    }
    if (result.created) this.advanceCreated(run.id, leaseUntil, result.run);
    return result;
  }

  /** Creates a run in the ready queue, unleased, for any node's pump to claim. */
  private async createUnleased(run: NewRun): Promise<{ created: boolean; run: RunRecord }> {
    const result = await this.store.createRun(run);
    if (result.created) this.pump();
    return result;
  }

  /**
   * Runs a new run's first workflow task before the run exists, and commits both in one
   * transaction (one commit fewer per run). Resolves with the run as that commit left it, or with
   * undefined when the commit did not create it: a run with this id exists, the sandbox failed
   * before the commit, the node began to stop, or the store failed (it may have committed or not).
   * The caller then creates it the usual way, which answers each of those cases.
   */
  private startHere(run: NewRun): Promise<RunRecord | undefined> {
    const lease: RunLease = { owner: this.options.nodeId, until: this.clock.now() + this.runLeaseMs };
    return new Promise((resolve) => {
      this.creating.set(run.id, { create: { run, lease }, settle: resolve });
      this.leasedRuns.set(run.id, lease.until);
      this.launch(run.id, newRunRecord(run));
    });
  }

  /** Ends startHere for `runId`: with the run it created, or undefined when it created none. */
  private settleCreation(runId: string, created: RunRecord | undefined): void {
    const creation = this.creating.get(runId);
    if (!creation) return;
    this.creating.delete(runId);
    if (!created) this.leasedRuns.delete(runId);
    creation.settle(created);
  }

  /**
   * A run this node has just created leased to itself: advanced here at once, unless the node is
   * stopping or the pump claimed it first (this node's own lease). `created` is its record, when
   * known.
   */
  private advanceCreated(id: string, leaseUntil: number, created?: RunRecord): void {
    // Recorded even when stopping, so that the lease is handed back with the others.
    this.leasedRuns.set(id, leaseUntil);
    if (!this.stopping && !this.activeRuns.has(id)) this.launch(id, created);
  }

  /** Stores an event durably — the promise resolves once it is on disk — and routes it soon after. */
  async ingest(event: CloudEvent, dedupeKey: string): Promise<{ seq: number; duplicate: boolean }> {
    const tooDeep = storableJsonProblem('data', event.data);
    if (tooDeep !== undefined) throw new ValidationError(`event ${event.id} from ${event.source} is refused`, [tooDeep]);
    const result = await this.store.insertEvent(event, dedupeKey, this.clock.now());
    if (!result.duplicate) this.routeSoon();
    return result;
  }

  /**
   * Asks a run to stop: its pending operations reject with CancelledError and its `finally` blocks run.
   * `by` names the person who asked, recorded in the history with the reason.
   */
  async cancel(runId: string, reason?: string, by?: string): Promise<RunRecord> {
    const run = await this.store.getRun(runId);
    if (!run) throw new NotFoundError('run', runId);
    if (terminal.has(run.status)) throw new ConflictError(`run ${runId} already ended as ${run.status}; there is nothing to cancel`);
    if (run.status === 'stuck') {
      // Its code cannot run its `finally` blocks (it diverged from its history): it ends at once, the divergence kept.
      const given = reason ?? 'it was stuck';
      const ending = { status: 'cancelled' as const, request: { reason: given, ...(by !== undefined && { by }) }, reason: given };
      await this.commitOutsideSandbox(run, buildTerminalCommit(run, this.options.nodeId, this.clock.now(), ending, this.options.secrets));
    } else {
      const resolution: Resolution = { kind: 'cancel', ...(reason !== undefined && { reason }), ...(by !== undefined && { by }) };
      // A queued run has run none of its code and holds no slot of its group: it ends here, at once, as a run cancelled
      // before its first task does. When its group started it meanwhile and it took a task, the cancel reaches it as a
      // running run's does.
      const cancel = { resolution, at: this.clock.now() };
      const ended = run.status === 'queued' && (await this.endWithoutCode(run, () => this.cancelledBeforeStart(run, cancel, [])));
      if (!ended) {
        await this.store.addPending(runId, resolution, cancel.at);
        this.mailFor([runId]);
      }
    }
    return (await this.store.getRun(runId)) ?? run;
  }

  /**
   * Ends `run` (as read, at its history length) with the commit `build` makes, without its code: terminate
   * (app/operations-terminate.ts). The run is seized from whichever node holds it, so that node's next commit is
   * fenced; then the commit follows the path of any commit here (listeners, mail, calls given up). False when the run
   * changed since it was read.
   */
  async endWithoutCode(run: RunRecord, build: (owner: string, secrets: SecretSource) => TaskCommit): Promise<boolean> {
    const owner = this.options.nodeId;
    if (!(await this.store.seizeRun(run.id, owner, this.clock.now() + this.runLeaseMs, run.historyLength))) return false;
    return this.commitOutsideSandbox(run, build(owner, this.options.secrets));
  }

  /**
   * Runs a failed run again from the workflow task that failed it (see run-retry.ts): on its own
   * version, or with `latest` on the active version of its workflow, whose code must replay the
   * history kept. ConflictError when the run is not failed, cannot be retried, or the code does
   * not replay it; the run then stays as it was. `dryRun`: every check of a retry, and the run as it would go on, without
   * retrying it.
   */
  async retry(
    runId: string,
    options: { latest?: boolean; by?: string; dryRun?: boolean } = {},
  ): Promise<{ run: RunRecord; from: 'failed' | 'stuck' }> {
    const run = await this.store.getRun(runId);
    if (!run) throw new NotFoundError('run', runId);
    const from = run.status;
    if (!isRetriable(from)) throw new ConflictError(`run ${runId} is ${from}; only a failed or stuck run can be retried`);
    const stuck = from === 'stuck';
    // The store decides as it retries the run; asked first, a dry run answers as the retry would. A stuck run kept its slot.
    const { concurrency } = run;
    if (concurrency && !stuck) {
      const taken = await this.store.countGroupSlotsTaken(concurrency.group);
      if (taken >= concurrency.limit) throw groupFullError(runId, concurrency, taken);
    }
    const definition = options.latest ? this.activeDefinition(run.workflow) : await this.definitionFor(run.version);
    if (!definition) {
      throw new ConflictError(
        options.latest
          ? `workflow '${run.workflow}' is not deployed; deploy it before retrying run ${runId} on its latest version`
          : `version ${run.version.slice(0, 12)} of workflow '${run.workflow}' is not in the store; retry run ${runId} on the latest version instead`,
      );
    }
    const time = this.clock.now();
    const history = await this.store.loadHistory(runId);
    const replay = (kept: readonly HistoryEvent[]) => this.replayForRetry(run, definition, kept);
    const by = options.by !== undefined ? { by: options.by } : {};
    const retry = stuck
      ? await planStuckRetry({ run, history, version: definition.version, time, replay, ...by })
      : await this.planFailedRetry(run, definition, history, time, replay, by);
    if (options.dryRun) return { run: retriedRecord(run, retry), from };
    if (!(await this.store.retryRun(retry))) throw new ConflictError(`run ${runId} changed while it was being retried; look at it again`);
    this.cache.evict(runId);
    this.failing.delete(runId);
    this.logger.info(
      { runId, version: definition.version, keptHistory: retry.keepHistoryLength, error: run.error, by: options.by },
      `${from} run retried`,
    );
    const retried = retriedRecord(run, retry);
    this.events.emit('run:retried', { run: retried, latest: options.latest === true });
    this.considerWake(time);
    for (const timer of retry.timers) this.considerWake(timer.fireAt);
    if (retry.waits.length > 0) this.track(this.lookback(retried, retry.waits, (wait) => wait.registeredAt));
    this.pump();
    return { run: retried, from };
  }

  /** What retrying failed `run` on `definition` changes (run-retry.ts), with the lookups a plan needs. */
  private planFailedRetry(
    run: RunRecord,
    definition: DeployedDefinition,
    history: HistoryEvent[],
    time: number,
    replay: RetryInput['replay'],
    by: { by?: string },
  ): Promise<RunRetry> {
    return planRetry({
      run,
      history,
      version: definition.version,
      time,
      secrets: this.options.secrets,
      readableSecrets: this.permissionsOf(definition).secrets ?? [],
      versionOf: (name) => this.activeDefinition(name)?.version,
      concurrencyOf: (name) => this.activeDefinition(name)?.manifest.concurrency,
      inputProblem: (name, input) => this.inputProblem(name, input),
      replay,
      ...by,
      getRun: (id) => this.store.getRun(id),
    });
  }

  /** The kept history of a run being retried, replayed in a sandbox of `definition` that is then dropped. */
  private async replayForRetry(run: RunRecord, definition: DeployedDefinition, kept: readonly HistoryEvent[]): Promise<ReplayOutcome> {
    try {
      const { instance, outcome } = await this.replayed(run, definition, kept);
      instance.dispose();
      return outcome;
    } catch (caught) {
      if (!(caught instanceof NondeterminismError || caught instanceof SandboxLimitError)) throw caught;
      const version = definition.version.slice(0, 12);
      const message =
        run.status === 'stuck' && definition.version === run.version
          ? `run ${run.id} still does not replay on its version ${version} (deploy code that replays its history and retry it on the latest version): ${caught.message}`
          : `version ${version} cannot take run ${run.id} over: ${caught.message}`;
      // A divergence's stack is the replay's, the server's own frames; a limit's is the workflow's.
      const info = toErrorInfo(caught);
      throw new ConflictError(message, (caught instanceof NondeterminismError ? withoutStack(info) : info) as unknown as Json);
    }
  }

  /** A fresh sandbox of `definition` for `run`, with `history` replayed into it; it is disposed if the replay throws. */
  private async replayed(
    run: RunRecord,
    definition: DeployedDefinition,
    history: readonly HistoryEvent[],
  ): Promise<{ instance: WorkflowInstance; outcome: ReplayOutcome }> {
    const instance = await this.options.sandbox.createInstance(definition, { runId: run.id, seed: run.id, ...this.options.sandboxLimits });
    const { secrets: permitted, withheldSecrets } = this.permissionsOf(definition);
    try {
      const outcome = await replayHistory(instance, history, {
        runId: run.id,
        workflow: run.workflow,
        prepare: (resolution) => revealResolution(resolution, this.options.secrets, permitted, withheldSecrets),
        secrets: this.options.secrets,
      });
      return { instance, outcome };
    } catch (caught) {
      instance.dispose();
      throw caught;
    }
  }

  /** Wakes the engine after another component changed the store (a poll tick, a NOTIFY). */
  notify(): void {
    this.routeSoon();
    this.pump();
    this.track(this.scheduleWake());
  }

  // the run loop ----------------------------------------------------------------------------

  /**
   * The store has new mail for these runs. A run being advanced here takes it between the answers
   * of its calls (from the pump's claim too, but that needs a free slot); the others are claimed.
   */
  private mailFor(runIds: readonly string[]): void {
    for (const id of runIds) this.inlineCalls.get(id)?.noteMail();
    this.pump();
  }

  private pump(): void {
    if (this.stopping) return;
    this.pumpRequested = true;
    if (this.pumping) return;
    this.pumping = true;
    void this.pumpLoop();
  }

  /**
   * The loop's last check of `pumpRequested` and the clearing of `pumping` happen in one
   * synchronous stretch, so a pump() arriving in between cannot be lost.
   */
  private async pumpLoop(): Promise<void> {
    try {
      while (this.pumpRequested && !this.stopping) {
        this.pumpRequested = false;
        const free = this.freeSlots();
        if (free <= 0) {
          this.track(this.slotReturns.check());
          return;
        }
        const now = this.clock.now();
        const ids = await this.store.claimReadyRuns(this.options.nodeId, now, now + this.runLeaseMs, free, this.busyWorkflows());
        for (const id of ids) this.leasedRuns.set(id, now + this.runLeaseMs);
        let launched = 0;
        for (const id of ids) {
          // A run being advanced here is ready again: it has mail, which another node may have
          // written. Its advance takes it between the answers of its calls.
          if (this.activeRuns.has(id)) {
            this.inlineCalls.get(id)?.noteMail();
            continue;
          }
          if ((this.failing.get(id)?.until ?? 0) > now) continue;
          launched++;
          this.logger.debug({ runId: id }, `run ${id} claimed by node ${this.options.nodeId}`);
          this.launch(id);
        }
        if (launched > 0 && ids.length === free) this.pumpRequested = true;
      }
    } catch (error) {
      this.logger.error({ err: toError(error) }, 'claiming ready runs failed; retrying on the next wake-up');
    } finally {
      this.pumping = false;
      this.settle();
    }
  }

  /** Runs being advanced here, by workflow (Store.claimReadyRuns). */
  private busyWorkflows(): Map<string, number> {
    const busy = new Map<string, number>();
    for (const workflow of this.advancingWorkflows.values()) busy.set(workflow, (busy.get(workflow) ?? 0) + 1);
    return busy;
  }

  private freeSlots(): number {
    return this.concurrency - this.activeRuns.size - this.reservedSlots;
  }

  /** `created` is a run this node has just created: nothing to read back, and its mailbox is empty. */
  private launch(id: string, created?: RunRecord): void {
    const work = this.advanceRun(id, created)
      .then(
        () => void this.failing.delete(id),
        (error: unknown) => {
          // The instance may have moved past what the store holds (a commit that failed after the
          // activation): replaying the history is the only way to know where the run really is.
          this.cache.evict(id);
          if (this.creating.has(id)) {
            this.logger.warn({ err: toError(error), runId: id }, 'starting a new run failed before it was stored; creating it on its own');
            return;
          }
          const attempts = (this.failing.get(id)?.attempts ?? 0) + 1;
          const until = this.clock.now() + Math.min(60_000, 1000 * 2 ** (attempts - 1));
          this.failing.set(id, { attempts, until });
          this.considerWake(until);
          this.logger.error(
            { err: toError(error), runId: id, attempts },
            `advancing run failed; retrying at ${new Date(until).toISOString()}`,
          );
        },
      )
      .finally(() => {
        this.activeRuns.delete(id);
        this.advancingWorkflows.delete(id);
        this.settleCreation(id, undefined);
        this.cache.trim();
        this.pump();
        this.settle();
      });
    this.activeRuns.set(id, work);
  }

  private async advanceRun(runId: string, created?: RunRecord): Promise<void> {
    // Registered before the first read: mail that comes from then on reaches this advance.
    const inline = new InlineCalls((answer) => this.track(this.calls.recordAnswer(runId, answer)));
    this.inlineCalls.set(runId, inline);
    try {
      await this.advance(runId, inline, created);
    } finally {
      this.inlineCalls.delete(runId);
      const draining = inline.close();
      // Tracked, so that stop waits for the calls still running and keeps what they answer.
      if (draining) this.track(draining);
    }
  }

  /** Runs the run's workflow tasks while there is something to deliver to it, or a call of its own to wait for. */
  private async advance(runId: string, inline: InlineCalls, created?: RunRecord): Promise<void> {
    // Both reads at once: one round trip of waiting, not two.
    let [run, pending] = created ? [created, []] : await Promise.all([this.store.getRun(runId), this.store.loadPending(runId)]);
    if (!run || run.status !== 'running') return;
    this.advancingWorkflows.set(runId, run.workflow);
    if (run.historyLength === 0) {
      const before = await this.cancelBeforeStart(run, pending);
      if (before.cancel) {
        await this.commitOutsideSandbox(run, this.cancelledBeforeStart(run, before.cancel, before.pending));
        return;
      }
      pending = before.pending;
    }
    const definition = await this.definitionFor(run.version);
    if (!definition) {
      const error = {
        name: 'DefinitionMissingError',
        message: `version ${run.version} of workflow '${run.workflow}' is not in the store; redeploy it`,
      };
      await this.commitOutsideSandbox(
        run,
        buildTerminalCommit(run, this.options.nodeId, this.clock.now(), { status: 'failed', error }, this.options.secrets),
      );
      return;
    }
    let entry = this.cache.get(runId);
    if (entry && entry.historyLength !== run.historyLength) {
      this.cache.evict(runId);
      entry = undefined;
    }
    if (!entry) {
      const rebuilt = await this.rebuild(run, definition);
      if (!rebuilt) return;
      entry = rebuilt;
    }
    let local: DeliveredResolution[] = [];
    let resolvedCalls: number[] = [];
    const permissions = this.permissionsOf(definition);
    while (!this.stopping) {
      const { delivered, consumed } = this.dedupe(entry, pending, local);
      const first = run.historyLength === 0;
      if (!first && consumed.length === 0 && delivered.length === 0) return;
      const time = this.clock.now();
      const callLeaseUntil = time + this.callLeaseMs;
      let commands;
      try {
        commands = (
          await entry.instance.activate({
            time,
            // What replay will give: the input and resolutions as history records them.
            ...(first ? { start: { input: redactJson(run.input, this.options.secrets, permissions.secrets ?? []) } } : {}),
            resolutions: delivered.map((item) =>
              revealResolution(
                asRecorded(item.resolution, this.options.secrets, permissions.secrets ?? []),
                this.options.secrets,
                permissions.secrets,
                permissions.withheldSecrets,
              ),
            ),
            replaying: false,
          })
        ).commands;
      } catch (caught) {
        this.cache.evict(runId);
        if (!(caught instanceof SandboxLimitError)) throw caught;
        await this.commitOutsideSandbox(
          run,
          buildTerminalCommit(
            run,
            this.options.nodeId,
            time,
            { status: 'failed', error: toErrorInfo(caught, secretValuesOf(this.options.secrets)) },
            this.options.secrets,
          ),
        );
        return;
      }
      const output = buildTaskCommit({
        run,
        owner: this.options.nodeId,
        time,
        delivered,
        consumedPending: consumed,
        resolvedCalls,
        commands,
        secrets: this.options.secrets,
        readableSecrets: permissions.secrets ?? [],
        callLeaseUntil,
        versionOf: (name) => this.activeDefinition(name)?.version,
        concurrencyOf: (name) => this.activeDefinition(name)?.manifest.concurrency,
        inputProblem: (name, input) => this.inputProblem(name, input),
      });
      const unreserve = this.calls.reserve(output.commit.calls);
      // Mail noted until now is in the mailbox the commit returns.
      inline.takeMail();
      let result: TaskCommitResult | ValidationError;
      try {
        result = await this.commit(run, output.commit);
      } catch (error) {
        // The answers this task delivered are in no store yet: kept as soon as the store takes them,
        // the calls are not made again when their leases pass.
        for (const { resolution, attempts, at } of local) {
          if (resolution.kind === 'call' && resolvedCalls.includes(resolution.step)) {
            this.track(this.calls.recordAnswerPatiently(runId, { resolution, attempts: attempts ?? 1, at }));
          }
        }
        if (!(error instanceof ValidationError)) throw error;
        result = error;
      } finally {
        unreserve();
      }
      if (result instanceof ValidationError) {
        await this.failUnstorableTask(run, result);
        return;
      }
      if (!result.ok) {
        this.commitRefused(runId, result.reason);
        return;
      }
      run = committedRecord(run, output.commit);
      entry.historyLength = run.historyLength;
      for (const item of delivered) if ('step' in item.resolution) entry.resolvedSteps.add(item.resolution.step);
      this.afterCommit(run, output.commit);
      if (output.ended) {
        this.cache.evict(runId);
        this.finished(run);
        return;
      }
      // The lease of the new calls counts from before the commit, which may have waited long on a
      // row lock (a stalled node's open transaction): see CallRunner.mayStart.
      const executeHere = this.calls.mayStart(callLeaseUntil);
      if (!executeHere && output.commit.calls.length > 0) {
        this.logger.warn(
          { runId, calls: output.commit.calls.length },
          'the commit took over half the call lease; its calls run once their lease passes',
        );
        this.considerWake(callLeaseUntil);
      }
      if (executeHere) {
        const context: CallContext = { workflow: run.workflow, permissions, now: time };
        for (const call of output.commit.calls) this.calls.startInline(inline, call, context);
      }
      const next = await this.nextDelivery(runId, inline, result.pending, [...output.immediate]);
      if (next === SLOT_GIVEN_BACK) {
        await this.giveBackLease(runId);
        return;
      }
      if (!next) return;
      ({ pending, local, resolvedCalls } = next);
    }
    await this.keepForLater(runId, local, resolvedCalls);
  }

  /**
   * What the run's next task delivers: the mailbox as the last commit left it, what that task
   * resolved itself, and the answers of the run's calls. With none of these yet, it waits while
   * calls run for the first answer or for new mail (then the mailbox is read again); undefined
   * when there is nothing to deliver and no call to wait for. The engine stopping ends the wait
   * with what there is.
   */
  private async nextDelivery(
    runId: string,
    inline: InlineCalls,
    pending: PendingResolution[],
    local: DeliveredResolution[],
  ): Promise<{ pending: PendingResolution[]; local: DeliveredResolution[]; resolvedCalls: number[] } | typeof SLOT_GIVEN_BACK | undefined> {
    const since = this.clock.now();
    for (;;) {
      const answers = inline.takeAnswers();
      if (answers.length > 0 || local.length > 0 || pending.length > 0 || this.stopping) {
        return { pending, local: [...local, ...answers], resolvedCalls: answers.map((answer) => answer.resolution.step) };
      }
      if (inline.callsRunning === 0) return undefined;
      if (await this.slotReturns.wait(runId, since, inline.next())) return SLOT_GIVEN_BACK;
      if (inline.takeMail() && !this.stopping) pending = await this.store.loadPending(runId);
    }
  }

  /**
   * A run that gave its slot back while its calls run: its lease too, so that any node with a free slot may take the
   * run as soon as an answer makes it ready. A lease that cannot be given back simply lapses.
   */
  private async giveBackLease(runId: string): Promise<void> {
    this.leasedRuns.delete(runId);
    try {
      await this.store.releaseRun(runId, this.options.nodeId);
    } catch (error) {
      this.logger.warn({ err: toError(error), runId }, 'giving back the lease of a run waiting for its calls failed; it lapses instead');
    }
  }

  /**
   * Stopping with resolutions in hand (a call that finished while the server shut down): they go
   * to the run's mailbox, so that whoever advances the run next has them and no call runs again.
   */
  private async keepForLater(runId: string, local: DeliveredResolution[], resolvedCalls: readonly number[]): Promise<void> {
    for (const { resolution, attempts, at } of local) {
      if (resolution.kind === 'call' && resolvedCalls.includes(resolution.step)) {
        await this.calls.recordAnswer(runId, { resolution, attempts: attempts ?? 1, at });
      } else if (!(await this.store.addPending(runId, resolution, at))) {
        this.logger.info({ runId, kind: resolution.kind }, 'a resolution held at shutdown was not kept: the run ended');
      }
    }
  }

  /** Drops resolutions of steps the instance already received (a call resolved twice after a lease expired). */
  private dedupe(
    entry: CachedRun,
    pending: PendingResolution[],
    local: DeliveredResolution[],
  ): { delivered: DeliveredResolution[]; consumed: number[] } {
    // Steps resolved in this batch; copying entry.resolvedSteps instead would cost O(history) per task.
    const seen = new Set<number>();
    const delivered: DeliveredResolution[] = [];
    const keep = (item: DeliveredResolution): void => {
      if ('step' in item.resolution) {
        const { step } = item.resolution;
        if (entry.resolvedSteps.has(step) || seen.has(step)) return;
        seen.add(step);
      }
      delivered.push(item);
    };
    for (const item of pending) {
      const resolution: DeliveredResolution = { resolution: item.resolution, at: item.at };
      if (item.attempts !== undefined) resolution.attempts = item.attempts;
      keep(resolution);
    }
    for (const item of local) keep(item);
    return { delivered, consumed: pending.map((item) => item.id) };
  }

  /**
   * The cancel of a run about to take its first workflow task: its own, or its parent's that the parent has not
   * taken yet (the parent's task that takes it asks every child to cancel; a child that starts before then would run
   * its code and start children of its own, which a workflow starting children of itself did faster than its cancel
   * travelled down). Whether the parent was ever asked is one read; only then is the parent's mailbox read, and then
   * the run's own again: the parent's task that takes its cancel removes it there and asks this run in one commit, so
   * one of the two reads sees it. A child started by the parent's cleanup, after its cancel was taken, runs.
   */
  private async cancelBeforeStart(
    run: RunRecord,
    pending: PendingResolution[],
  ): Promise<{ cancel?: { resolution: Resolution; at: number }; pending: PendingResolution[] }> {
    const isCancel = (item: PendingResolution) => item.resolution.kind === 'cancel';
    const own = pending.find(isCancel);
    if (own || run.parentId === undefined) return { ...(own && { cancel: own }), pending };
    if ((await this.store.cancelRequestedAt(run.parentId)) === undefined) return { pending };
    const parentCancel = (await this.store.loadPending(run.parentId)).find(isCancel);
    const mailbox = await this.store.loadPending(run.id);
    const fromParent = parentCancel && {
      resolution: { kind: 'cancel' as const, reason: `its parent run ${run.parentId} was cancelled` },
      at: parentCancel.at,
    };
    const cancel = mailbox.find(isCancel) ?? fromParent;
    return { ...(cancel && { cancel }), pending: mailbox };
  }

  /**
   * A run asked to cancel before its first workflow task ends without running its code: no code ran, so no cleanup
   * is owed, and its code would first start what it starts before it saw the cancel — a workflow starting children
   * of itself doubled on every generation its cancel reached, and the cancel never caught up.
   */
  private cancelledBeforeStart(run: RunRecord, cancel: { resolution: Resolution; at: number }, pending: PendingResolution[]): TaskCommit {
    const reason = cancel.resolution.kind === 'cancel' ? cancel.resolution.reason : undefined;
    return buildTaskCommit({
      run,
      owner: this.options.nodeId,
      time: this.clock.now(),
      delivered: [{ resolution: cancel.resolution, at: cancel.at }],
      consumedPending: pending.map((item) => item.id),
      resolvedCalls: [],
      commands: [{ kind: 'cancelled', ...(reason !== undefined && { reason }) }],
      secrets: this.options.secrets,
      versionOf: () => undefined,
      withoutCode: true,
    }).commit;
  }

  /**
   * The store refused what a workflow task produced as data it cannot hold (a text PostgreSQL refuses, say), which
   * trying again would not change: the run fails, saying so, instead of being advanced again for ever.
   */
  private async failUnstorableTask(run: RunRecord, refusal: ValidationError): Promise<void> {
    this.cache.evict(run.id);
    this.logger.error({ runId: run.id, err: refusal }, 'the store refused a workflow task of the run; the run fails');
    const error = {
      name: 'UnstorableTaskError',
      message: `the store refused what this workflow task produced, and would refuse it again: ${refusal.message}; change the workflow so that it does not produce it, then retry the run on the new version (autoflow retry --latest)`,
    };
    await this.commitOutsideSandbox(
      run,
      buildTerminalCommit(run, this.options.nodeId, this.clock.now(), { status: 'failed', error }, this.options.secrets),
    );
  }

  /** What runs of `definition` may reach: its declared permissions, less the secrets the operator keeps from it. */
  private permissionsOf(definition: DeployedDefinition): GrantedPermissions {
    return grantedPermissions(definition.manifest, this.options.secretAccess ?? {});
  }

  /** A run not in the cache: a fresh sandbox, replayed through the run's history. */
  private async rebuild(run: RunRecord, definition: DeployedDefinition): Promise<CachedRun | undefined> {
    // A run that has not taken its first step has nothing to replay: no read for it.
    const history = run.historyLength === 0 ? [] : await this.store.loadHistory(run.id);
    try {
      const { instance, outcome } = await this.replayed(run, definition, history);
      const entry: CachedRun = { instance, historyLength: history.length, resolvedSteps: outcome.resolvedSteps };
      this.cache.set(run.id, entry);
      return entry;
    } catch (caught) {
      if (caught instanceof NondeterminismError) {
        this.logger.error({ runId: run.id, err: caught }, 'replay diverged from history; the run is stuck');
        await this.commitOutsideSandbox(
          run,
          buildStuckCommit(
            run,
            this.options.nodeId,
            toErrorInfo(caught, secretValuesOf(this.options.secrets)),
            this.options.secrets,
            this.clock.now(),
          ),
        );
        return undefined;
      }
      if (caught instanceof SandboxLimitError) {
        await this.commitOutsideSandbox(
          run,
          buildTerminalCommit(
            run,
            this.options.nodeId,
            this.clock.now(),
            { status: 'failed', error: toErrorInfo(caught, secretValuesOf(this.options.secrets)) },
            this.options.secrets,
          ),
        );
        return undefined;
      }
      throw caught;
    }
  }

  /**
   * Commits a task of `run`. For a run startHere is creating, the same commit creates it, and
   * startHere learns how that went.
   */
  private async commit(run: RunRecord, commit: TaskCommit): Promise<TaskCommitResult> {
    const creation = this.creating.get(run.id);
    if (!creation) return this.store.commitTask(commit);
    let result: TaskCommitResult | undefined;
    try {
      result = await this.store.commitTask({ ...commit, create: creation.create });
      return result;
    } finally {
      this.settleCreation(run.id, result?.ok ? committedRecord(run, commit) : undefined);
    }
  }

  private async commitOutsideSandbox(run: RunRecord, commit: TaskCommit): Promise<boolean> {
    const result = await this.commit(run, commit);
    if (!result.ok) {
      this.commitRefused(run.id, result.reason);
      return false;
    }
    const committed = committedRecord(run, commit);
    this.afterCommit(committed, commit);
    if (terminal.has(committed.status)) this.finished(committed);
    return true;
  }

  /**
   * A run ended: its calls still running here are given up, and it is said to listeners, and in the
   * log when it failed (operators alert on the log, not on `autoflow runs`).
   */
  private finished(run: RunRecord): void {
    this.calls.abandonRun(run.id, `its run ended (${run.status})`);
    // The node is in the message: the server's logger names it in every line already (a field twice would be a duplicate key).
    this.logger.debug(
      { runId: run.id, workflow: run.workflow, status: run.status },
      `run ${run.id} ${run.status} on node ${this.options.nodeId}`,
    );
    if (run.status === 'failed') {
      const error = run.error ?? { name: 'Error', message: 'no error recorded' };
      this.logger.warn(
        { runId: run.id, workflow: run.workflow, err: loggedError(error) },
        `run ${run.id} of ${run.workflow} failed: ${error.name}: ${error.message}`,
      );
    }
    this.events.emit('run:finished', { runId: run.id, workflow: run.workflow, status: run.status });
  }

  /**
   * Another node advanced the run (or it is gone): what this node holds of it is stale. Or the
   * run this node was creating exists: its sandbox is dropped, and submitRun answers with that run.
   */
  private commitRefused(runId: string, reason: TaskCommitRefusal): void {
    this.cache.evict(runId);
    if (reason === 'exists') return;
    if (reason === 'fenced') this.events.emit('write:fenced', { runId, what: 'task' });
    this.logger.warn({ runId, reason }, 'workflow task commit refused; the run will be reloaded');
  }

  private afterCommit(run: RunRecord, commit: TaskCommit): void {
    this.events.emit('run:updated', { run });
    mirrorTaskLogs(this.logger, run, commit.logs);
    for (const timer of commit.timers) this.considerWake(timer.fireAt);
    if (commit.waits.length > 0) this.track(this.lookback(run, commit.waits));
    const mailed = runsMailedBy(commit);
    if (commit.children.length > 0 || commit.successor || mailed.length > 0) this.mailFor(mailed);
    if (commit.events?.length) this.routeSoon();
    // Its end may have started a queued run of its concurrency group, in the same commit: it is ready to claim.
    if (run.concurrency !== undefined && terminal.has(run.status)) this.pump();
  }

  /**
   * A wait registered after its event arrived still receives it, from the inbox's past `lookbackMs`
   * before the wait, or from the time `since` gives (a wait opened again by a retry). A run's own
   * signals are kept for it since it started: sent before the run waits for them, they are not lost
   * (`lookbackMs` earlier still, for the clocks of other nodes). The waits of one task look back
   * together (router.ts). Once done, it is recorded, so that a lookback this node does not get to
   * is done by lookBackUnfinished.
   */
  private async lookback(run: RunRecord, waits: WaitRecord[], since?: (wait: WaitRecord) => number): Promise<void> {
    const ownSignals = run.createdAt - this.lookbackMs;
    const timed = waits.map((wait) => {
      const recent = wait.registeredAt - this.lookbackMs;
      return { wait, from: since?.(wait) ?? (isOwnSignalWait(run, wait) ? Math.min(recent, ownSignals) : recent) };
    });
    const delivered = await lookBack(this.store, this.logger, run, timed, this.fingerprint);
    await this.store.markWaitsLookedBack(waits);
    if (delivered) this.mailFor([run.id]);
  }

  /**
   * Looks back for the waits registered at or before `until` whose lookback is not recorded as done: a node stopped
   * between the commit that registered them and the lookback (a crash, a kill), or the lookback failed. Events that
   * arrived before such a wait (acknowledged signals sent before the run waited for them) would otherwise never reach
   * it. A lookback delivers an event to a run once, so doing one twice is harmless.
   */
  private async lookBackUnfinished(until: number): Promise<void> {
    let after: WaitRecord | undefined;
    for (;;) {
      const page = await this.store.listWaitsToLookBack(until, UNFINISHED_LOOKBACK_PAGE, after);
      const byRun = new Map<string, WaitRecord[]>();
      for (const wait of page) byRun.set(wait.runId, [...(byRun.get(wait.runId) ?? []), wait]);
      for (const [runId, waits] of byRun) {
        try {
          const run = await this.store.getRun(runId);
          if (run?.status === 'running') await this.lookback(run, waits);
          else await this.store.markWaitsLookedBack(waits);
        } catch (error) {
          this.logger.error({ err: toError(error), runId }, 'a lookback for waits that missed theirs failed; it is tried again later');
        }
      }
      if (page.length < UNFINISHED_LOOKBACK_PAGE) return;
      after = page.at(-1);
    }
  }

  // timers -----------------------------------------------------------------------------------

  private considerWake(at: number): void {
    if (this.stopping || (this.wake && this.wake.at <= at)) return;
    this.wake?.cancel();
    const wake = { at, cancel: () => {} };
    this.wake = wake;
    wake.cancel = this.clock.schedule(at, () => {
      if (this.wake === wake) this.wake = undefined;
      this.track(this.onDue(at));
    });
  }

  private async scheduleWake(): Promise<void> {
    const at = await this.store.nextDueAt();
    if (at !== undefined) this.considerWake(at);
  }

  private async onDue(dueAt?: number): Promise<void> {
    if (this.stopping) return;
    const now = this.clock.now();
    const fired = await this.store.fireDueTimers(now, 1000);
    if (dueAt !== undefined && fired.length > 0) this.events.emit('timers:fired', { runs: fired.length, lagMs: Math.max(0, now - dueAt) });
    // Fired timers, and runs whose back-off after a failure has passed, may be claimed now.
    this.mailFor(fired);
    await this.calls.runDue();
    await this.scheduleWake();
  }

  /**
   * Renews the leases of what this node is working on, so that only a node that stopped (crashed,
   * frozen, cut off) loses its work to others. A lease it finds taken over is not renewed: the
   * fenced commit then tells the stale work apart.
   */
  private scheduleHeartbeat(): void {
    const { heartbeatMs, pollIntervalMs } = this.options;
    const interval =
      heartbeatMs !== undefined ? heartbeatMs : pollIntervalMs === null ? null : Math.min(this.runLeaseMs, this.callLeaseMs) / 3;
    if (interval === null || this.stopping) return;
    this.heartbeat = this.clock.schedule(this.clock.now() + interval, () => {
      this.sweepUnfinishedLookbacks(this.clock.now() - UNFINISHED_LOOKBACK_AGE_MS);
      this.track(this.renewLeases().finally(() => this.scheduleHeartbeat()));
    });
  }

  /** lookBackUnfinished, unless one is under way: a long one does not hold up the leases' renewal, nor run twice. */
  private sweepUnfinishedLookbacks(until: number): void {
    if (this.unfinishedLookbacks) return;
    const sweep = this.lookBackUnfinished(until).finally(() => {
      this.unfinishedLookbacks = undefined;
    });
    this.unfinishedLookbacks = sweep;
    this.track(sweep);
  }

  private async renewLeases(): Promise<void> {
    const now = this.clock.now();
    for (const [id, until] of this.leasedRuns) if (until <= now) this.leasedRuns.delete(id);
    const runIds = [...this.activeRuns.keys()];
    const calls = this.calls.inflightCalls();
    if (runIds.length === 0 && calls.length === 0) return;
    const runLeaseUntil = now + this.runLeaseMs;
    const { lostCalls } = await this.store.renewLeases(this.options.nodeId, runIds, runLeaseUntil, calls, now + this.callLeaseMs);
    for (const id of runIds) this.leasedRuns.set(id, runLeaseUntil);
    if (lostCalls.length > 0) {
      const lost = new Set(lostCalls.map(({ runId, step }) => `${runId}:${step}`));
      // A call that answered meanwhile is gone from the store too; giving up its finished attempt does nothing.
      this.calls.abandon(
        calls.filter(({ runId, step }) => lost.has(`${runId}:${step}`)),
        'its lease is no longer this node’s: its run ended, or another node took the call over',
      );
    }
  }

  private schedulePoll(): void {
    const interval = this.options.pollIntervalMs === undefined ? 1000 : this.options.pollIntervalMs;
    if (interval === null || this.stopping) return;
    this.poll = this.clock.schedule(this.clock.now() + interval, () => {
      this.notify();
      this.schedulePoll();
    });
  }

  // routing ----------------------------------------------------------------------------------

  private routeSoon(): void {
    if (this.stopping) return;
    this.routeRequested = true;
    if (this.routing) return;
    this.routing = true;
    void this.routeLoop();
  }

  /** Same shape as pumpLoop: the last check and the clearing of `routing` are one synchronous stretch. */
  private async routeLoop(): Promise<void> {
    try {
      while (this.routeRequested && !this.stopping) {
        this.routeRequested = false;
        const events = await this.store.listUnroutedEvents(100);
        if (events.length === 0) continue;
        const routings: EventRouting[] = [];
        const onTriggerFailure = (failure: TriggerFailure) => this.triggerFailed(failure);
        // Reported once the routing is this node's (below): every node plans the events it lists, one marks each.
        const chainSkips = new Map<number, ChainLimitSkip[]>();
        const onChainLimit = (skip: ChainLimitSkip) => chainSkips.set(skip.event.seq, [...(chainSkips.get(skip.event.seq) ?? []), skip]);
        for (const event of events)
          routings.push(
            await planRouting(this.store, event, this.activeDefinitions, this.clock.now(), {
              onTriggerFailure,
              ownAccount: this.options.ownAccount,
              onChainLimit,
              fingerprint: this.fingerprint,
            }),
          );
        const reserved = this.leaseNewRuns(routings);
        this.reservedSlots += reserved;
        let results: RouteResult[];
        try {
          // One commit for the whole batch: a burst of webhooks costs one fsync to route, not one each.
          results = await this.store.routeEvents(routings);
        } finally {
          this.reservedSlots -= reserved;
        }
        results.forEach((result, i) => {
          const seq = routings[i]!.eventSeq;
          if (result.markedRouted) for (const skip of chainSkips.get(seq) ?? []) this.options.onChainLimit?.(skip);
          this.events.emit('event:routed', { seq, ...result });
        });
        this.launchLeasedRuns(routings, results);
        if (results.some((result, i) => leftWorkToClaim(routings[i]!, result)))
          this.mailFor(results.flatMap((result) => result.deliveredRunIds));
        if (events.length === 100) this.routeRequested = true;
      }
    } catch (error) {
      this.logger.error({ err: toError(error) }, 'routing events failed; they stay in the inbox and are routed on the next wake-up');
    } finally {
      this.routing = false;
      this.settle();
    }
  }

  private triggerFailed({ definition, trigger, event, error }: TriggerFailure): void {
    const spec = definition.manifest.triggers[trigger];
    const on = spec && 'event' in spec ? ` (${spec.event})` : '';
    this.logger.error(
      {
        err: error,
        workflow: definition.name,
        version: definition.version,
        trigger,
        event: { seq: event.seq, type: event.type, id: event.id, source: event.source },
      },
      `trigger ${trigger}${on} of workflow ${definition.name} failed on event ${event.type} (id ${event.id}, source ${event.source}): ${error.message}; ` +
        'it counts as no match and routing goes on; fix the trigger and deploy the workflow again',
    );
  }

  /**
   * The runs that events start are created leased to this node while it has slots for them, and
   * advanced here at once: no claim through the ready queue (a commit and two reads fewer before
   * their first step). Returns the slots they take.
   */
  private leaseNewRuns(routings: EventRouting[]): number {
    if (this.stopping) return 0;
    const lease = { owner: this.options.nodeId, until: this.clock.now() + this.runLeaseMs };
    let free = this.freeSlots();
    let reserved = 0;
    for (const routing of routings) {
      if (routing.newRuns.length === 0 || routing.newRuns.length > free) continue;
      // A run in a concurrency group may be created queued: the ready queue takes it when it may run (createUnleased).
      if (routing.newRuns.some((run) => run.concurrency !== undefined)) continue;
      routing.lease = lease;
      free -= routing.newRuns.length;
      reserved += routing.newRuns.length;
    }
    return reserved;
  }

  private launchLeasedRuns(routings: EventRouting[], results: RouteResult[]): void {
    results.forEach((result, i) => {
      const lease = routings[i]!.lease;
      if (!lease) return;
      for (const id of result.createdRunIds) this.advanceCreated(id, lease.until);
    });
  }

  // bookkeeping ------------------------------------------------------------------------------

  private track(work: Promise<unknown>): void {
    const tracked = work
      .catch((error: unknown) =>
        this.logger.error({ err: toError(error) }, 'background engine work failed; it is retried on the next wake-up'),
      )
      .finally(() => {
        this.background.delete(tracked);
        this.settle();
      });
    this.background.add(tracked);
  }

  private settle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
