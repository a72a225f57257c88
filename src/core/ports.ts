/**
 * The ports through which the engine core reaches the world. Adapters implement them at the edges
 * (store/, sandbox/, capabilities/, app/); the core imports nothing else that does I/O.
 */
import type {
  Activation,
  ActivationResult,
  ActiveDefinition,
  CallRecord,
  CloudEvent,
  DeployedDefinition,
  ErrorInfo,
  EventIdentity,
  HistoryEvent,
  Json,
  LogRecord,
  NewRun,
  PendingResolution,
  Permissions,
  Resolution,
  RunRecord,
  RunRetryRecord,
  RunStatus,
  StoredEvent,
  TimerRecord,
  WaitRecord,
  WorkflowManifest,
} from './model.js';
import type { ApprovalDecision, HumanTaskOutcome, HumanTaskRecord, HumanTaskStatus } from './human-task.js';

// ---------------------------------------------------------------------------------------------
// Store
// ---------------------------------------------------------------------------------------------

/** Everything one workflow task changes, applied atomically by `Store.commitTask`. */
export interface TaskCommit {
  runId: string;
  /**
   * The run does not exist yet: the commit inserts it, leased, before applying the task, all in
   * one transaction (`expectedHistoryLength` is then 0). When a run with this id already exists,
   * nothing is written and the result is `{ ok: false, reason: 'exists' }`.
   */
  create?: { run: NewRun; lease: RunLease };
  /** Fence: the commit applies only while the run's history length is still exactly this. */
  expectedHistoryLength: number;
  /**
   * When a commit that records no history happened (a run marked stuck): the run's `updatedAt`. A commit with history
   * takes its last event's time.
   */
  at?: number;
  /** Node that holds the run's lease; a commit from another owner after the lease moved is refused. */
  owner: string;
  /** Ids of the pending resolutions this task consumed; they are deleted. */
  consumedPending: number[];
  /** Appended to history; their `seq` continue from `expectedHistoryLength`. */
  history: HistoryEvent[];
  /**
   * New outstanding calls. When `leaseUntil` is set the committing node executes the call itself
   * right after the commit, and nobody else may claim it before that time.
   */
  calls: Array<CallRecord & { leaseUntil?: number }>;
  /** Steps of calls whose result this task already consumed in memory: their rows are deleted. */
  resolvedCalls: number[];
  timers: TimerRecord[];
  waits: WaitRecord[];
  /**
   * Child runs to create (insert-or-ignore by id); each starts ready. An id that another run holds already
   * fails that child's start: the run gets `childExistsResolution(child)` in its pending, in the same
   * commit. The run's own child of the same step is not another run: a task committed again (a retried
   * run repeats the task that failed it) starts its children again.
   */
  children: NewRun[];
  logs: LogRecord[];
  /**
   * The run's new status when it changed. A terminal status deletes every outstanding call,
   * timer and wait of the run, clears its pending resolutions and closes its open human tasks as
   * `cancelled` (outcome `{ status: 'cancelled' }`, plus the decisions so far for an approval).
   */
  status?: { status: RunStatus; result?: Json; error?: ErrorInfo };
  /** A run to create in the same transaction (continue-as-new). */
  successor?: NewRun;
  /**
   * With `successor`: the signals sent to this run that its code never took go to the successor, as
   * copies of their events addressed to it (subject), in the inbox already routed, where its signal
   * waits find them (the lookback of a run's own signals): those `kept` (received by the code, never
   * consumed: their `source` and `id`, in the order the code would have taken them), then those in
   * the run's pending (delivered to a wait, not yet to the code), then those never delivered. Only
   * events of `autoflow.signal.*` with this run as subject are carried; a kept one that is not such an
   * event is ignored. Dedupe key of a copy: `carriedSignalKey`.
   */
  carrySignals?: { to: string; kept: EventIdentity[] };
  /** Resolution for the parent run when this run ended: appended to its pending, parent made ready. */
  notifyParent?: { runId: string; resolution: Resolution };
  /**
   * Child runs to cancel in the same transaction (the run was cancelled while they ran). The list comes from the
   * sandbox: the store cancels only those whose parent is `runId`. A child that continued as new is followed
   * along its chain (successors keep the parent) to the run that goes on, which gets the cancel.
   */
  cancelChildren?: Array<{ runId: string; reason: string }>;
  /** Events to put in the inbox in the same transaction (for example `autoflow.run.finished`). */
  events?: Array<{ event: CloudEvent; dedupeKey: string }>;
}

