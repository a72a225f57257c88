/**
 * The engine's vocabulary: events, definitions, runs, the commands a workflow issues and the
 * resolutions it receives, and the history that records both. Plain data only — everything here is
 * JSON-serialisable so that it can be stored, sent over HTTP and carried across the sandbox boundary.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A CloudEvents 1.0 event in structured mode. Every outside happening enters the engine as one. */
export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject?: string;
  time?: string;
  datacontenttype?: string;
  data?: Json;
}

/** An event once it is in the durable inbox. `seq` orders the inbox; `receivedAt` is epoch ms. */
export interface StoredEvent extends CloudEvent {
  seq: number;
  receivedAt: number;
}

/** An error as it travels across the sandbox boundary and into history: matched by `name`. */
export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
  details?: Json;
  /**
   * What it was caused by (`new Error(message, { cause })`), without a stack; at most MAX_CAUSE_DEPTH deep (core/errors.ts).
   * Except what a parent receives for a failed child (child-failure.ts): the child's error, whole, stack and all.
   */
  cause?: ErrorInfo;
}

// ---------------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------------

/**
 * A declarative filter over an event: field path → condition, all of which must hold. Paths are
 * dotted; a path whose first segment is a CloudEvent attribute (`id`, `source`, `type`, `subject`,
 * `time`, `data`) is resolved against the event, any other path against `event.data`. A plain value
 * means `{ equals: value }`; an object is always an operator, so that a misspelt one (`{ inn: [...] }`)
 * is refused at deploy instead of being compared as a value. The semantics are in README.md
 * ("Trigger filters") and core/filter.ts.
 */
export type FilterCondition =
  | null
  | boolean
  | number
  | string
  | Json[]
  | { equals: Json }
  | { in: Json[] }
  | { exists: boolean }
  | { glob: string }
  | { not: FilterCondition };
export type Filter = Record<string, FilterCondition>;

export type TriggerSpec =
  | {
      event: string;
      filter?: Filter;
      /**
       * Paths into the event, read as `filter` and `match` read them (`subject`, or GitLab's
       * `checkout_sha`), whose values name the run the trigger starts instead of the event's id: the
       * events that agree on them start one run, as a redelivery does. For one occurrence delivered as
       * several events — a push sent by a project hook and by a group hook, each delivery with an id of
       * its own. An event that lacks one of the paths starts the run its id names.
       */
      runKey?: string[];
      /**
       * Start runs for the events AutoFlow caused itself too: those whose actor is its own GitLab account (the user of
       * its token; the built-in simulator's bot). Without it such an event starts no run, so that a workflow that edits
       * what triggered it does not trigger itself without end; with it, the filter must stop the loop (a label the
       * edit adds, say). Waits receive these events either way.
       * @default false
       */
      includeOwnEvents?: boolean;
    }
  | { cron: string; timezone?: string; input?: Json };

export interface GitLabPermissions {
  /**
   * Project paths or globs (`acme/app`, `acme/*`), or numeric ids as strings. A `*` matches across
   * `/`, so `acme/*` also grants the projects of acme's subgroups; paths compare case-insensitively.
   */
  projects?: string[];
  groups?: string[];
  /** `read` allows only GET; `write` allows everything. @default 'write' */
  access?: 'read' | 'write';
}

export interface Permissions {
  /** URL prefixes that `http.request` may reach. */
  http?: string[];
  /** Secret names that `secrets.get` may read. */
  secrets?: string[];
  /** Names of operator-registered custom activities the workflow may call. */
  activities?: string[];
  /** Workflows whose runs `sendSignal` may signal. */
  signals?: string[];
  gitlab?: GitLabPermissions;
  kubernetes?: KubernetesPermissions;
}

/** What the `kubernetes` capability may reach: a request needs its namespace and its kind granted. */
export interface KubernetesPermissions {
  /** Namespaces or globs (`flux-system`, `apps-*`). */
  namespaces?: string[];
  /** Kinds as Kubernetes names them (`Kustomization`, `GitRepository`, `OCIRepository`, `Pod`, `Event`), or globs. */
  kinds?: string[];
  /** `read` allows no patch. @default 'write' */
  access?: 'read' | 'write';
}

