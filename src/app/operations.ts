/**
 * The operations that the CLI and the HTTP API share. Neither edge talks to the store directly;
 * both call these. Errors are the typed errors of core/errors.ts (NotFoundError, ValidationError…);
 * only the HTTP layer maps them to status codes.
 */
import type {
  CloudEvent,
  ErrorInfo,
  HistoryEvent,
  Json,
  LogRecord,
  Permissions,
  RunStatus,
  StoredEvent,
  TriggerSpec,
} from '../core/model.js';

export interface RunView {
  id: string;
  workflow: string;
  version: string;
  status: RunStatus;
  input: Json;
  result?: Json;
  error?: ErrorInfo;
  parentId?: string;
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
  origin?: string;
  deployedAt: string;
  versions: Array<{ version: string; deployedAt: string; active: boolean }>;
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
  cursor?: string;
  /** @default 50, at most 500 */
  limit?: number;
}

export interface Operations {
  /** Starts a run, or returns the existing one when `id` is taken (`created: false`). */
  startRun(request: StartRunRequest): Promise<{ run: RunView; created: boolean }>;
  /** Throws NotFoundError. */
  getRun(id: string): Promise<RunView>;
  /** Resolves when the run is no longer `running`, or after `timeoutMs` with its current state. */
  waitForRun(id: string, timeoutMs: number): Promise<RunView>;
  listRuns(query: ListRunsQuery): Promise<{ runs: RunView[]; nextCursor?: string }>;
  getHistory(id: string): Promise<HistoryEvent[]>;
  getLogs(id: string, afterIndex?: number): Promise<LogRecord[]>;
  /** Requests cancellation; the workflow's `finally` blocks run. Throws ConflictError if the run already ended. */
  cancelRun(id: string, reason?: string): Promise<RunView>;
  /** Delivers `autoflow.signal.<name>` to the run. */
  signalRun(id: string, name: string, payload: Json): Promise<void>;
  listWorkflows(): Promise<WorkflowView[]>;
  /**
   * A GitLab webhook delivery: checks its `X-Gitlab-Token` against the configured sources
   * (UnauthorizedError), normalises it to a CloudEvent (ValidationError for a malformed body) and
   * stores it durably before resolving. A redelivery (same Idempotency-Key) is a duplicate.
   */
  ingestGitLabWebhook(delivery: { headers: Readonly<Record<string, string | undefined>>; body: string }): Promise<{
    seq: number;
    duplicate: boolean;
    type: string;
  }>;
  /** Stores a CloudEvent durably (resolves once on disk), then routes it. */
  ingestEvent(event: CloudEvent): Promise<{ seq: number; duplicate: boolean }>;
  listEvents(options: { limit?: number; beforeSeq?: number; type?: string }): Promise<StoredEvent[]>;
  /** Checks that the API token is valid. */
  authenticate(token: string): Promise<boolean>;
  health(): Promise<{ ok: boolean; store: string; workflows: number }>;
}