/**
 * An applied commit comes back with the run's mailbox as the commit left it (what arrived while
 * the task ran, oldest first), so that the engine need not read it again before the next task.
 */
export type TaskCommitResult = { ok: true; pending: PendingResolution[] } | { ok: false; reason: TaskCommitRefusal };

/** Why a commit was not applied: the fence failed, the run is gone, or the run it would create exists. */
export type TaskCommitRefusal = 'fenced' | 'not_found' | 'exists';

/** Result of routing one inbox event, applied atomically by `Store.routeEvent`. */
export interface EventRouting {
  eventSeq: number;
  /** Runs the event's triggers start (insert-or-ignore by id: a redelivery never starts a second). */
  newRuns: NewRun[];
  /** When given, the runs it starts are created leased to this owner, who advances them at once. */
  lease?: RunLease;
  /** Waits it satisfies. */
  deliveries: Array<{ runId: string; step: number }>;
  /**
   * True when this is the event's routing proper (it leaves the unrouted list); false for a
   * lookback delivery to a wait registered after the event arrived, which must not stop the
   * event's own routing from happening.
   */
  markRouted: boolean;
}

export interface RouteResult {
  createdRunIds: string[];
  /** Runs that really received the event (their wait was still there). */
  deliveredRunIds: string[];
  /** This routing marked the event routed: false when another node's routing had, or for a lookback. */
  markedRouted: boolean;
}

export interface RunFilter {
  workflow?: string;
  status?: RunStatus;
  /** Runs created at or after this time (epoch ms); the (…, created_at, id) indexes serve the range. */
  createdFrom?: number;
  /** Runs created before this time (epoch ms). */
  createdBefore?: number;
  /**
   * Newest first by when runs were created, or by when they last changed (`updatedAt`): for a run that ended (or got
   * stuck), when it did, so that a run started days ago that failed a minute ago comes before one that failed an hour
   * ago. `updated` needs a `status` of runs that no longer advance (completed, failed, cancelled, continued, stuck),
   * whose `updatedAt` stays put; the stores refuse it otherwise (ValidationError). It reads a partial index of those
   * runs only (store/ARCHITECTURE.md). A cursor continues the order it was made in.
   * @default 'created'
   * @example { status: 'failed', order: 'updated', updatedFrom: Date.now() - 3_600_000 } // failed in the last hour
   */
  order?: 'created' | 'updated';
  /** With `order: 'updated'`: runs whose `updatedAt` (when they ended) is at or after this time (epoch ms). */
  updatedFrom?: number;
  /**
   * Runs started by an event about this GitLab object: the event's CloudEvent `subject` is this
   * reference (`demo/app#42`, `demo/app!7`) or lies under it (a comment, `demo/app#42#note_5`).
   * Not indexed yet (it needs a migration): the stores filter the inbox by subject once per query.
   */
  subject?: string;
  /**
   * Runs on this workflow version, or on the versions it is the start of (`f409e359c462`, as lists print them): which
   * runs an old version still has in flight. Not indexed: give `workflow` and `status` too, whose index it filters.
   */
  version?: string;
  /**
   * The children of this run: the runs whose `parentId` it is (its child runs, and the runs their continue-as-new
   * chains went on as, which keep the parent). Read on runs_by_parent, whose rows are then sorted: a run's children
   * are few next to the runs of a workflow or a status.
   */
  parentId?: string;
  /** Opaque cursor from a previous page. */
  cursor?: string;
  /** @default 50 */
  limit?: number;
}

export interface RunPage {
  runs: RunRecord[];
  nextCursor?: string;
}

/** What routing did with an inbox event: the runs its triggers started and the runs it reached (waits). */
export interface EventRoutingSummary {
  seq: number;
  started: string[];
  delivered: string[];
}

export interface HumanTaskFilter {
  /** Tasks this username may act on. */
  eligible?: string;
  runId?: string;
  /** A status, or `closed` for every status but `open`. */
  status?: HumanTaskStatus | 'closed';
  /** Opaque cursor from a previous page. */
  cursor?: string;
  /** @default 50 */
  limit?: number;
}

export interface HumanTaskPage {
  tasks: HumanTaskRecord[];
  nextCursor?: string;
}

/** A change to a human task, applied only while its revision is still `expectedRevision`. */
export interface HumanTaskUpdate {
  id: string;
  expectedRevision: number;
  status: HumanTaskStatus;
  decisions: ApprovalDecision[];
  outcome?: HumanTaskOutcome;
  closedAt?: number;
  /** The event that tells the run, stored in the same transaction (insert-or-ignore by key). */
  event?: { event: CloudEvent; dedupeKey: string; receivedAt: number };
}

