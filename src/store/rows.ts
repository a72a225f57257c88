/** Rows as the SQL stores return them (SQLite and PostgreSQL alike), and their conversion into the engine's records. */
import type {
  ActiveDefinition,
  CallOptions,
  CallRecord,
  CloudEvent,
  DeployedDefinition,
  ErrorInfo,
  HistoryEvent,
  Json,
  LogLevel,
  LogRecord,
  NewRun,
  PendingResolution,
  Resolution,
  RunConcurrency,
  RunRecord,
  RunRetryRecord,
  RunStatus,
  StoredEvent,
  WaitRecord,
  WorkflowManifest,
  JsonObject,
} from '../core/model.js';
import type { ApprovalDecision, HumanTaskKind, HumanTaskOutcome, HumanTaskRecord, HumanTaskStatus } from '../core/human-task.js';
import type { CallLease, ClaimedCall, StoredCall } from '../core/ports.js';

const parse = <T = Json>(text: string): T => JSON.parse(text) as T;

/** JSON text for a column, NULL for an absent value. */
export const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

export interface DefinitionRow {
  version: string;
  name: string;
  manifest: string;
  bundle: string;
  source_map: string | null;
  origin: string | null;
  deployed_at: number;
}

export function toDefinition(row: DefinitionRow): DeployedDefinition {
  const def: DeployedDefinition = {
    version: row.version,
    name: row.name,
    manifest: parse<WorkflowManifest>(row.manifest),
    bundle: row.bundle,
    deployedAt: row.deployed_at,
  };
  if (row.source_map !== null) def.sourceMap = row.source_map;
  if (row.origin !== null) def.origin = row.origin;
  return def;
}

/** A definition's row joined with its activation (null for one from before activations were recorded). */
export interface ActiveDefinitionRow extends DefinitionRow {
  activated_at: number | null;
  activated_by: string | null;
}

export function toActiveDefinition(row: ActiveDefinitionRow): ActiveDefinition {
  const def: ActiveDefinition = toDefinition(row);
  if (row.activated_at !== null) def.activatedAt = Number(row.activated_at);
  if (row.activated_by !== null) def.activatedBy = row.activated_by;
  return def;
}

export interface EventRow {
  seq: number;
  body: string;
  received_at: number;
}

export const toCloudEvent = (row: EventRow): CloudEvent => parse<CloudEvent>(row.body);

export const toStoredEvent = (row: EventRow): StoredEvent => ({ ...toCloudEvent(row), seq: row.seq, receivedAt: row.received_at });

export interface RunRow {
  id: string;
  workflow: string;
  version: string;
  input: string;
  parent_id: string | null;
  parent_step: number | null;
  trigger_event_seq: number | null;
  created_at: number;
  updated_at: number;
  status: string;
  result: string | null;
  error: string | null;
  history_length: number;
  concurrency_group: string | null;
  concurrency_limit: number | null;
  concurrency_queue: string | null;
}

export function toRunRecord(row: RunRow): RunRecord {
  const run: RunRecord = {
    id: row.id,
    workflow: row.workflow,
    version: row.version,
    input: parse(row.input),
    createdAt: row.created_at,
    status: row.status as RunStatus,
    updatedAt: row.updated_at,
    historyLength: row.history_length,
  };
  if (row.parent_id !== null) run.parentId = row.parent_id;
  if (row.parent_step !== null) run.parentStep = row.parent_step;
  if (row.trigger_event_seq !== null) run.triggerEventSeq = row.trigger_event_seq;
  if (row.result !== null) run.result = parse(row.result);
  if (row.error !== null) run.error = parse<ErrorInfo>(row.error);
  if (row.concurrency_group !== null) {
    run.concurrency = { group: row.concurrency_group, limit: row.concurrency_limit ?? 1 };
    if (row.concurrency_queue === 'latest') run.concurrency.queue = 'latest';
    if (row.concurrency_queue === CANCEL_IN_PROGRESS) run.concurrency.cancelInProgress = true;
  }
  return run;
}

/**
 * The `concurrency_queue` column's value for a run of `cancelInProgress`, which supersedes older runs of its group,
 * running or queued: one column holds what a new run does to the others of its group ('latest' or this; never both).
 */
const CANCEL_IN_PROGRESS = 'cancel-in-progress';

/** What a new run does to the other runs of its group, as `concurrency_queue` holds it: 'latest', CANCEL_IN_PROGRESS or null. */
export function concurrencyQueueColumn(concurrency: RunConcurrency | undefined): string | null {
  if (concurrency?.cancelInProgress) return CANCEL_IN_PROGRESS;
  return concurrency?.queue ?? null;
}

/**
 * The events from `fromSeq` on in history rows, oldest first, at most `limit`. A row holds the events of one
 * workflow task as a JSON array (since SQLite migration 005 and PostgreSQL migration 008), or a
 * single event (rows written before).
 */
export function historyEventsOf(bodies: string[], fromSeq: number, limit = Infinity): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const body of bodies) {
    const parsed = parse<HistoryEvent | HistoryEvent[]>(body);
    for (const event of Array.isArray(parsed) ? parsed : [parsed]) {
      if (events.length === limit) return events;
      if (event.seq >= fromSeq) events.push(event);
    }
  }
  return events;
}

export interface PendingRow {
  id: number;
  at: number;
  attempts: number | null;
  resolution: string;
}

export function toPending(row: PendingRow): PendingResolution {
  const pending: PendingResolution = { id: row.id, resolution: parse<Resolution>(row.resolution), at: row.at };
  if (row.attempts !== null) pending.attempts = row.attempts;
  return pending;
}

