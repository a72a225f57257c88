import {
  MAX_HISTORY_PAGE,
  type CallView,
  type CancelView,
  type DeployProblemView,
  type Operations,
  type RetriedRunView,
  type RetryView,
  type RunView,
  type SignalDelivery,
  type TaskView,
  type WorkflowView,
} from '../app/operations.js';
import {
  AutoflowError,
  ConflictError,
  DefinitionError,
  ForbiddenError,
  NotFoundError,
  toError,
  UnauthorizedError,
  ValidationError,
} from '../core/errors.js';
import { isUnderway, type HistoryEvent, type Json, type LogRecord } from '../core/model.js';

/**
 * The part of the operations layer the CLI uses, reached over HTTP. The same names and types as
 * `Operations`, so that a command reads the same whether it runs next to the engine or not.
 */
export type ApiClient = Pick<
  Operations,
  | 'startRun'
  | 'getRun'
  | 'waitForRun'
  | 'listRuns'
  | 'getHistory'
  | 'listCalls'
  | 'listRetries'
  | 'getLogs'
  | 'cancelRun'
  | 'terminateRun'
  | 'retryRun'
  | 'signalRun'
  | 'listWorkflows'
  | 'retireWorkflow'
  | 'ingestEvent'
  | 'listTasks'
  | 'listDeployProblems'
>;

/**
 * What a route answered, or undefined when the server is older than this CLI and has no such route
 * (its 404 names no run): `show` then goes on without what the route would have added.
 */
async function unlessOlderServer<T>(answer: Promise<T>): Promise<T | undefined> {
  try {
    return await answer;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** What `GET /api/v1/simulator` answers when the server runs the built-in GitLab simulator. */
export interface SimulatorInfo {
  baseUrl: string;
  users: string[];
  /** Tokens of simulated users that a person may use (`PRIVATE-TOKEN: alice-token`). */
  tokens?: string[];
  actions: Record<string, string>;
}

export interface ApiClientWithSimulator extends ApiClient {
  /** The server's base URL, for messages that name it. */
  readonly url: string;
  simulatorInfo(): Promise<SimulatorInfo>;
  simulate(action: string, args: unknown[]): Promise<unknown>;
}

export interface ClientOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:8080`. */
  url: string;
  token?: string | undefined;
  /** How long a request may go unanswered, beyond the time it asked the server to hold it (a long poll). @default 30 s */
  answerTimeoutMs?: number;
}

/** The server could not be reached at all (refused, DNS, reset): nothing was acknowledged. */
export class ServerUnreachableError extends AutoflowError {
  /** The network's error code (`ECONNREFUSED`, `UND_ERR_SOCKET`…), when it gave one. */
  readonly reason: string | undefined;
  constructor(url: string, cause: Error) {
    const code = (cause.cause as { code?: unknown } | undefined)?.code;
    const reason = typeof code === 'string' ? code : undefined;
    super('unreachable', `cannot reach AutoFlow at ${url} — is \`autoflow server\` running?${reason === undefined ? '' : ` (${reason})`}`, {
      cause,
    });
    this.reason = reason;
  }
}

/** The server took the connection but did not answer in time: it is there, but stuck or overloaded. */
export class ServerSilentError extends AutoflowError {
  constructor(url: string, waitedMs: number) {
    super(
      'no_answer',
      `AutoFlow at ${url} took the request but did not answer within ${waitedMs / 1000} s; it may be stuck or overloaded: see its /livez and its logs`,
    );
  }
}