export interface DefinitionSummary {
  version: string;
  name: string;
  deployedAt: number;
  active: boolean;
}

/**
 * A failed run made to run again from where its last workflow task began: the history from
 * `keepHistoryLength` on (that task, which failed the run) and its log lines go; the run becomes
 * `running` on `version` and unleased, with `pending` in its mailbox and the outstanding work it
 * had at that point open again (calls due at once, timers, waits). It is ready at `at` when it has
 * `pending` or starts over; otherwise what it opened again makes it ready. The forms and approvals
 * its failure cancelled (closed at `expectedUpdatedAt`) are open again, with their decisions.
 */
export interface RunRetry {
  runId: string;
  /** The failed (or stuck) run's history length, which the retry is fenced on. */
  expectedHistoryLength: number;
  /**
   * And its `updatedAt`: a retry shortens the history, so a run retried and failed again may have
   * the same length; the time of its failure tells the two failures apart.
   */
  expectedUpdatedAt: number;
  /**
   * Where the kept history ends: the seq where a workflow task begins (one stored commit), or 0
   * to start the run over. Log lines of the dropped tasks (index ≥ keepHistoryLength × 1000) go too.
   */
  keepHistoryLength: number;
  /** The version the run goes on with: its own, or one whose code replays its kept history. */
  version: string;
  /** The time of the retry: the run's `updatedAt` and when it becomes ready. */
  at: number;
  /** Who asked for it (a web UI user), recorded with the retry. */
  by?: string;
  /** Resolutions put back into the mailbox, in this order. */
  pending: Array<{ resolution: Resolution; at: number; attempts?: number }>;
  /** Calls to execute again (unleased, due at their `nextAt`). */
  calls: CallRecord[];
  timers: TimerRecord[];
  waits: WaitRecord[];
  /**
   * Children whose start the run had been refused (`notStarted`), started again: created as TaskCommit.children are
   * (an id another run took meanwhile refuses the start again, into the run's mailbox).
   */
  children?: NewRun[];
}

/** A run's lease: which node may advance it, and until when (epoch ms). */
export interface RunLease {
  owner: string;
  until: number;
}

/** A node's lease on a call: which node makes it, and until when (epoch ms). */
export interface CallLease {
  owner: string;
  until: number;
}

/** A call as Store.listCalls reads it: with its lease while a node holds one (passed or not: nobody took it over yet). */
export interface StoredCall extends CallRecord {
  lease?: CallLease;
}

/**
 * A call a claim leased (Store.claimDueCalls, reclaimOwnCalls), with the lease it took over when a node held one
 * (it had passed, or it was the claiming node's own from before a restart). The call was due at
 * `max(nextAt, previousLease.until)`.
 */
export interface ClaimedCall extends CallRecord {
  previousLease?: CallLease;
}

/** The answer to `Store.acquireSubscriberLease`. */
export type SubscriberLeaseGrant = { acquired: true; token: number } | { acquired: false; owner: string; until: number };

/** Runs of each workflow that a node is advancing now, by workflow name (Store.claimReadyRuns). */
export type BusyWorkflows = ReadonlyMap<string, number>;

/** What `Store.migrate` did: the schema version before and after. A store without a schema (in memory) says 0 and 0. */
export interface SchemaMigration {
  from: number;
  to: number;
}

/** A run holding a slot of its concurrency group (Store.listGroupSlotHolders). */
export interface GroupSlotHolder {
  id: string;
  workflow: string;
  status: RunStatus;
  /** Asked to cancel: it gives the slot back once its cleanup has run. */
  cancelling: boolean;
}

/**
 * Durable state. Every method is atomic. Implementations: memory (tests of the core), SQLite (the
 * embedded default), PostgreSQL (scale-out). All pass `store/conformance`.
 */
export interface Store {
  readonly kind: string;
  /**
   * Creates or upgrades the schema; safe when several processes call it at once. Says from which schema version to
   * which this call brought it (equal when there was nothing to do; `from` 0 for a new database).
   */
  migrate(): Promise<SchemaMigration>;
  close(): Promise<void>;

