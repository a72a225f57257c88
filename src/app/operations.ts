/**
 * The operations that the CLI and the HTTP API share. Neither edge talks to the store directly;
 * both call these. Errors are the typed errors of core/errors.ts (NotFoundError, ValidationError…);
 * only the HTTP layer maps them to status codes.
 */
import type {
  CloudEvent,
  ConcurrencySpec,
  ErrorInfo,
  HistoryEvent,
  Json,
  LogRecord,
  Permissions,
  RunConcurrency,
  RunStatus,
  StoredEvent,
  TriggerSpec,
} from '../core/model.js';
import type { EventRoutingSummary, GroupSlotHolder } from '../core/ports.js';
import type { ApprovalDecision, HumanTaskKind, HumanTaskOutcome, HumanTaskStatus } from '../core/human-task.js';

/** How many of the runs holding a queued run's slots its description names. */
export const HELD_BY_SHOWN = 10;

export interface RunView {
  id: string;
  workflow: string;
  version: string;
  status: RunStatus;
  input: Json;
  result?: Json;
  error?: ErrorInfo;
  parentId?: string;
  /** The run this one continues (`continueAsNew`); on a run read on its own (getRun, waitForRun), not in lists. */
  continuedFrom?: string;
  /** The run a `continued` run went on as. */
  continuedAs?: string;
  /**
   * The concurrency group the run is in (`workflow({ concurrency })`): a `queued` run waits for one of its slots. For a
   * queued run that getRun describes, `heldBy`: the runs holding the slots, oldest first (the first HELD_BY_SHOWN).
   */
  concurrency?: RunConcurrency & { heldBy?: GroupSlotHolder[] };
  /** ISO 8601 */
  createdAt: string;
  /** ISO 8601 */
  updatedAt: string;
}

export interface WorkflowView {
  name: string;
  version: string;
  description?: string;
  triggers: TriggerSpec[];
  permissions: Permissions;
  inputSchema?: Json;
  /** `workflow({ concurrency })` as declared, its `limit` filled in. */
  concurrency?: ConcurrencySpec;
  origin?: string;
  /** When this version was first stored (ISO 8601); a version made active again keeps it: see `activatedAt`. */
  deployedAt: string;
  /**
   * When this version became the active one (ISO 8601), and by which node (PostgreSQL): a rollback to an old version
   * (an old node's restart, a revert) shows here. Absent for an activation from before AutoFlow recorded them.
   */
  activatedAt?: string;
  activatedBy?: string;
  versions: Array<{ version: string; deployedAt: string; active: boolean }>;
  /**
   * The files declaring this workflow that failed to build at this server's latest deploy: the version above stays
   * active (runs start on it, `retry --latest` takes it) until they build. Absent when there are none.
   */
  problems?: DeployProblemView[];
  /** Its cron triggers, in order, each with the next time it fires (ISO 8601; null: never again). Absent without one. */
  schedules?: Array<{ cron: string; timezone: string; next: string | null }>;
}

/**
 * A workflow file that failed to build at this server's latest deploy of its folder (dev mode's redeploy on a change,
 * or its start), and why. Kept in the server's memory: each server reports its own deploys; after a restart, the
 * start's deploy finds the file again (and `since` is that start).
 */
export interface DeployProblemView {
  /** The file's name in the workflows folder. */
  file: string;
  /** The workflow it declared when it last built; absent when not known (a new file that never built). */
  workflow?: string;
  /** Why: the bundler's or the declaration's errors, each with its `file:line:column`. Several lines. */
  message: string;
  /** ISO 8601: when it first failed; it failed at every deploy since. */
  since: string;
}

/** A retried run, and what the person who asked should know: the retry happened all the same. */
export interface RetriedRunView extends RunView {
  /** Such as: `--latest` took the active version while the workflow's file fails to build (not the code on disk). */
  warnings?: string[];
}

export interface StartRunRequest {
  workflow: string;
  input?: Json;
  /** Idempotency key: the same id again returns the existing run. */
  id?: string;
}

