/* eslint-disable @typescript-eslint/require-await -- async, as the contract is: a throw becomes a rejection */
/**
 * An in-memory `Operations` for the tests of the HTTP API and the CLI: state in maps, the typed
 * errors of the contract, and "workflows" that are plain functions finishing a little later, so
 * that long polls really wait. Not an engine: no durability, no replay.
 */
import { historyPageLimit, readHistoryPage } from '../../app/history-page.js';
import { logPageOf, type Operations, type RetryView, type RunView, type WorkflowView } from '../../app/operations.js';
import { deployedWorkflowsHint } from '../../app/operations-impl.js';
import { ConflictError, NondeterminismError, NotFoundError, toErrorInfo, UnauthorizedError } from '../../core/errors.js';
import {
  isRetriable,
  receivesSignals,
  type CloudEvent,
  type HistoryEvent,
  type HistoryPayload,
  type Json,
  type LogRecord,
  type RunStatus,
  type StoredEvent,
} from '../../core/model.js';
import type { Logger } from '../../core/ports.js';

/** A fake workflow: returns the result or throws; `log` writes a log line of the run. */
export type FakeWorkflow = (input: Json, log: (message: string) => void) => Json;

export interface FakeOperationsOptions {
  /** The one valid API token. @default 'test-token' */
  token?: string;
  workflows?: Record<string, FakeWorkflow>;
  /** How long after its start a run finishes. @default 30 */
  runMs?: number;
  /** `runMs` of particular workflows, by name. */
  delays?: Record<string, number>;
  /** Runs whose retry is refused, with why (as a version whose code does not replay the run's history). */
  refusedRetries?: Record<string, string>;
}

export interface FakeOperations extends Operations {
  /** Signals received, in order. */
  readonly signals: Array<{ runId: string; name: string; payload: Json | undefined }>;
  /** Retries made, in order. */
  readonly retries: Array<{ runId: string; latest: boolean }>;
  /** Workflows retired, in order. */
  readonly retired: string[];
}