  // definitions ---------------------------------------------------------------------------
  /**
   * Stores a definition version (idempotent by version) and makes it the active one for its name, recording when (its
   * `deployedAt`) and, on PostgreSQL, by which node; a redeploy of the version already active keeps both.
   */
  deployDefinition(def: DeployedDefinition): Promise<void>;
  getDefinition(version: string): Promise<DeployedDefinition | undefined>;
  /** The active version of every workflow name, with when (and by which node) it became active. */
  listActiveDefinitions(): Promise<ActiveDefinition[]>;
  /**
   * The workflow `name` has no active version any more: its triggers and schedules stop and new runs of it are
   * refused, while its versions stay for the runs still using them. False when it had none.
   */
  retireDefinition(name: string): Promise<boolean>;
  listDefinitionVersions(name: string): Promise<DefinitionSummary[]>;
  /**
   * Retention: deletes up to `limit` definition versions deployed before `deployedBefore` that are
   * not active and that no run uses. Returns how many it deleted.
   */
  deleteUnusedDefinitions(deployedBefore: number, limit: number): Promise<number>;

  // inbox ---------------------------------------------------------------------------------
  /**
   * Stores an event durably unless one with the same `dedupeKey` exists. Resolves only once the
   * event is on disk. Returns the existing event's seq for a duplicate.
   */
  insertEvent(event: CloudEvent, dedupeKey: string, receivedAt: number): Promise<{ seq: number; duplicate: boolean }>;
  /** Events not yet routed, oldest first. */
  listUnroutedEvents(limit: number): Promise<StoredEvent[]>;
  /**
   * Events of `type` received at or after `since`, oldest first (by `receivedAt`, then `seq`): the
   * lookback of a new wait. With `after`, the page that follows that event.
   */
  listRecentEvents(type: string, since: number, limit: number, after?: { receivedAt: number; seq: number }): Promise<StoredEvent[]>;
  /** Events with a seq above `afterSeq`, in inbox order: the feed of outgoing subscribers. */
  listEventsAfter(afterSeq: number, limit: number): Promise<StoredEvent[]>;
  /** Newest first; for the API and UI. `beforeSeq` pages backwards. */
  listEvents(options: { limit: number; beforeSeq?: number; type?: string }): Promise<StoredEvent[]>;
  getEvent(seq: number): Promise<StoredEvent | undefined>;
  /** The event stored under `dedupeKey`, while retention keeps it. */
  findEvent(dedupeKey: string): Promise<StoredEvent | undefined>;
  /**
   * Retention: deletes routed events received before `receivedBefore`, oldest first. It looks at
   * no more than the `limit` oldest events and stops at the first one received at or after
   * `receivedBefore` or with a seq above `throughSeq` (events arrive in seq order). Unrouted
   * events stay. Returns how many it deleted.
   */
  deleteOldEvents(receivedBefore: number, throughSeq: number, limit: number): Promise<number>;

  // routing -------------------------------------------------------------------------------
  /** The distinct path sets (`WaitRecord.paths`) of the waits parked on `type`. */
  listWaitShapes(type: string): Promise<string[][]>;
  /** Waits on `type` with exactly this correlation key: an index lookup. */
  findWaits(type: string, key: string): Promise<WaitRecord[]>;
  /**
   * Waits whose lookback (the engine's search of the inbox for events that arrived before the wait was registered) is
   * not recorded as done, registered at or before `registeredUntil`, ordered by registration time, run id and step, after
   * `after` in that order, at most `limit`. A node that stopped between registering a wait and its lookback, or a
   * lookback that failed, leaves one: another lookback finds what that one would have (a run gets an event once).
   */
  listWaitsToLookBack(registeredUntil: number, limit: number, after?: WaitRecord): Promise<WaitRecord[]>;
  /** Records the lookback of these waits as done; a wait that is gone (satisfied meanwhile) is left out. */
  markWaitsLookedBack(waits: ReadonlyArray<Pick<WaitRecord, 'runId' | 'step'>>): Promise<void>;
  /**
   * Applies the routing of one event: creates the runs (insert-or-ignore), and for each delivery
   * whose wait row still exists deletes the wait (and its timeout timer), records that the run
   * consumed the event, appends a `wait` resolution carrying the event to the run's pending and
   * makes the run ready. Routing proper (`markRouted`) reaches every listed wait, so that an
   * abandoned branch of a race cannot swallow the event the current wait needs; a lookback
   * (`markRouted: false`) skips runs that consumed the event in an earlier routing, while all the
   * waits of the run that one lookback lists get it. A run never receives the
   * event that started it (`NewRun.triggerEventSeq`). Marks the event routed when `markRouted`.
   */
  routeEvent(routing: EventRouting): Promise<RouteResult>;
  /**
   * `routeEvent` for several events, applied in the order given and in one transaction (all or
   * none): the router routes a burst of webhooks with one commit instead of one each.
   */
  routeEvents(routings: EventRouting[]): Promise<RouteResult[]>;