export interface ListRunsQuery {
  workflow?: string;
  status?: RunStatus;
  /** Created at or after (epoch ms). */
  createdFrom?: number;
  /** Created before (epoch ms). */
  createdBefore?: number;
  /**
   * Newest first by creation, or (`updated`) by when runs last changed: with a status of runs that no longer
   * advance (completed, failed, cancelled, continued, stuck), when they ended. See RunFilter.order.
   * @default 'created'
   */
  order?: 'created' | 'updated';
  /** With `order: 'updated'`: changed (ended) at or after (epoch ms). */
  updatedFrom?: number;
  /** Started by an event about this GitLab reference (`demo/app#42`), see RunFilter.subject. */
  subject?: string;
  /** On this workflow version or the versions it is the start of (see RunFilter.version). */
  version?: string;
  /** The children of this run: the runs whose `parentId` it is (see RunFilter.parentId). */
  parentId?: string;
  cursor?: string;
  /** @default 50, at most 500 */
  limit?: number;
}

/** A form or approval a run waits for, as the API and UI show it. */
export interface TaskView {
  id: string;
  runId: string;
  workflow: string;
  kind: HumanTaskKind;
  title: string;
  status: HumanTaskStatus;
  /** The FormSpec or ApprovalSpec (see core/human-task.ts). */
  spec: Json;
  /** Usernames that may act on it. */
  eligible: string[];
  decisions: ApprovalDecision[];
  outcome?: HumanTaskOutcome;
  /** Path of its page in the web UI: `/tasks/<id>`. */
  path: string;
  /** ISO 8601 */
  createdAt: string;
  dueAt?: string;
  /**
   * Open, but its deadline passed: it takes no more answers, and closes as `timed_out` when its run next looks at it
   * (a run busy elsewhere may do so later).
   */
  overdue?: true;
  closedAt?: string;
}

/** A call of a run not resolved yet: in flight, or waiting for its next attempt after a failure. */
export interface CallView {
  step: number;
  capability: string;
  method: string;
  /** Attempts made so far. */
  attempts: number;
  /** ISO 8601: when the next attempt is due. */
  nextAt: string;
  lastError?: ErrorInfo;
  /**
   * While a node holds the call (it is making it): which node (its lease identity), until when (ISO 8601), and
   * whether that time had passed when this was read: then the node stopped or stalled, and another node takes the
   * call over (as soon as one claims it: within a second, usually).
   */
  lease?: CallLeaseView;
}

/** Who holds a call (CallView.lease). */
export interface CallLeaseView {
  node: string;
  /** ISO 8601 */
  until: string;
  passed: boolean;
}

/** A retry of a failed run (RunRetryRecord), for the API. */
export interface RetryView {
  /** ISO 8601 */
  at: string;
  /** The web UI user who asked; absent for the API and the CLI. */
  by?: string;
  version: string;
  /** The history events the run went on from (0: it started over). */
  keptHistoryLength: number;
  /** The error the run had failed or got stuck with. */
  previousError?: ErrorInfo;
}

/** The answer to a cancel: the run, and whether it had been asked to cancel before (a second request changes nothing). */
export interface CancelView extends RunView {
  alreadyRequested?: true;
}

export interface HistoryPage {
  events: HistoryEvent[];
  next?: number;
}

/** Events in a page of `GET /runs/:id/history`, unless the request asks for fewer, and at most. */
export const DEFAULT_HISTORY_PAGE = 1000;
export const MAX_HISTORY_PAGE = 10_000;
/**
 * A page also ends before the event that would take its JSON past this many characters (it always has one event):
 * one event may carry 2 MiB (a value's limit), and 1,000 such events made a 228 MB answer that held the server for 30 s.
 */
export const HISTORY_PAGE_CHARS = 4 * 1024 * 1024;

/**
 * Where a signal went: the run it was sent to, or the run that run's continue-as-new chain goes on in. `duplicate`: a
 * signal with the same idempotency key was sent before, and this is where that one went (nothing was sent again).
 */
export interface SignalDelivery {
  runId: string;
  duplicate: boolean;
}

/** Who sent a signal and under which key (`Idempotency-Key`), for `Operations.signalRun`. */
export interface SignalOptions {
  /** The person who sent it (the web UI's user); its event then comes from `autoflow:user/<by>`. */
  by?: string;
  /** The workflow whose run sent it (`sendSignal`); its event then comes from `autoflow:workflow/<name>`. */
  fromWorkflow?: string;
  /** The client's key for this signal: a signal sent again with it is not delivered twice. */
  idempotencyKey?: string;
}

/** What `Operations.watch` reports. */
export type LiveChange =
  | { kind: 'run'; runId: string; status: RunStatus; finished: boolean }
  | { kind: 'event'; seq: number; createdRunIds: string[]; deliveredRunIds: string[] };