/** What the host knows of a definition without running it: extracted from the bundle at deploy. */
export interface WorkflowManifest {
  name: string;
  description?: string;
  triggers: TriggerSpec[];
  permissions: Permissions;
  /** JSON Schema of the input when the author gave one (JSON Schema directly, or converted from zod). */
  inputSchema?: JsonObject;
  /** True when the input schema can only be checked inside the sandbox (a validator object). */
  validatesInput: boolean;
  /** How many of its runs may run at once (`workflow({ concurrency })`, core/concurrency.ts); no limit when absent. */
  concurrency?: ConcurrencySpec;
}

/** A workflow's concurrency limit, as declared (`limit` defaulted to 1). */
export interface ConcurrencySpec {
  /** Runs of one group that may be `running` (or `stuck`) at once; the others wait, `queued`, oldest first. */
  limit: number;
  /** A dot path into the run's input whose value splits the runs into groups (`environment`, `data.project.id`). */
  key?: string;
  /** The group's name, to share its slots with other workflows that declare it too; the workflow's name by default. */
  group?: string;
  /** `'latest'`: a run that queues cancels the runs of its group queued before it (absent: every run waits its turn). */
  queue?: 'latest';
  /**
   * The newest `limit` runs of a group run: a new run asks the oldest of the others, running or queued, to cancel (their
   * `finally` blocks run), as many as it takes (supersededByNewest of store/rules.ts). GitHub Actions' `cancel-in-progress`;
   * never with `queue`.
   */
  cancelInProgress?: true;
}

export interface DeployedDefinition {
  /** sha256 (hex) of bundle + manifest. */
  version: string;
  name: string;
  manifest: WorkflowManifest;
  /** The sandbox script (esbuild output). */
  bundle: string;
  /** Source map of the bundle, so that errors name the author's file and line. */
  sourceMap?: string;
  /** Where the definition came from (file path), for messages. */
  origin?: string;
  /** Epoch ms: when this version was first stored (a version deployed again keeps it). */
  deployedAt: number;
}

/** A version as the active one of its workflow (Store.listActiveDefinitions): when, and by whom, it became active. */
export interface ActiveDefinition extends DeployedDefinition {
  /** Epoch ms: the deploy that made it active (unknown for one activated before the store recorded it). */
  activatedAt?: number;
  /** The node whose deploy made it active (its lease identity), where the store knows nodes apart (PostgreSQL). */
  activatedBy?: string;
}

// ---------------------------------------------------------------------------------------------
// Commands (sandbox → engine) and resolutions (engine → sandbox)
// ---------------------------------------------------------------------------------------------

/** Retry policy of a call. Intervals in ms. */
export interface RetryPolicy {
  /** Attempts in all, the first included. @default 10 */
  maxAttempts?: number;
  /** @default 1000 */
  initialInterval?: number;
  /** @default 2 */
  backoffCoefficient?: number;
  /** @default 300000 */
  maxInterval?: number;
}

export interface CallOptions {
  retry?: RetryPolicy;
  /**
   * How long one attempt may take, in ms. After that its capability's signal aborts and the attempt
   * fails with `details.code` `'timeout'`, to be retried like any other failure. @default no limit
   * (HTTP and GitLab requests have their own, 30 s)
   */
  timeoutMs?: number;
}

/**
 * Each durable operation gets a `step` number in the order the workflow issues it (before any
 * await), which is what replay compares. `site` is the call site in the author's source
 * (`file.ts:12:5`) when the sandbox can tell.
 */