  // runs ----------------------------------------------------------------------------------
  /**
   * Insert-or-ignore by id. A new run starts ready with status `running`. With `lease`, a new run
   * is also leased to `lease.owner` until `lease.until`, as if that node had claimed it: the node
   * that creates a run can advance it at once, and no other node claims it before the lease ends.
   * An existing run is left as it is, lease included.
   */
  createRun(run: NewRun, lease?: RunLease): Promise<{ created: boolean; run: RunRecord }>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /**
   * Newest first, by creation or (`filter.order: 'updated'`) by when they last changed, then by id; keyset pages: a run
   * that moves in the order while a client pages (a failed run retried and failed again) is neither repeated nor
   * makes another be skipped. ValidationError for a filter or cursor it does not serve.
   */
  listRuns(filter: RunFilter): Promise<RunPage>;
  countRunsByStatus(): Promise<Partial<Record<RunStatus, number>>>;
  /** Runs of concurrency group `group` that hold one of its slots now (`running` or `stuck`). */
  countGroupSlotsTaken(group: string): Promise<number>;
  /** Those runs themselves, oldest first, at most `limit`: what a queued run of the group waits for. */
  listGroupSlotHolders(group: string, limit: number): Promise<GroupSlotHolder[]>;
  /**
   * Retention: deletes up to `limit` runs that ended (a terminal status, `updatedAt`) before
   * `endedBefore`, with their history, logs and human tasks. Returns how many it deleted.
   */
  deleteEndedRuns(endedBefore: number, limit: number): Promise<number>;
  /**
   * Brings a failed or stuck run back to `running` (see RunRetry): only while it is still in that status with
   * `expectedHistoryLength` events and `expectedUpdatedAt`, else returns false and changes nothing. Atomic. A stuck
   * run's retry keeps its whole history and opens nothing (its calls, timers, waits, mailbox and forms stayed as they
   * were), and the run is ready at once.
   */
  retryRun(retry: RunRetry): Promise<boolean>;
  /**
   * The run's retries, oldest first: each applied retryRun records its time, `by`, version, the
   * history length it kept and the error the run had failed with, in the same transaction.
   */
  listRunRetries(runId: string): Promise<RunRetryRecord[]>;
  /**
   * For the events page: for each of these inbox seqs (at most 100), the runs it started — among
   * `runIds`, the ids its triggers would have given (`triggeredRunId`), looked up by primary key —
   * and the runs it was delivered to (known while those runs are running or stuck: a run's
   * consumed events go when it ends). Seqs with neither are left out.
   */
  summarizeRouting(query: { seqs: number[]; runIds: string[] }): Promise<EventRoutingSummary[]>;
  /**
   * Appends a resolution to a run's pending and makes it ready, unless the run is terminal
   * (then returns false). Used for cancellation requests. A run takes one `cancel`: one for a run
   * already asked to cancel (here, or by its parent's cancellation) appends nothing and returns false.
   */
  addPending(runId: string, resolution: Resolution, at: number): Promise<boolean>;
  /** When the run was first asked to cancel (see addPending); undefined when it never was, or does not exist. */
  cancelRequestedAt(runId: string): Promise<number | undefined>;