export interface ListTasksQuery {
  /** Tasks this username may act on (the "my tasks" inbox). */
  assignee?: string;
  runId?: string;
  status?: HumanTaskStatus | 'closed';
  cursor?: string;
  /** @default 50, at most 500 */
  limit?: number;
}

/** Log lines per page of `Operations.getLogs`. */
export const LOG_PAGE_LINES = 1000;

/** A page of a run's log lines (`Operations.getLogs`). */
export interface LogPage {
  logs: LogRecord[];
  /** The `afterIndex` of the next page; absent on the last one. */
  next?: number;
}

/** The page of `lines`, read with one line more than LOG_PAGE_LINES to tell whether another page follows. */
export function logPageOf(lines: readonly LogRecord[]): LogPage {
  if (lines.length <= LOG_PAGE_LINES) return { logs: [...lines] };
  const logs = lines.slice(0, LOG_PAGE_LINES);
  return { logs, next: logs.at(-1)!.index };
}

export interface Operations {
  /** Starts a run, or returns the existing one when `id` is taken (`created: false`). */
  startRun(request: StartRunRequest): Promise<{ run: RunView; created: boolean }>;
  /** Throws NotFoundError. */
  getRun(id: string): Promise<RunView>;
  /** Resolves when the run is no longer `running`, or after `timeoutMs` with its current state. */
  waitForRun(id: string, timeoutMs: number): Promise<RunView>;
  listRuns(query: ListRunsQuery): Promise<{ runs: RunView[]; nextCursor?: string }>;
  /** Runs by status, for the overview. */
  countRuns(): Promise<Partial<Record<RunStatus, number>>>;
  /** The whole history: for pages of a history of any length, getHistoryPage. */
  getHistory(id: string): Promise<HistoryEvent[]>;
  /**
   * The events after seq `after` (from the first when absent), at most `limit` (1000 by default, 10,000 at
   * most) and HISTORY_PAGE_CHARS of JSON (at least one event); `next` is the `after` of the next page, absent on the
   * last one.
   */
  getHistoryPage(id: string, page?: { after?: number | undefined; limit?: number | undefined }): Promise<HistoryPage>;
  /**
   * The latest `count` events of the history (only those are read), fewer past HISTORY_PAGE_CHARS of JSON, and how
   * many events it has in all.
   */
  getHistoryTail(id: string, count: number): Promise<{ events: HistoryEvent[]; length: number }>;
  /**
   * The run's log lines after index `afterIndex` (from the first when absent), at most LOG_PAGE_LINES; `next` is the
   * `afterIndex` of the next page, absent on the last one.
   */
  getLogs(id: string, afterIndex?: number): Promise<LogPage>;
  /** The run's calls not resolved yet. Throws NotFoundError. */
  listCalls(id: string): Promise<CallView[]>;
  /**
   * Makes a call that failed and waits for its next attempt try again now instead of after its
   * back-off. ConflictError when the call is not waiting for a retry (resolved, or never failed).
   */
  retryCall(id: string, step: number): Promise<void>;
  /**
   * Requests cancellation; the workflow's `finally` blocks run. A run that continued as new is cancelled in the run
   * its chain goes on in, whose view is the answer. Throws ConflictError if that run already ended. A run
   * asked before is answered with `alreadyRequested: true`, and nothing is recorded again.
   * `by`: the person who asked (the web UI's user), recorded in the run's history.
   */
  cancelRun(id: string, reason?: string, by?: string): Promise<CancelView>;
  /**
   * Ends a running or stuck run at once as `cancelled`, without running its code or its cleanup (operations-terminate.ts):
   * for a run a cancel cannot end, whose `finally` blocks wait. Follows a continue-as-new chain as cancelRun does, and
   * answers with the run it ended. ConflictError when that run already ended. `by`: the web UI's user; the history
   * records who terminated it and why.
   */
  terminateRun(id: string, reason?: string, by?: string): Promise<RunView>;
  /**
   * Runs a failed run again from the workflow task that failed it: what it did before is kept
   * (calls that succeeded are not made again), failed calls run again. On its own version, or
   * with `latest` on the active version, whose code must replay the run's history (warned of when the workflow's file
   * fails to build: the active version is then not the code on disk). ConflictError
   * when the run is not failed or cannot be retried; NotFoundError. `by`: the web UI user who asked,
   * recorded with the retry (listRetries). `dryRun`: the same checks and answer (the run as it would go on), and
   * nothing retried.
   */
  retryRun(id: string, options?: { latest?: boolean; by?: string; dryRun?: boolean }): Promise<RetriedRunView>;
  /** The run's retries, oldest first: when, by whom, on which version, and the failure each answered. Throws NotFoundError. */
  listRetries(id: string): Promise<RetryView[]>;
  /**
   * Delivers `autoflow.signal.<name>` to the run, or, when it continued as new, to the run its chain goes on in
   * (the id stays the workflow's address, as in Temporal); says which run that was. ConflictError when that run
   * has ended. With an idempotency key that was used before for this run and name, nothing is sent: the earlier
   * delivery is the answer (even once its run has ended), or ConflictError when that signal carried another payload.
   * `payload` undefined: a signal sent without any (its `signal()` returns `true`), which `null` is not.
   */
  signalRun(id: string, name: string, payload: Json | undefined, options?: SignalOptions): Promise<SignalDelivery>;
  listWorkflows(): Promise<WorkflowView[]>;
  /** The workflow files that failed to build at this server's latest deploy (in its memory), those of no deployed workflow too. */
  listDeployProblems(): Promise<DeployProblemView[]>;
  /** Retires a workflow: no new runs, its triggers and schedules stop; its runs in flight finish. NotFound when not deployed. */
  retireWorkflow(name: string): Promise<void>;
  /**
   * Which configured webhook source `X-Gitlab-Token` belongs to (its name); UnauthorizedError when
   * none. The HTTP route asks it before reading a body of up to 25 MB.
   */
  webhookSourceOf(headers: Readonly<Record<string, string | undefined>>): string;
  /**
   * A GitLab webhook delivery: checks its `X-Gitlab-Token` against the configured sources
   * (UnauthorizedError), normalises it to a CloudEvent (ValidationError for a malformed body) and
   * stores it durably before resolving. A redelivery (same Idempotency-Key) is a duplicate.
   */
  ingestGitLabWebhook(delivery: { headers: Readonly<Record<string, string | undefined>>; body: string }): Promise<{
    seq: number;
    duplicate: boolean;
    /** The stored event's type (a duplicate's too). */
    type: string;
    /** A duplicate whose body is not the stored one's: its key was reused for another payload. */
    bodyDiffers?: boolean;
  }>;
  /** Stores a CloudEvent durably (resolves once on disk), then routes it. */
  /**
   * Stores a CloudEvent. A redelivery (same source and id) is `duplicate`; `bodyDiffers` when its type or body
   * differ from the stored one's (`storedType`), which the sender should hear of: it reused an id.
   */
  ingestEvent(event: CloudEvent): Promise<{ seq: number; duplicate: boolean; bodyDiffers?: boolean; storedType?: string }>;
  listEvents(options: { limit?: number; beforeSeq?: number; type?: string }): Promise<StoredEvent[]>;
  /** What routing did with these inbox events (at most 100): runs started, runs still running that it reached. */
  eventRouting(events: StoredEvent[]): Promise<EventRoutingSummary[]>;
  listTasks(query: ListTasksQuery): Promise<{ tasks: TaskView[]; nextCursor?: string }>;
  /** Throws NotFoundError. */
  getTask(id: string): Promise<TaskView>;
  /**
   * Submits a form as `by` (a signed-in username). ForbiddenError unless `by` is eligible;
   * ConflictError when the task is closed (a replayed post); ValidationError whose `details.fields`
   * maps field names to messages when a value is invalid — nothing is recorded then.
   */
  submitTask(id: string, submission: { by: string; values: Record<string, Json> }): Promise<TaskView>;
  /**
   * Records an approver's decision. ForbiddenError unless `by` is an approver (and, without
   * `allowSelfApproval`, not the initiator); ConflictError when closed or `by` already decided.
   * The task closes `approved` once `required` approvals are in, `rejected` at the first rejection.
   */
  decideTask(id: string, decision: { by: string; decision: 'approve' | 'reject'; comment?: string }): Promise<TaskView>;
  /**
   * Calls `listener` whenever a run changed (a step committed, it finished) or an inbox event was
   * routed; returns the function that stops it. Live pages (server-sent events) are built on it.
   */
  watch(listener: (change: LiveChange) => void): () => void;
  /** Checks that the API token is valid. */
  authenticate(token: string): Promise<boolean>;
  /** Web UI sign-out: the session `id` is refused by every server until `until`, its expiry. */
  revokeSession(id: string, until: number): Promise<void>;
  isSessionRevoked(id: string): Promise<boolean>;
  health(): Promise<{ ok: boolean; store: string; workflows: number }>;
}