export type Command =
  | {
      kind: 'call';
      step: number;
      capability: string;
      method: string;
      args: Json;
      options?: CallOptions;
      site?: string;
    }
  /** `timeout`: the run's own timeout (`workflow({ timeout })`), which a retry arms again; other timers are sleeps. */
  | { kind: 'timer'; step: number; fireAt: number; site?: string; timeout?: true }
  | {
      kind: 'wait';
      step: number;
      eventType: string;
      match: Record<string, Json>;
      /** Absolute epoch ms; absent = wait forever. */
      timeoutAt?: number;
      site?: string;
    }
  | { kind: 'child'; step: number; workflow: string; input: Json; childId: string; site?: string }
  | { kind: 'patch'; patchId: string; site?: string }
  | { kind: 'log'; level: LogLevel; message: string }
  | { kind: 'complete'; result: Json }
  | { kind: 'fail'; error: ErrorInfo }
  /**
   * `children`: ids of child runs still running when the cancellation arrived; they are cancelled too. SDKs
   * since `cancelChild` ask them in the task that delivers the cancel instead, and leave this out.
   */
  /** `cause`: only from the host, which ends a stuck run without its code: what had made it stuck. */
  | { kind: 'cancelled'; reason?: string; children?: string[]; cause?: ErrorInfo }
  /**
   * Asks a child run of this run to cancel (`ChildHandle.cancel()`, or the run's own cancellation reaching
   * its children), in this task's commit. Not a durable step: it records no history and waits for nothing;
   * the child's end reaches the parent as any child's does. The store cancels only this run's children.
   */
  | { kind: 'cancelChild'; childId: string; reason: string }
  /**
   * `carry`: the signals the run received and its code never took (their source and id, in the order
   * it would have taken them); they go to the successor (TaskCommit.carrySignals).
   */
  | { kind: 'continueAsNew'; input: Json; carry?: EventIdentity[] };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Resolution =
  | { kind: 'call'; step: number; ok: true; value: Json }
  | { kind: 'call'; step: number; ok: false; error: ErrorInfo }
  | { kind: 'timer'; step: number }
  /** `event` is null when the wait timed out. */
  | { kind: 'wait'; step: number; event: CloudEvent | null }
  | { kind: 'child'; step: number; ok: true; value: Json }
  /** `notStarted`: the start was refused (not deployed, input or id refused, id taken): no child run was created. */
  | { kind: 'child'; step: number; ok: false; error: ErrorInfo; notStarted?: true }
  /** `by`: who asked, when a person did (the web UI's signed-in user). */
  | { kind: 'cancel'; reason?: string; by?: string };

/** One workflow task's input to a sandboxed instance. */
export interface Activation {
  /** The time of this workflow task (epoch ms): what `Date.now()` and `now()` return inside. */
  time: number;
  /** Present on the first activation only. */
  start?: { input: Json };
  resolutions: Resolution[];
  /** True while re-executing a task already in history: logs are suppressed, `patched` answers from history. */
  replaying: boolean;
  /** While replaying: the patch ids recorded for this task. */
  patches?: string[];
}

export interface ActivationResult {
  commands: Command[];
}

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

/**
 * The append-only record of a run. It is grouped into workflow tasks: the resolutions a task
 * consumed come first, then a `workflow_task` marker with the task's time, then the commands the
 * task produced. Replay walks it in that order.
 */
export type HistoryPayload =
  | { type: 'run_started'; workflow: string; version: string; input: Json; parentId?: string }
  | { type: 'call_completed'; step: number; value: Json; attempts: number }
  | { type: 'call_failed'; step: number; error: ErrorInfo; attempts: number }
  | { type: 'timer_fired'; step: number }
  | { type: 'wait_satisfied'; step: number; event: CloudEvent }
  | { type: 'wait_timed_out'; step: number }
  | { type: 'child_completed'; step: number; value: Json }
  /** `notStarted`: the start was refused; a retry of the run starts the child again (docs/engine.md). */
  | { type: 'child_failed'; step: number; error: ErrorInfo; notStarted?: true }
  | { type: 'cancel_requested'; reason?: string; by?: string }
  /**
   * `withoutCode`: a task the server wrote without running the run's code, which ended the run (a terminate, the
   * cancel of a stuck run, a run whose version is missing); a replay stops before it.
   */
  | { type: 'workflow_task'; time: number; withoutCode?: true }
  | {
      type: 'call_scheduled';
      step: number;
      capability: string;
      method: string;
      args: Json;
      site?: string;
    }
  | { type: 'timer_started'; step: number; fireAt: number; site?: string; timeout?: true }
  | {
      type: 'wait_started';
      step: number;
      eventType: string;
      match: Record<string, Json>;
      timeoutAt?: number;
      site?: string;
    }
  | { type: 'child_started'; step: number; childId: string; workflow: string; site?: string }
  | { type: 'patch_marker'; patchId: string; site?: string }
  | { type: 'run_completed'; result: Json }
  | { type: 'run_failed'; error: ErrorInfo }
  | { type: 'run_cancelled' }
  | { type: 'run_continued'; newRunId: string };

export type HistoryEvent = HistoryPayload & {
  /** Position in the run's history, from 0. */
  seq: number;
  /** When it was recorded (epoch ms, engine clock). */
  at: number;
};

// ---------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------

export type RunStatus =
  /** Waits for a slot of its concurrency group (`NewRun.concurrency`): none of its code has run. */
  | 'queued'
  | 'running'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'continued'
  /** Replay diverged from history: the run is parked until someone fixes the code or the run. */
  | 'stuck';