  // workflow tasks ------------------------------------------------------------------------
  /**
   * Claims up to `limit` ready `running` runs (a stuck run waits for a fix, however much arrives
   * for it) whose lease is free, expired or already `owner`'s, setting
   * the lease to `leaseUntil`. Returns their ids in the queue's order: the workflows take turns, each
   * oldest ready first, a workflow's turns counted after its runs that `owner` is advancing now (`busy`, by
   * workflow name), so that one workflow's backlog cannot hold every slot (store/rules.ts, takeInTurn).
   */
  claimReadyRuns(owner: string, now: number, leaseUntil: number, limit: number, busy?: BusyWorkflows): Promise<string[]>;
  /** Gives a run's lease back so that another node may claim it at once. */
  releaseRun(runId: string, owner: string): Promise<void>;
  /**
   * Leases run `runId` to `owner` until `leaseUntil` whoever holds it, while it is `running` or `stuck` and its
   * history has exactly `expectedHistoryLength` events; false, changing nothing, otherwise. For terminate, which
   * ends a run at once with a commit of its own: the node that was advancing the run can no longer commit (the
   * lease and then the history length fence it), and the terminating node's commit is not refused for a lease
   * another node took and may never hand back.
   */
  seizeRun(runId: string, owner: string, leaseUntil: number, expectedHistoryLength: number): Promise<boolean>;
  /**
   * Heartbeat: extends to `runLeaseUntil` the leases of `runIds` and to `callLeaseUntil` those of
   * `calls` (a call's `due_at` follows), but only those still held by `owner` — a lease another
   * node took over stays theirs. Returns how many runs were renewed, and the calls that were not:
   * another node holds them now, or they are gone (resolved, or their run ended).
   */
  renewLeases(
    owner: string,
    runIds: string[],
    runLeaseUntil: number,
    calls: Array<{ runId: string; step: number }>,
    callLeaseUntil: number,
  ): Promise<{ runs: number; lostCalls: Array<{ runId: string; step: number }> }>;
  /**
   * Graceful shutdown: frees the leases `owner` still holds on `runIds` and on every call (a freed
   * call is due at its next attempt time), so that other nodes take the work over at once instead
   * of after the leases expire.
   */
  releaseLeases(owner: string, runIds: string[]): Promise<void>;
  /**
   * Runs waiting for a workflow task (ready, `running`: leased ones and those whose cancel was requested included),
   * and since when the oldest waits; the same by workflow, in name order (by code unit), for each workflow with
   * ready runs (a workflow whose queue emptied is not listed). The totals are the sum and the earliest of
   * `byWorkflow`. One statement on the SQL stores; it is also the readiness probe's query.
   */
  queueStats(): Promise<{
    readyRuns: number;
    oldestReadyAt: number | undefined;
    byWorkflow: Array<{ workflow: string; readyRuns: number; oldestReadyAt: number }>;
  }>;
  /** From seq `fromSeq` on; at most `limit` events (a page: only the rows that hold them are read). */
  loadHistory(runId: string, fromSeq?: number, limit?: number): Promise<HistoryEvent[]>;
  /** Oldest first. */
  loadPending(runId: string): Promise<PendingResolution[]>;
  /**
   * Applies a task atomically (see TaskCommit). After it, the run is ready exactly when pending
   * resolutions remain that the task did not consume.
   */
  commitTask(commit: TaskCommit): Promise<TaskCommitResult>;

  // calls ---------------------------------------------------------------------------------
  /**
   * Claims calls due at `now` whose lease is free or expired, oldest due first, leasing them to
   * `owner` until `leaseUntil`. A call whose expired lease it takes over counts one attempt more:
   * the node that held it may have started an attempt and stopped before recording it, so the
   * next attempt gets the next number (`attempts` counts every attempt started, lost ones too),
   * and comes back with that lease (`previousLease`).
   */
  claimDueCalls(owner: string, now: number, leaseUntil: number, limit: number): Promise<ClaimedCall[]>;
  /**
   * Claims again, until `leaseUntil`, calls still leased to `owner` whose lease ends before
   * `leaseUntil` and that were due at `now`: a node that restarts under the same id recovers the
   * calls it held at once, instead of when their leases pass. The calls it returns then end their
   * lease at `leaseUntil`, so a caller keeping `leaseUntil` gets each call once. Meant for
   * start-up only: it reads every call due between `now` and `leaseUntil`, every node's leased calls included.
   * Each counts one attempt more, as in claimDueCalls: the attempt the node made before it restarted.
   */
  reclaimOwnCalls(owner: string, now: number, leaseUntil: number, limit: number): Promise<ClaimedCall[]>;
  /**
   * Records a call's outcome: if its row still exists it is deleted, the resolution is appended
   * to the run's pending (with `attempts`) and the run made ready. Returns false when the call was
   * already resolved (by someone else, or the run ended).
   */
  resolveCall(runId: string, step: number, resolution: Resolution, attempts: number, at: number, owner?: string): Promise<boolean>;
  /**
   * After a retryable failure: records the attempt, frees the lease, sets the next attempt time.
   * Returns false, changing nothing, when the call is gone.
   *
   * Fencing (both methods): with `owner`, the write applies only while the call's lease is still
   * `owner`'s, so that a node that stalled past its lease cannot overwrite the work of the node
   * that took the call over; it returns false instead.
   */
  rescheduleCall(runId: string, step: number, attempts: number, nextAt: number, lastError: ErrorInfo, owner?: string): Promise<boolean>;
  /** The run's open calls, by step, each with its lease while a node holds one. */
  listCalls(runId: string): Promise<StoredCall[]>;