export function createFakeOperations(options: FakeOperationsOptions = {}): FakeOperations {
  const token = options.token ?? 'test-token';
  const workflows = options.workflows ?? {};
  const runs = new Map<string, RunView>();
  const histories = new Map<string, HistoryEvent[]>();
  const logs = new Map<string, LogRecord[]>();
  const waiters = new Map<string, Set<() => void>>();
  const events: StoredEvent[] = [];
  const signals: FakeOperations['signals'] = [];
  const retries: FakeOperations['retries'] = [];
  const retryViews = new Map<string, RetryView[]>();
  const revokedSessions = new Map<string, number>();
  const retired: string[] = [];
  let runCounter = 0;

  function requireRun(id: string): RunView {
    const run = runs.get(id);
    if (!run) throw new NotFoundError('run', id);
    return run;
  }

  function record(id: string, payload: HistoryPayload): void {
    const history = histories.get(id) ?? [];
    history.push({ ...payload, seq: history.length, at: Date.now() });
    histories.set(id, history);
  }

  /** Ends run `id` with `change`, recording `payload` (none for a run parked stuck, whose history stays as it was). */
  function settle(id: string, change: Partial<RunView>, payload?: HistoryPayload): void {
    const run = requireRun(id);
    runs.set(id, { ...run, ...change, updatedAt: new Date().toISOString() });
    if (payload) record(id, payload);
    for (const wake of waiters.get(id) ?? []) wake();
    waiters.delete(id);
  }

  function execute(id: string, workflow: FakeWorkflow, input: Json): void {
    if (requireRun(id).status !== 'running') return;
    record(id, { type: 'workflow_task', time: Date.now() });
    const lines = logs.get(id) ?? [];
    const log = (message: string): void =>
      void lines.push({ runId: id, index: 1000 + lines.length, at: Date.now(), level: 'info', message });
    logs.set(id, lines);
    try {
      const result = workflow(input, log);
      settle(id, { status: 'completed', result }, { type: 'run_completed', result });
    } catch (caught) {
      const error = toErrorInfo(caught);
      delete error.stack;
      // A workflow that throws a NondeterminismError stands for a replay that diverged: its run is parked stuck.
      if (caught instanceof NondeterminismError) settle(id, { status: 'stuck', error });
      else settle(id, { status: 'failed', error }, { type: 'run_failed', error });
    }
  }

  /** Runs the workflow of run `id` a little later, as a start does. */
  function schedule(id: string, workflow: FakeWorkflow, input: Json): void {
    setTimeout(() => execute(id, workflow, input), options.delays?.[requireRun(id).workflow] ?? options.runMs ?? 30).unref();
  }

  return {
    signals,
    retries,
    retired,

    async startRun(request) {
      const workflow = workflows[request.workflow];
      if (!workflow) throw new NotFoundError('workflow', request.workflow, deployedWorkflowsHint(Object.keys(workflows)));
      const existing = request.id === undefined ? undefined : runs.get(request.id);
      if (existing) return { run: existing, created: false };
      const id = request.id ?? `run-${++runCounter}`;
      const now = new Date().toISOString();
      const input = request.input ?? null;
      const run: RunView = { id, workflow: request.workflow, version: 'v1', status: 'running', input, createdAt: now, updatedAt: now };
      runs.set(id, run);
      record(id, { type: 'run_started', workflow: request.workflow, version: 'v1', input });
      schedule(id, workflow, input);
      return { run, created: true };
    },

    async getRun(id) {
      return requireRun(id);
    },

    async countRuns() {
      const counts: Partial<Record<RunStatus, number>> = {};
      for (const run of runs.values()) counts[run.status] = (counts[run.status] ?? 0) + 1;
      return counts;
    },

    async listCalls(id) {
      requireRun(id);
      return [];
    },

    async listRetries(id) {
      requireRun(id);
      return retryViews.get(id) ?? [];
    },

    async retryCall(id, step) {
      requireRun(id);
      throw new ConflictError(`call #${step} of run '${id}' is not waiting for a retry`);
    },

    async eventRouting() {
      return [];
    },

    watch() {
      return () => {};
    },

    async waitForRun(id, timeoutMs) {
      if (requireRun(id).status !== 'running') return requireRun(id);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done(): void {
          clearTimeout(timer);
          waiters.get(id)?.delete(done);
          resolve();
        }
        waiters.set(id, (waiters.get(id) ?? new Set()).add(done));
      });
      return requireRun(id);
    },

    async listRuns(query) {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
      const offset = query.cursor === undefined ? 0 : Number(query.cursor);
      const matching = [...runs.values()]
        .filter(
          (run) =>
            (query.workflow === undefined || run.workflow === query.workflow) &&
            (query.status === undefined || run.status === query.status) &&
            (query.updatedFrom === undefined || Date.parse(run.updatedAt) >= query.updatedFrom),
        )
        .reverse();
      const page = matching.slice(offset, offset + limit);
      return offset + limit < matching.length ? { runs: page, nextCursor: String(offset + limit) } : { runs: page };
    },

    async getHistory(id) {
      requireRun(id);
      return histories.get(id) ?? [];
    },

    async getHistoryTail(id, count) {
      requireRun(id);
      const all = histories.get(id) ?? [];
      return { events: all.slice(Math.max(0, all.length - count)), length: all.length };
    },

    async getHistoryPage(id, page = {}) {
      requireRun(id);
      const all = histories.get(id) ?? [];
      const read = (from: number, count: number) => Promise.resolve(all.filter((event) => event.seq >= from).slice(0, count));
      return readHistoryPage(read, page.after ?? -1, historyPageLimit(page.limit));
    },

    async getLogs(id, afterIndex) {
      requireRun(id);
      return logPageOf((logs.get(id) ?? []).filter((line) => afterIndex === undefined || line.index > afterIndex));
    },

    async cancelRun(id, reason) {
      const run = requireRun(id);
      if (run.status !== 'running') throw new ConflictError(`run ${id} is ${run.status}; only running runs can be cancelled`);
      record(id, reason === undefined ? { type: 'cancel_requested' } : { type: 'cancel_requested', reason });
      settle(id, { status: 'cancelled' }, { type: 'run_cancelled' });
      return requireRun(id);
    },

    async terminateRun(id, reason) {
      const run = requireRun(id);
      if (run.status !== 'running') throw new ConflictError(`run ${id} already ended as ${run.status}; there is nothing to terminate`);
      record(id, { type: 'cancel_requested', reason: `terminated through the API${reason === undefined ? '' : `: ${reason}`}` });
      settle(id, { status: 'cancelled' }, { type: 'run_cancelled' });
      return requireRun(id);
    },

    async retryRun(id, retryOptions) {
      const run = requireRun(id);
      if (!isRetriable(run.status)) throw new ConflictError(`run ${id} is ${run.status}; only a failed or stuck run can be retried`);
      if (retryOptions?.dryRun) {
        const refusal = options.refusedRetries?.[id];
        if (refusal !== undefined) throw new ConflictError(refusal);
        const { error: _error, ...preview } = run;
        return { ...preview, status: 'running' };
      }
      retries.push({ runId: id, latest: retryOptions?.latest === true });
      const view: RetryView = { at: new Date().toISOString(), version: run.version, keptHistoryLength: 0 };
      if (retryOptions?.by !== undefined) view.by = retryOptions.by;
      if (run.error !== undefined) view.previousError = run.error;
      retryViews.set(id, [...(retryViews.get(id) ?? []), view]);
      const { error: _dropped, ...rest } = run;
      runs.set(id, { ...rest, status: 'running', updatedAt: new Date().toISOString() });
      schedule(id, workflows[run.workflow] as FakeWorkflow, run.input);
      return requireRun(id);
    },

    async signalRun(id, name, payload) {
      const run = requireRun(id);
      if (!receivesSignals(run.status)) {
        throw new ConflictError(`run ${id} is ${run.status}; only running, queued or stuck runs receive signals`);
      }
      signals.push({ runId: id, name, payload });
      return { runId: id, duplicate: false };
    },

    async listWorkflows() {
      const deployedAt = new Date(0).toISOString();
      return Object.keys(workflows).map((name): WorkflowView => ({
        name,
        version: 'v1',
        triggers: [],
        permissions: {},
        deployedAt,
        versions: [{ version: 'v1', deployedAt, active: true }],
      }));
    },

    listDeployProblems: () => Promise.resolve([]),

    async retireWorkflow(name) {
      if (!(name in workflows)) throw new NotFoundError('workflow', name);
      retired.push(name);
    },

    webhookSourceOf() {
      throw new UnauthorizedError('these fake operations have no webhook source');
    },

    async ingestGitLabWebhook() {
      // Webhook intake is tested against the real operations (test/e2e/webhooks.test.ts).
      throw new UnauthorizedError('these fake operations have no webhook source');
    },

    async ingestEvent(event: CloudEvent) {
      const existing = events.find((stored) => stored.source === event.source && stored.id === event.id);
      if (existing) return { seq: existing.seq, duplicate: true };
      const seq = events.length + 1;
      events.push({ ...event, seq, receivedAt: Date.now() });
      return { seq, duplicate: false };
    },

    async listEvents({ limit = 50, beforeSeq, type }) {
      return events
        .filter((event) => (beforeSeq === undefined || event.seq < beforeSeq) && (type === undefined || event.type === type))
        .reverse()
        .slice(0, limit);
    },

    async authenticate(given) {
      return given === token;
    },
    revokeSession(id, until) {
      revokedSessions.set(id, until);
      return Promise.resolve();
    },
    isSessionRevoked(id) {
      return Promise.resolve((revokedSessions.get(id) ?? 0) > Date.now());
    },

    async health() {
      return { ok: true, store: 'fake', workflows: Object.keys(workflows).length };
    },

    // Fake workflows never wait for people: there are no tasks to list, read or act on.
    async listTasks() {
      return { tasks: [] };
    },
    async getTask(id) {
      throw new NotFoundError('task', id);
    },
    async submitTask(id) {
      throw new NotFoundError('task', id);
    },
    async decideTask(id) {
      throw new NotFoundError('task', id);
    },
  };
}

/** A Logger that keeps what it is given, for assertions. */
export function createMemoryLogger(): Logger & { entries: Array<{ level: string; data: object; message?: string }> } {
  const entries: Array<{ level: string; data: object; message?: string }> = [];
  const at =
    (level: string) =>
    (data: object, message?: string): void =>
      void entries.push(message === undefined ? { level, data } : { level, data, message });
  const logger = { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}