/** Signals are events of this type prefix whose `subject` is the run's id. */
export const SIGNAL_EVENT_PREFIX = 'autoflow.signal.';

/** A CloudEvent's identity: `source` and `id` are unique together. */
export interface EventIdentity {
  source: string;
  id: string;
}

export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'continued'];

// A record, not an array, so that the compiler notices when the model gains a status.
const STATUS_SET: Record<RunStatus, true> = {
  queued: true,
  running: true,
  completed: true,
  failed: true,
  cancelled: true,
  continued: true,
  stuck: true,
};
/** Every status a run can have, in the order lists and messages name them. */
export const RUN_STATUSES = Object.keys(STATUS_SET) as [RunStatus, ...RunStatus[]];

/** A run that a wait for its end goes on waiting for: running, or queued for a slot of its concurrency group. */
export function isUnderway(status: RunStatus): boolean {
  return status === 'running' || status === 'queued';
}

/** A run a signal may be sent to: one underway, or stuck (it finds its signals in its mailbox once retried). */
export function receivesSignals(status: RunStatus): boolean {
  return isUnderway(status) || status === 'stuck';
}

/** A run a retry may take back to running: a failed one, from the task that failed it; a stuck one, whole. */
export function isRetriable(status: RunStatus): status is 'failed' | 'stuck' {
  return status === 'failed' || status === 'stuck';
}

export interface NewRun {
  id: string;
  workflow: string;
  version: string;
  input: Json;
  parentId?: string;
  /** The step of the parent that started this run as a child. */
  parentStep?: number;
  /** Inbox seq of the event that started it; never delivered to its own waits. */
  triggerEventSeq?: number;
  createdAt: number;
  /**
   * The concurrency group the run belongs to (core/concurrency.ts). The store creates it `queued` when `limit` runs
   * of the group are `running` or `stuck`, and starts the oldest queued run of a group when one of those ends.
   */
  concurrency?: RunConcurrency;
}

export interface RunConcurrency {
  group: string;
  limit: number;
  /** The run, once queued, cancels the runs of its group queued before it (ConcurrencySpec.queue). */
  queue?: 'latest';
  /** As it is created, the run asks older runs of its group to cancel (ConcurrencySpec.cancelInProgress). */
  cancelInProgress?: true;
}

export interface RunRecord extends NewRun {
  status: RunStatus;
  result?: Json;
  error?: ErrorInfo;
  updatedAt: number;
  /** Number of history events; a task commit is fenced on it. */
  historyLength: number;
}

/** A resolution waiting in the run's mailbox for the next workflow task. */
export interface PendingResolution {
  id: number;
  resolution: Resolution;
  /** When it happened (epoch ms). */
  at: number;
  /** Attempts the call took, for call resolutions. */
  attempts?: number;
}

/**
 * A retry of a failed run, as recorded when it happened: the retry cuts the failed task out of the
 * history, so this is where the failure it answered is kept.
 */
export interface RunRetryRecord {
  /** Epoch ms. */
  at: number;
  /** Who asked (a web UI user); absent when it came through the API or the CLI. */
  by?: string;
  /** The version the run went on with. */
  version: string;
  /** Where the history was cut: the events kept (0: the run started over). */
  keptHistoryLength: number;
  /** The error the run had failed or got stuck with. */
  previousError?: ErrorInfo;
}

/** An outstanding call: committed by a task, not yet resolved. */
export interface CallRecord {
  runId: string;
  step: number;
  capability: string;
  method: string;
  args: Json;
  options?: CallOptions;
  /** Attempts made so far. */
  attempts: number;
  /** When the next attempt is due (epoch ms). */
  nextAt: number;
  lastError?: ErrorInfo;
}

export type TimerKind = 'sleep' | 'wait_timeout';

export interface TimerRecord {
  runId: string;
  step: number;
  kind: TimerKind;
  fireAt: number;
}

export interface WaitRecord {
  runId: string;
  step: number;
  eventType: string;
  /** Sorted field paths of `match`: the wait's shape. */
  paths: string[];
  /** Correlation key: canonical JSON of the matched values in `paths` order. */
  key: string;
  timeoutAt?: number;
  registeredAt: number;
}

export interface LogRecord {
  runId: string;
  /**
   * Orders the run's log lines and makes them idempotent: the seq of the workflow task's marker in
   * history × 1000 + the line's position within that task.
   */
  index: number;
  at: number;
  level: LogLevel;
  message: string;
}