  // timers --------------------------------------------------------------------------------
  /** The earliest time at which a timer or an unleased call becomes due; undefined if none. */
  nextDueAt(): Promise<number | undefined>;
  /**
   * Fires timers due at `now` (up to `limit`): deletes each timer row; a `sleep` timer appends a
   * `timer` resolution; a `wait_timeout` timer, if its wait is still there, deletes the wait and
   * appends a `wait` resolution with a null event. Affected runs become ready. Returns their ids.
   */
  fireDueTimers(now: number, limit: number): Promise<string[]>;

  // logs ----------------------------------------------------------------------------------
  listLogs(runId: string, options?: { afterIndex?: number; limit?: number }): Promise<LogRecord[]>;

  // schedules and cursors ------------------------------------------------------------------
  /**
   * A monotonic mark by key: the last tick fired of a schedule (workflow + cron key, epoch ms), or
   * the last inbox seq a subscriber has been sent (`subscriber:<url>`).
   */
  getScheduleTick(scheduleId: string): Promise<number | undefined>;
  /** Records a mark; returns false if `tick` is not newer than the recorded one. */
  advanceScheduleTick(scheduleId: string, tick: number): Promise<boolean>;

  // subscriber leases -----------------------------------------------------------------------
  /**
   * Delivery to an outgoing subscriber is one node's at a time. Grants `owner` the lease on `key`
   * (`subscriber:<url>`, the key of the subscriber's mark) until `until` when nobody holds it, its
   * holder's lease ended by `now`, or `owner` holds it already. Every grant carries a new fencing
   * `token`, above every earlier one of the key, so that whatever an earlier grant attempts
   * afterwards (renew, advance, release) is refused. Refused: who holds it and until when.
   */
  acquireSubscriberLease(key: string, owner: string, now: number, until: number): Promise<SubscriberLeaseGrant>;
  /** Extends grant `token` to `until`; false, changing nothing, once another grant replaced it or it was released. */
  renewSubscriberLease(key: string, token: number, until: number): Promise<boolean>;
  /** Hands grant `token` back: anyone may take the lease at once. Nothing when another grant replaced it. */
  releaseSubscriberLease(key: string, token: number): Promise<void>;
  /**
   * Moves the subscriber's mark (`getScheduleTick(key)`, created when absent) to `seq`, fenced: only
   * while grant `token` holds the lease and `seq` is above the mark. False, changing nothing, otherwise.
   */
  advanceSubscriberMark(key: string, token: number, seq: number): Promise<boolean>;

  // human tasks ---------------------------------------------------------------------------
  /** Insert-or-ignore by id (a retried creation returns the stored task, `created: false`). */
  createHumanTask(task: HumanTaskRecord): Promise<{ created: boolean; task: HumanTaskRecord }>;
  getHumanTask(id: string): Promise<HumanTaskRecord | undefined>;
  /** Newest first; indexed by eligible username, run and status. */
  listHumanTasks(filter: HumanTaskFilter): Promise<HumanTaskPage>;
  /**
   * Compare-and-set on the task's revision: applies the update (revision + 1) and stores its event
   * atomically. Returns false, changing nothing, when the revision moved on.
   * (A terminal TaskCommit of a run also cancels the run's open tasks: see `commitTask`.)
   */
  updateHumanTask(update: HumanTaskUpdate): Promise<boolean>;

  // API tokens ----------------------------------------------------------------------------
  /**
   * Stores the hash of the first API token, atomically: true when it did; false, storing nothing, when a token is
   * stored already (another server starting on the same database made the first one at the same moment).
   */
  addFirstApiToken(hash: string, name: string, createdAt: number): Promise<boolean>;
  hasApiToken(hash: string): Promise<boolean>;
  countApiTokens(): Promise<number>;
  /** Stores the hash of a new API token in place of every stored one, atomically (`autoflow token rotate`); how many it replaced. */
  replaceApiTokens(hash: string, name: string, createdAt: number): Promise<number>;

