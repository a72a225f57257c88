/**
 * Public types of the 'autoflow' module. The engine's own vocabulary (CloudEvent, Json,
 * TriggerSpec…) is re-exported from core/model.ts as types only: nothing with I/O reaches the
 * sandbox.
 */
import type { Json, JsonObject, Permissions, TriggerSpec } from '../core/model.js';
import type { Duration } from './duration.js';

export type {
  CallOptions,
  CloudEvent,
  ErrorInfo,
  Filter,
  FilterCondition,
  GitLabPermissions,
  Json,
  JsonObject,
  LogLevel,
  Permissions,
  RetryPolicy,
  TriggerSpec,
} from '../core/model.js';
export type { Duration };

/** The Standard Schema v1 interface (standardschema.dev), implemented by zod 4, valibot, arktype… */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

export type StandardSchemaResult<Output> =
  { readonly value: Output; readonly issues?: undefined } | { readonly issues: ReadonlyArray<StandardSchemaIssue> };

export interface StandardSchemaIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** A validator in the zod 3 style, for libraries without Standard Schema. */
export interface SafeParseValidator<Output = unknown> {
  safeParse(value: unknown): { success: true; data: Output } | { success: false; error: { issues: ReadonlyArray<StandardSchemaIssue> } };
}

/**
 * The input of a workflow: a JSON Schema (checked by the engine before the run starts, and shown
 * in the UI), or a validator object that runs inside the sandbox and may transform the input.
 */
export type InputSpec<TInput> = StandardSchemaV1<unknown, TInput> | SafeParseValidator<TInput> | JsonObject;

export interface WorkflowOptions<TInput, TResult> {
  /** Unique per deployment: lower case letters, digits, `-`, `_` and `.`, starting with a letter or digit. */
  name: string;
  description?: string;
  /** What starts runs: events (with a declarative filter) and cron schedules. */
  triggers?: TriggerSpec[];
  /** What the run may reach: GitLab projects, HTTP URL prefixes, secrets, activities. */
  permissions?: Permissions;
  input?: InputSpec<TInput>;
  /**
   * How long a run may take from its start: `'30m'`, `'2h'`, `'7d'` or milliseconds (1 s to 3,650 days). When it
   * passes first, the run is cancelled — its `finally` blocks run, its children are asked to cancel — and fails with
   * an error named `RunTimeoutError`. Each run of a `continueAsNew` chain has its own. None by default.
   */
  timeout?: Duration;
  /**
   * How many runs may run at once: `{ limit: 1 }` runs one at a time, `{ limit: 1, key: 'environment' }` one per
   * value of the input's `environment`. A run started while its group's slots are taken waits, `queued`, without
   * running any code, and the oldest queued run starts when a run of its group ends. No limit by default.
   */
  concurrency?: ConcurrencyOptions;
  /** The workflow itself. Its result must be JSON-serialisable. */
  run(input: TInput): Promise<TResult> | TResult;
}

/** What `workflow({...})` returns; the module's default export. */
export interface WorkflowDefinition<TInput = unknown, TResult = unknown> {
  readonly name: string;
  readonly description?: string;
  readonly triggers: readonly TriggerSpec[];
  readonly permissions: Permissions;
  readonly input?: InputSpec<TInput>;
  readonly timeout?: Duration;
  readonly concurrency?: ConcurrencyOptions;
  readonly run: (input: TInput) => Promise<TResult> | TResult;
}

/** `workflow({ concurrency })`: how many runs of a group may run at once (docs/engine.md#concurrency-limits). */
export interface ConcurrencyLimit {
  /** Runs of one group that may run at once, 1 to 1,000. @default 1 */
  limit?: number;
  /**
   * A dot path into the run's input whose value makes the group: `'environment'`, or `'data.project.path_with_namespace'`
   * for a run an event started (its input is the event). Runs whose input lacks it share the group of `null`.
   */
  key?: string;
  /**
   * The group's name, shared with every workflow that declares the same one (a deploy and a rollback of one
   * environment); the workflow's own name by default.
   */
  group?: string;
  /**
   * `'all'` (default): every run waits its turn. `'latest'`: a run that has to wait cancels the runs of its group
   * that wait before it (they run none of their code), so that only the newest waits — GitHub Actions' pending run.
   */
  queue?: 'all' | 'latest';
}

/**
 * `cancelInProgress: true`: the newest `limit` runs of a group run. A new run cancels the oldest of the others, running
 * or waiting, as many as it takes (with `limit: 1`, every other), and starts once the running ones have ended; their
 * `finally` blocks run, the waiting ones end without their code — GitHub Actions' `cancel-in-progress`, for a preview
 * or a docs deploy that a newer commit makes pointless. It decides which runs wait, so it takes no `queue`. A stuck run
 * is not cancelled: it keeps its slot until someone ends it.
 */
export type ConcurrencyOptions = ConcurrencyLimit & ({ cancelInProgress?: false } | { cancelInProgress: true; queue?: never });

export interface RunInfo {
  runId: string;
  /** The workflow's name. */
  workflow: string;
}

export interface ChildHandle<TResult = Json> {
  /** The child run's id. */
  readonly id: string;
  /**
   * Settles when the child run ends, with its result. A child that failed rejects it with an error named
   * `ChildRunFailedError` that names it (`details.childId`, `details.workflow`), whose `cause` is the child's own
   * error (`error.cause.name`, `error.cause.message`); a cancelled one with an error named `CancelledError`.
   */
  result(): Promise<TResult>;
  /**
   * Asks the child run to cancel, in the commit of this workflow task (its `finally` blocks run, as for
   * any cancel). `result()` then rejects with an error named `CancelledError`, unless the child ends
   * otherwise first (it handles the cancellation, or it had ended). Resolves once asked, not when the child ends.
   */
  cancel(reason?: string): Promise<void>;
}

export interface ChildOptions {
  /** The child run's id (its idempotency key). @default `${runId}.${step}` */
  id?: string;
}

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export interface HttpRequest {
  url: string;
  /** @default 'GET' */
  method?: HttpMethod;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: Json;
  /**
   * How long each attempt may take, from sending to the last byte of the answer; one that takes longer
   * fails with `details.code` `'timeout'` and is retried like a network error. At most 600000 (10 minutes).
   * @default 30000
   */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON when the response is JSON, the text otherwise. */
  body: Json;
}

export interface WaitOptions {
  /** Only an event whose dotted paths equal these values satisfies the wait. */
  match?: Record<string, string | number | boolean | null>;
  /** After this long the wait resolves to `null`. @default forever */
  timeout?: Duration;
}

export interface SignalOptions {
  /** After this long the signal resolves to `null`. @default forever */
  timeout?: Duration;
}