/** An error response that none of the typed errors describes (a 5xx, a proxy's HTML page…). */
export class ApiError extends AutoflowError {
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

/**
 * One long-poll request holds at most this long. The server allows 60 s; staying well below it
 * keeps the request clear of proxies that cut idle connections at 60 s.
 */
const WAIT_SLICE_MS = 30_000;

/**
 * A path segment for `id`. `.` and `..` name no run nor workflow (ids begin with a letter or digit), and in a URL they
 * would lead to another route.
 */
function segment(what: 'run' | 'workflow', id: string): string {
  if (id === '.' || id === '..') throw new NotFoundError(what, id);
  return encodeURIComponent(id);
}

/**
 * Turns an error response back into the typed error the server's error handler started from. `tokenSent`: whether the
 * request carried a token, which a 401 says.
 */
function errorFromResponse(status: number, statusText: string, text: string, url: string, tokenSent: boolean): Error {
  let error: { code?: unknown; message?: unknown; details?: unknown } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {
    // not JSON: something in front of AutoFlow answered
  }
  if (typeof error?.message !== 'string' || typeof error.code !== 'string') {
    // Node's HTTP server refuses headers it finds too large before AutoFlow sees the request.
    if (status === 431)
      return new ValidationError(`${url} refused the request: its URL or headers are too large (an id that long names no run)`);
    return new ApiError(status, `http_${status}`, `${url} answered ${status} ${statusText}; is that an AutoFlow server?`);
  }
  const { message, code, details } = error as { message: string; code: string; details?: { what?: unknown; id?: unknown; hint?: unknown } };
  switch (status) {
    case 400:
      return new ValidationError(message);
    case 401:
      return new UnauthorizedError(
        tokenSent
          ? `${message} (this command sent the one in --token or AUTOFLOW_API_TOKEN)`
          : `${message} (this command sent none: give it with --token <token> or in AUTOFLOW_API_TOKEN, e.g. the one the server printed at its first start)`,
      );
    case 403:
      return new ForbiddenError(message);
    case 404:
      return typeof details?.what === 'string' && typeof details.id === 'string'
        ? new NotFoundError(details.what, details.id, typeof details.hint === 'string' ? details.hint : undefined)
        : new ApiError(status, code, message);
    case 409:
      // Its details say which conflict it is (`code`) and with what, for a command that acts on it (retry --dry-run).
      return new ConflictError(message, details as Json | undefined);
    case 413:
      // What was given is too large: the command line's to fix, as a 400.
      return new ValidationError(message);
    case 422:
      return new DefinitionError(message);
    default:
      return new ApiError(status, code, message);
  }
}

/**
 * A typed HTTP client of the AutoFlow API (global `fetch`). Error responses become typed errors;
 * a server that cannot be reached is a ServerUnreachableError.
 */
export function createClient(options: ClientOptions): ApiClientWithSimulator {
  const base = options.url.replace(/\/+$/, '');

  /** `holdMs`: how long the request asks the server to hold it before it answers (a long poll). */
  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    { holdMs = 0, headers: extraHeaders = {} }: { holdMs?: number; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { ...extraHeaders, accept: 'application/json' };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const patience = holdMs + (options.answerTimeoutMs ?? 30_000);
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(patience) };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const silent = (caught: unknown): Error =>
      toError(caught).name === 'TimeoutError' ? new ServerSilentError(base, patience) : new ServerUnreachableError(base, toError(caught));
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${base}${path}`, init);
      text = await response.text();
    } catch (caught) {
      throw silent(caught);
    }
    if (!response.ok) throw errorFromResponse(response.status, response.statusText, text, base, options.token !== undefined);
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }

  const get = async <T>(path: string, holdMs?: number): Promise<T> => (await request<T>('GET', path, undefined, { holdMs })).body;
  const run = (id: string): string => `/api/v1/runs/${segment('run', id)}`;
  const query = (params: Record<string, string | number | undefined>): string => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
    const text = search.toString();
    return text === '' ? '' : `?${text}`;
  };

  return {
    url: base,
    async startRun(startRequest) {
      const response = await request<RunView>('POST', '/api/v1/runs', startRequest);
      return { run: response.body, created: response.status === 201 };
    },
    getRun: async (id) => get<RunView>(run(id)),
    // The server holds one request for at most 60 s, so a longer wait is a series of long polls.
    async waitForRun(id, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const slice = Math.min(Math.max(deadline - Date.now(), 0), WAIT_SLICE_MS);
        const view = await get<RunView>(`${run(id)}?wait=${slice / 1000}`, slice);
        if (!isUnderway(view.status) || Date.now() >= deadline) return view;
      }
    },
    async listRuns(filter) {
      // The API takes one `since`, on the time the list is ordered by; and the parent as `parent`.
      const { createdFrom, updatedFrom, parentId, ...rest } = filter;
      const from = filter.order === 'updated' ? updatedFrom : createdFrom;
      const since = from === undefined ? undefined : new Date(from).toISOString();
      const page = await get<{ runs: RunView[]; nextCursor: string | null }>(`/api/v1/runs${query({ ...rest, since, parent: parentId })}`);
      return page.nextCursor === null ? { runs: page.runs } : { runs: page.runs, nextCursor: page.nextCursor };
    },
    // Page after page (a server before pages answers the whole history, without `next`).
    async getHistory(id) {
      const events: HistoryEvent[] = [];
      for (let after: number | undefined; ;) {
        const page = await get<{ events: HistoryEvent[]; next?: number | null }>(
          `${run(id)}/history${query({ after, limit: MAX_HISTORY_PAGE })}`,
        );
        events.push(...page.events);
        if (page.next === undefined || page.next === null) return events;
        after = page.next;
      }
    },
    listCalls: async (id) => (await unlessOlderServer(get<{ calls: CallView[] }>(`${run(id)}/calls`)))?.calls ?? [],
    listRetries: async (id) => (await unlessOlderServer(get<{ retries: RetryView[] }>(`${run(id)}/retries`)))?.retries ?? [],
    getLogs: async (id, afterIndex) => {
      const page = await get<{ logs: LogRecord[]; next?: number | null }>(`${run(id)}/logs${query({ after: afterIndex })}`);
      // A server before pages answers without `next`.
      return page.next === undefined || page.next === null ? { logs: page.logs } : { logs: page.logs, next: page.next };
    },
    cancelRun: async (id, reason) => (await request<CancelView>('POST', `${run(id)}/cancel`, reason === undefined ? {} : { reason })).body,
    terminateRun: async (id, reason) =>
      (await request<RunView>('POST', `${run(id)}/terminate`, reason === undefined ? {} : { reason })).body,
    retryRun: async (id, options) =>
      (
        await request<RetriedRunView>('POST', `${run(id)}/retry`, {
          ...(options?.latest && { version: 'latest' }),
          ...(options?.dryRun && { dryRun: true }),
        })
      ).body,
    async signalRun(id, name, payload, signalOptions) {
      const key = signalOptions?.idempotencyKey;
      const { body } = await request<Partial<SignalDelivery> | undefined>(
        'POST',
        `${run(id)}/signals/${encodeURIComponent(name)}`,
        payload,
        {
          ...(key !== undefined && { headers: { 'idempotency-key': key } }),
        },
      );
      // An older server answers without a body, having sent the signal to the run named, or without `duplicate`.
      return { runId: body?.runId ?? id, duplicate: body?.duplicate ?? false };
    },
    listWorkflows: async () => (await get<{ workflows: WorkflowView[] }>('/api/v1/workflows')).workflows,
    // An older server answers without `problems`.
    listDeployProblems: async () => (await get<{ problems?: DeployProblemView[] }>('/api/v1/workflows')).problems ?? [],
    async retireWorkflow(name) {
      await request('DELETE', `/api/v1/workflows/${segment('workflow', name)}`);
    },
    ingestEvent: async (event) => (await request<{ seq: number; duplicate: boolean }>('POST', '/api/v1/events', event)).body,
    async listTasks({ runId, ...rest }) {
      // `null` on the last page; an older server leaves it out.
      const page = await get<{ tasks: TaskView[]; nextCursor?: string | null }>(`/api/v1/tasks${query({ ...rest, run: runId })}`);
      return page.nextCursor == null ? { tasks: page.tasks } : { tasks: page.tasks, nextCursor: page.nextCursor };
    },
    simulatorInfo: () => get<SimulatorInfo>('/api/v1/simulator'),
    simulate: async (action, args) =>
      (await request<{ result: unknown }>('POST', `/api/v1/simulator/actions/${encodeURIComponent(action)}`, { args })).body.result,
  };
}