  // web UI sessions -----------------------------------------------------------------------
  /** Refuses the session `id` until `until` (its expiry); deletes the revocations expired by `now`. */
  revokeSession(id: string, until: number, now: number): Promise<void>;
  /** Whether the session `id` was revoked and has not expired by `now`. */
  isSessionRevoked(id: string, now: number): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Sandbox
// ---------------------------------------------------------------------------------------------

export interface InstanceOptions {
  runId: string;
  /** Seeds `Math.random` for the run. */
  seed: string;
  /** @default 64 MiB */
  memoryLimitBytes?: number;
  /** CPU deadline of one activation. @default 1000 */
  cpuMsPerActivation?: number;
}

/**
 * A live workflow run inside the sandbox. It may live on another thread, so activations answer
 * with promises; each instance is activated by one caller at a time.
 */
export interface WorkflowInstance {
  /**
   * Delivers the activation, runs the workflow until every pending promise waits on something
   * outside, and returns the commands it issued. Rejects with SandboxLimitError when a limit is
   * hit; the instance is unusable afterwards.
   */
  activate(activation: Activation): Promise<ActivationResult>;
  /**
   * Replays recorded workflow tasks in one go: activates each in turn and answers with the results
   * up to the first activation that threw, and what it threw. The caller compares the results with
   * history; an error after a divergence is only a consequence of it.
   */
  replay(activations: Activation[]): Promise<ReplayResults>;
  /** Heap bytes the instance uses (for the cache and metrics), as of its last activation. */
  memoryUsage(): number;
  dispose(): void;
}

export interface ReplayResults {
  results: ActivationResult[];
  /** What the activation after the last result threw, if one did. */
  failure?: Error;
}

export type InputCheck = { ok: true } | { ok: false; issues: string[] };

export interface Sandbox {
  /** Evaluates a bundle and reads its `workflow({...})` declaration. Throws DefinitionError. */
  inspect(bundle: string, options?: { sourceMap?: string; origin?: string }): WorkflowManifest;
  /** Runs the definition's own input validator (when `manifest.validatesInput`). */
  checkInput(definition: DeployedDefinition, input: Json): InputCheck;
  /** A fresh instance with the bundle loaded and initialised; rejects like `activate` on limits. */
  createInstance(definition: DeployedDefinition, options: InstanceOptions): Promise<WorkflowInstance>;
  /** Releases what the sandbox holds beyond its instances (threads). */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Clock
// ---------------------------------------------------------------------------------------------

export interface Clock {
  now(): number;
  /**
   * Calls `callback` once the clock reaches `at` — never synchronously inside `schedule`, even when
   * `at` has passed. Returns a cancel function. A real clock's timers do not keep the process
   * alive, unless `keepAlive` (a stop that must finish its work).
   */
  schedule(at: number, callback: () => void, options?: { keepAlive?: boolean }): () => void;
}

// ---------------------------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------------------------

export interface CapabilityContext {
  runId: string;
  step: number;
  /** 1 for the first attempt. */
  attempt: number;
  /**
   * An earlier attempt of this call may have had its effect: this is not its first attempt, or it failed before its
   * run was retried (`autoflow retry`), which made it again with its attempts counted from 0. A capability whose
   * effect must not happen twice looks for it first (the gitlab capability's creates).
   */
  attemptedBefore?: boolean;
  /** `<runId>:<step>`: the same for every attempt of one call. */
  idempotencyKey: string;
  workflow: string;
  permissions: Permissions;
  /** The time of the attempt (engine clock). */
  now: number;
  /**
   * Aborts when the attempt's result is no longer wanted: its run ended, its lease passed to
   * another node, the server is stopping and its grace for calls passed, or the call's `timeoutMs`
   * passed. A capability should stop its work then; what it returns afterwards is discarded.
   */
  signal: AbortSignal;
}

/**
 * The host side of calls. Throw CapabilityError (retryable or not) or PermissionDeniedError;
 * any other error is treated as retryable.
 */
export interface Capability {
  readonly name: string;
  /**
   * Set by a capability that stores or publishes its arguments instead of using them (`emit`,
   * human tasks): it gets secrets as their `{{secret:NAME}}` references, never as values.
   */
  readonly storesArguments?: boolean;
  invoke(method: string, args: Json, context: CapabilityContext): Promise<Json>;
}

// ---------------------------------------------------------------------------------------------
// Secrets and logging
// ---------------------------------------------------------------------------------------------

/** Secret values by name, as the operator configured them. */
export interface SecretSource {
  get(name: string): string | undefined;
  /** Every configured value, so that it can be scrubbed from what is stored or logged. */
  values(): Array<{ name: string; value: string }>;
  /**
   * SHA-256 (hex) of text that holds a secret's value, for what must be matched but not stored as it is: the key of a
   * wait on a secret (correlation.ts). The core computes no digest itself.
   */
  fingerprint(text: string): string;
}

export interface Logger {
  debug(data: object, message?: string): void;
  info(data: object, message?: string): void;
  warn(data: object, message?: string): void;
  error(data: object, message?: string): void;
  child(bindings: object): Logger;
}