export interface CallRow {
  run_id: string;
  step: number;
  capability: string;
  method: string;
  args: string;
  options: string | null;
  attempts: number;
  next_at: number;
  last_error: string | null;
}

export function toCallRecord(row: CallRow): CallRecord {
  const call: CallRecord = {
    runId: row.run_id,
    step: row.step,
    capability: row.capability,
    method: row.method,
    args: parse(row.args),
    attempts: row.attempts,
    nextAt: row.next_at,
  };
  if (row.options !== null) call.options = parse<CallOptions>(row.options);
  if (row.last_error !== null) call.lastError = parse<ErrorInfo>(row.last_error);
  return call;
}

/** A call's row with its lease (both columns null while no node holds it). */
export interface LeasedCallRow extends CallRow {
  lease_owner: string | null;
  lease_until: number | null;
}

function leaseOf(row: LeasedCallRow): CallLease | undefined {
  return row.lease_owner === null || row.lease_until === null ? undefined : { owner: row.lease_owner, until: Number(row.lease_until) };
}

/** A call as Store.listCalls answers: with its lease, while a node holds one. */
export function toStoredCall(row: LeasedCallRow): StoredCall {
  const call: StoredCall = toCallRecord(row);
  const lease = leaseOf(row);
  if (lease) call.lease = lease;
  return call;
}

/**
 * A call a claim took, from its row as it was before the claim (the lease it took over, if any, is `previousLease`),
 * with `attempts` as the claim counted them.
 */
export function toClaimedCall(row: LeasedCallRow, attempts: number): ClaimedCall {
  const call: ClaimedCall = { ...toCallRecord(row), attempts };
  const lease = leaseOf(row);
  if (lease) call.previousLease = lease;
  return call;
}

export interface RunRetryRow {
  at: number;
  by: string | null;
  version: string;
  kept_history: number;
  previous_error: string | null;
}

export function toRunRetryRecord(row: RunRetryRow): RunRetryRecord {
  const retry: RunRetryRecord = { at: row.at, version: row.version, keptHistoryLength: row.kept_history };
  if (row.by !== null) retry.by = row.by;
  if (row.previous_error !== null) retry.previousError = parse<ErrorInfo>(row.previous_error);
  return retry;
}

export interface WaitRow {
  run_id: string;
  step: number;
  event_type: string;
  paths: string;
  key: string;
  timeout_at: number | null;
  registered_at: number;
}

export function toWaitRecord(row: WaitRow): WaitRecord {
  const wait: WaitRecord = {
    runId: row.run_id,
    step: row.step,
    eventType: row.event_type,
    paths: parse<string[]>(row.paths),
    key: row.key,
    registeredAt: row.registered_at,
  };
  if (row.timeout_at !== null) wait.timeoutAt = row.timeout_at;
  return wait;
}

export interface LogRow {
  run_id: string;
  idx: number;
  at: number;
  level: string;
  message: string;
}

export const toLogRecord = (row: LogRow): LogRecord => ({
  runId: row.run_id,
  index: row.idx,
  at: row.at,
  level: row.level as LogLevel,
  message: row.message,
});

export interface HumanTaskRow {
  id: string;
  run_id: string;
  workflow: string;
  kind: string;
  title: string;
  spec: string;
  eligible: string;
  status: string;
  decisions: string;
  outcome: string | null;
  created_at: number;
  due_at: number | null;
  closed_at: number | null;
  revision: number;
}

export function toHumanTask(row: HumanTaskRow): HumanTaskRecord {
  const task: HumanTaskRecord = {
    id: row.id,
    runId: row.run_id,
    workflow: row.workflow,
    kind: row.kind as HumanTaskKind,
    title: row.title,
    spec: parse<JsonObject>(row.spec),
    eligible: parse<string[]>(row.eligible),
    status: row.status as HumanTaskStatus,
    decisions: parse<ApprovalDecision[]>(row.decisions),
    createdAt: row.created_at,
    revision: row.revision,
  };
  if (row.outcome !== null) task.outcome = parse<HumanTaskOutcome & Json>(row.outcome);
  if (row.due_at !== null) task.dueAt = row.due_at;
  if (row.closed_at !== null) task.closedAt = row.closed_at;
  return task;
}

/** The columns of a new run, as named parameters (JSON as text, absent as null). */
export function newRunParams(run: NewRun) {
  return {
    id: run.id,
    workflow: run.workflow,
    version: run.version,
    input: JSON.stringify(run.input),
    parentId: run.parentId ?? null,
    parentStep: run.parentStep ?? null,
    triggerEventSeq: run.triggerEventSeq ?? null,
    createdAt: run.createdAt,
    concurrencyGroup: run.concurrency?.group ?? null,
    concurrencyLimit: run.concurrency?.limit ?? null,
    concurrencyQueue: concurrencyQueueColumn(run.concurrency),
  };
}

/** The columns of a new human task, as named parameters. */
export function humanTaskParams(task: HumanTaskRecord): Record<string, string | number | null> {
  return {
    id: task.id,
    runId: task.runId,
    workflow: task.workflow,
    kind: task.kind,
    title: task.title,
    spec: JSON.stringify(task.spec),
    eligible: JSON.stringify(task.eligible),
    status: task.status,
    decisions: JSON.stringify(task.decisions),
    outcome: json(task.outcome),
    createdAt: task.createdAt,
    dueAt: task.dueAt ?? null,
    closedAt: task.closedAt ?? null,
    revision: task.revision,
  };
}
