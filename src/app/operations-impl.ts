import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { hashToken } from './api-tokens.js';
import { withConcurrency } from '../core/concurrency.js';
import type { Engine } from '../core/engine.js';
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError, toError } from '../core/errors.js';
import { matchWebhookSource, webhookRefusal, webhookScopeProblem, type WebhookSource } from '../gitlab/webhook-auth.js';
import { normalizeGitLabWebhook } from '../gitlab/webhook-event.js';
import { jsonEqual } from '../core/json.js';
import { storableJsonProblem } from '../core/storable-json.js';
import {
  isUnderway,
  receivesSignals,
  TERMINAL_STATUSES,
  type CloudEvent,
  type DeployedDefinition,
  type Json,
  type RunRecord,
  type StoredEvent,
} from '../core/model.js';
import type { Clock, SecretSource, Store } from '../core/ports.js';
import { HEALTH_BUDGET_MS, withinBudget } from './metrics.js';
import { historyPageLimit, readHistoryPage, readHistoryTail } from './history-page.js';
import { inputWhenNoneGiven } from './input-check.js';
import { HELD_BY_SHOWN, LOG_PAGE_LINES, logPageOf, type Operations, type RunView, type SignalDelivery } from './operations.js';
import { triggerTypeMatches } from '../core/filter.js';
import { triggeredRunId } from '../core/router.js';
import { clientRunIdProblem } from '../core/run-id.js';
import { SIGNAL_NAME_PATTERN, SIGNAL_NAME_RULE } from '../core/signal-name.js';
import { IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE } from '../core/idempotency-key.js';
import { carriedSignalKey, continuedAs, predecessorId } from '../core/task.js';
import { cutText } from '../core/text-cut.js';
import { createTaskOperations } from './task-operations.js';
import { terminateRun as terminate } from './operations-terminate.js';
import type { DeployProblem } from './deploy.js';
import { brokenFileWarnings, toDeployProblemView, toRunView, toWorkflowView } from './views.js';

export interface OperationsDeps {
  engine: Engine;
  store: Store;
  clock: Clock;
  checkInput: (definition: DeployedDefinition, input: Json) => void;
  /** The admin token from AUTOFLOW_API_TOKEN, when set: then the only one accepted (the stored one is not). */
  adminToken?: string;
  /** Who may post GitLab webhooks, each with its own secret. */
  webhookSources: readonly WebhookSource[];
  /** The secrets whose values run views show as references: a run's input is stored as given, for the run to read. */
  secrets?: SecretSource;
  /** The workflow files that failed to build at the latest deploy (DeployProblems); none when absent. */
  deployProblems?: () => readonly DeployProblem[];
}

/** How often a run waited for is read again, for when another node runs it. */
const RECHECK_MS = 1000;
/** A mistyped workflow name's error lists at most this many deployed names. */
const MAX_NAMES_IN_HINT = 20;

/** C0, DEL and C1 controls: none belongs in an id or a URI-reference. */
export const CONTROL_CHARACTER = /\p{Cc}/u;
export const CONTROL_CHARACTER_ISSUE =
  'no control characters (newline, tab…): source and id together are the key that de-duplicates events';

/** The sources of the events the server writes itself. */
const SERVER_SOURCE_PREFIX = 'autoflow:';
const SERVER_SOURCE_ISSUE =
  "sources starting with 'autoflow:' are the server's own (events workflows emit, answers to tasks, signals); " +
  'name where the event comes from instead, such as https://ci.example.com or /billing';
/** The types of the events the server writes itself: a forged one could answer a task or end a child's run. */
const SERVER_TYPE_PREFIX = 'autoflow.';
const SERVER_TYPE_ISSUE =
  "types starting with 'autoflow.' are the server's own (answers to tasks, signals, ends of runs): people answer " +
  'tasks in the web UI, and a signal is sent with `autoflow signal` or POST /api/v1/runs/{id}/signals/{name}';

/** A redelivery of the same event: what it says, not when it was sent (`time`), is compared. */
function sameCloudEvent(stored: CloudEvent, event: CloudEvent): boolean {
  return (
    stored.type === event.type &&
    stored.subject === event.subject &&
    stored.datacontenttype === event.datacontenttype &&
    jsonEqual(stored.data ?? null, event.data ?? null)
  );
}

/**
 * The event id of a signal sent under a client's idempotency key: the same run address, name and key give the same id,
 * whatever the payload, so that a resend with another payload is found and refused.
 */
function keyedSignalEventId(runId: string, name: string, idempotencyKey: string): string {
  return `keyed-${createHash('sha256')
    .update(JSON.stringify([runId, name, idempotencyKey]))
    .digest('hex')
    .slice(0, 32)}`;
}

/** Registers `onEnd` for when run `id` ends here; returns how to unregister it. */
type WatchRunEnd = (id: string, onEnd: (run: RunRecord) => void) => () => void;

/** Where a signal comes from: a person, a workflow's run (`sendSignal`), or else an API client. */
function signalSource(by: string | undefined, fromWorkflow: string | undefined): string {
  if (by !== undefined) return `autoflow:user/${by}`;
  return fromWorkflow === undefined ? 'autoflow:api' : `autoflow:workflow/${fromWorkflow}`;
}

/**
 * One engine listener for every request waiting for a run to end, each task commit a map lookup:
 * a listener per waiting request would make every step of every run call all of them.
 */
function runEndWatchers(engine: Engine): WatchRunEnd {
  const byRun = new Map<string, Set<(run: RunRecord) => void>>();
  engine.events.on('run:updated', ({ run }) => {
    if (isUnderway(run.status)) return;
    for (const onEnd of byRun.get(run.id) ?? []) onEnd(run);
  });
  return (id, onEnd) => {
    let watchers = byRun.get(id);
    if (!watchers) byRun.set(id, (watchers = new Set()));
    watchers.add(onEnd);
    return () => {
      watchers.delete(onEnd);
      if (watchers.size === 0 && byRun.get(id) === watchers) byRun.delete(id);
    };
  };
}

/**
 * `ended` resolves when run `id` ends, with its record as it ended, or at `deadline`, with none.
 * The engine's event tells of runs this node advances, with the committed record; a run another
 * node advances makes no event here, so the store is read again every RECHECK_MS. A failed read
 * is only a missed look: the caller's read after the wait reports what is wrong.
 */
function watchForEnd(
  { store, clock }: OperationsDeps,
  watchRunEnd: WatchRunEnd,
  id: string,
  deadline: number,
): { ended: Promise<RunRecord | undefined>; stop: () => void } {
  let stop = (): void => {};
  const ended = new Promise<RunRecord | undefined>((resolve) => {
    let stopped = false;
    let cancelTimer = (): void => {};
    const end = (run?: RunRecord): void => {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      cancelTimer();
      resolve(run);
    };
    const unsubscribe = watchRunEnd(id, end);
    const recheck = (): void => {
      if (stopped) return;
      if (clock.now() >= deadline) return end();
      cancelTimer = clock.schedule(Math.min(deadline, clock.now() + RECHECK_MS), () => {
        store.getRun(id).then((run) => (run && !isUnderway(run.status) ? end(run) : recheck()), recheck);
      });
    };
    stop = () => end();
    recheck();
  });
  return { ended, stop };
}

/** Names the deployed workflows, so that a mistyped name is fixed without another command. */
export function deployedWorkflowsHint(deployed: readonly string[]): string {
  if (deployed.length === 0) return "no workflow is deployed: check the server's workflows folder (--workflows) and its log";
  const names = [...deployed].sort();
  const shown = names.slice(0, MAX_NAMES_IN_HINT).join(', ');
  return `deployed: ${shown}${names.length > MAX_NAMES_IN_HINT ? ` and ${names.length - MAX_NAMES_IN_HINT} more (autoflow workflows lists them)` : ''}`;
}

/** The operations layer: what the CLI and the HTTP API both do, in one place. */
export function createOperations(deps: OperationsDeps): Operations {
  const { engine, store, clock } = deps;
  const watchRunEnd = runEndWatchers(engine);
  const view = (run: RunRecord, options: { continuedFrom?: string | undefined } = {}): RunView =>
    toRunView(run, { ...options, secrets: deps.secrets });
  const problems = () => (deps.deployProblems?.() ?? []).map(toDeployProblemView);

  /** The webhook source whose secret `X-Gitlab-Token` carries; UnauthorizedError when none. */
  function webhookSourceFor(headers: Readonly<Record<string, string | undefined>>): WebhookSource {
    const source = matchWebhookSource(deps.webhookSources, headers['x-gitlab-token']);
    if (!source) throw new UnauthorizedError(webhookRefusal(deps.webhookSources));
    return source;
  }

  async function requireRun(id: string): Promise<RunRecord> {
    const run = await store.getRun(id);
    if (!run) throw new NotFoundError('run', id);
    return run;
  }

  /** A run read on its own, with the run it continues: the id a successor's name points at, if that run continued as it. */
  async function describeRun(run: RunRecord): Promise<RunView> {
    const candidate = predecessorId(run.id);
    const previous = candidate === undefined ? undefined : await store.getRun(candidate);
    const described = view(run, { continuedFrom: previous && continuedAs(previous) === run.id ? previous.id : undefined });
    if (run.status === 'queued' && described.concurrency) {
      described.concurrency.heldBy = await store.listGroupSlotHolders(described.concurrency.group, HELD_BY_SHOWN);
    }
    return described;
  }

  /** The run `run`'s continue-as-new chain goes on in: `run` itself unless it continued (and its successor is still kept). */
  async function latestOfChain(run: RunRecord): Promise<RunRecord> {
    let latest = run;
    for (let next = continuedAs(latest); next !== undefined; next = continuedAs(latest)) {
      const successor = await store.getRun(next);
      if (!successor) break;
      latest = successor;
    }
    return latest;
  }

  /**
   * A signal stored for a run that continued as new since it was read (its continue committed between that read and
   * the signal's insert): the commit that continued it carried the signals it had not taken, but not this one. It
   * goes to the run the chain goes on in, keyed as a carried copy (carriedSignalKey): when the continue did carry
   * it, this copy is that one again. A signal the run received before it continued is in its history: not sent
   * twice. Returns the run it went to, if it was forwarded.
   */
  async function forwardIfContinued(runId: string, event: CloudEvent): Promise<string | undefined> {
    const run = await store.getRun(runId);
    if (!run || continuedAs(run) === undefined) return undefined;
    const received = (await store.loadHistory(runId)).some(
      (recorded) => recorded.type === 'wait_satisfied' && recorded.event.source === event.source && recorded.event.id === event.id,
    );
    if (received) return undefined;
    const latest = await latestOfChain(run);
    if (latest.status !== 'running') return undefined;
    await engine.ingest({ ...event, subject: latest.id }, carriedSignalKey(latest.id, event));
    return latest.id;
  }

  /**
   * The run a cancel or terminate of `id` acts on: the run its continue-as-new chain goes on in, as for a signal (the
   * id stays the workflow's address). ConflictError, naming both runs, when that run has ended.
   */
  async function runToEnd(id: string, action: 'cancel' | 'terminate'): Promise<RunRecord> {
    const run = await latestOfChain(await requireRun(id));
    if (!TERMINAL_STATUSES.includes(run.status)) return run;
    const where =
      run.id === id ? `run ${id} already ended as ${run.status}` : `run ${id} continued as ${run.id}, which ended as ${run.status}`;
    throw new ConflictError(`${where}; there is nothing to ${action}`);
  }

  /**
   * No active version of `name`: one that had versions was retired, which says how to bring it back; one whose file
   * fails to build says why.
   */
  async function workflowNotFound(name: string): Promise<NotFoundError> {
    const broken = problems().find((problem) => problem.workflow === name || problem.file.replace(/\.ts$/, '') === name);
    const buildProblem =
      broken &&
      `its file ${broken.file} fails to build (since ${broken.since}): ${cutText(broken.message.replace(/\s*\n\s*/g, ' '), 300)} ` +
        '(`autoflow workflows` shows the whole error)';
    const versions = await store.listDefinitionVersions(name);
    // An active version this node has not loaded yet (another node deployed it) is not a retirement.
    if (versions.length > 0 && !versions.some((version) => version.active)) {
      return new NotFoundError(
        'workflow',
        name,
        'it was retired (undeployed, or its file left the workflows folder): deploy its file again to run it ' +
          `(the server deploys its workflows folder when it starts, and on every change with --dev)${buildProblem ? `; ${buildProblem}` : ''}`,
      );
    }
    if (buildProblem) return new NotFoundError('workflow', name, buildProblem);
    return new NotFoundError('workflow', name, deployedWorkflowsHint(engine.definitions().map((deployed) => deployed.name)));
  }

  /** `run`, which a client asked to start again under its id as a run of `workflow`; ConflictError when it is another's. */
  function sameWorkflow(run: RunRecord, workflow: string): RunRecord {
    if (run.workflow === workflow) return run;
    throw new ConflictError(
      `run '${run.id}' exists already, a run of workflow '${run.workflow}': run ids are unique across workflows, choose another for a run of '${workflow}'`,
      { id: run.id, workflow: run.workflow },
    );
  }

  /**
   * The run, when it was started by the same request: a run id names one request, as an idempotency key does, so a
   * client that reuses an id with another input (a CI job run again with new parameters) is told, not handed the old
   * run's result as if it were the answer to its new input.
   */
  async function sameRequest(run: RunRecord, workflow: string, input: Json | undefined): Promise<RunRecord> {
    sameWorkflow(run, workflow);
    const [started] = await store.loadHistory(run.id, 0, 1);
    // A request without an input started its run with what the workflow takes for none, `null` or `{}`
    // (inputWhenNoneGiven), whichever its schema took then: sent again, it is the same request.
    const same = (given: Json): boolean => (input === undefined ? given === null || jsonEqual(given, {}) : jsonEqual(given, input));
    if (started?.type === 'run_started' && !same(started.input)) {
      throw new ConflictError(
        `run '${run.id}' exists already (${run.status}), started with another input: a run id names one request, choose another id for this input${run.status === 'failed' ? ` (\`autoflow retry ${run.id}\` runs the failed run again with its own input)` : ''}`,
        { id: run.id, workflow: run.workflow, status: run.status },
      );
    }
    return run;
  }

  /**
   * What retrying a child does not do for its parent, which received the child's failure when it failed: a parent
   * that went on has it for good, one that ended will not hear of the child again, and one that failed with it goes
   * on only when it is retried itself (docs/engine.md, Retrying failed runs). Said where the retry is asked for, which
   * would otherwise look like the fix of the parent's fan-out.
   */
  async function parentWarnings(child: RunView): Promise<string[]> {
    if (child.parentId === undefined) return [];
    const parent = await store.getRun(child.parentId);
    if (!parent) return [];
    const about = `its parent run ${parent.id} (${parent.status})`;
    if (parent.status === 'running') {
      return [`${about} received this run's failure already and goes on with it: retrying this run does not change what the parent saw`];
    }
    if (parent.status === 'failed') {
      return [`${about} goes on only when it is retried too: autoflow retry ${parent.id}`];
    }
    return [`${about} has ended: nothing receives this run's result`];
  }

  return {
    ...createTaskOperations({ engine, store, clock }),

    async startRun(request) {
      const idProblem = request.id === undefined ? undefined : clientRunIdProblem(request.id);
      if (idProblem !== undefined) throw new ValidationError('run id is invalid', [`id: ${idProblem}`]);
      // Idempotent by id, first of all: a client that sends its request again (after a timeout, say) gets the run it
      // started, even once its workflow was retired or its input schema changed.
      const existing = request.id === undefined ? undefined : await store.getRun(request.id);
      if (existing) return { run: view(await sameRequest(existing, request.workflow, request.input)), created: false };
      const definition = engine.activeDefinition(request.workflow);
      if (!definition) throw await workflowNotFound(request.workflow);
      // An explicit `null` is the client's to send, and the schema's to refuse.
      const input = request.input === undefined ? inputWhenNoneGiven(deps.checkInput, definition) : request.input;
      const tooDeep = storableJsonProblem('input', input);
      if (tooDeep !== undefined) throw new ValidationError('run input is refused', [tooDeep]);
      deps.checkInput(definition, input);
      // Idempotent by id: a run that exists already comes back as it is, with created false.
      const newRun = {
        id: request.id ?? randomUUID(),
        workflow: definition.name,
        version: definition.version,
        input,
        createdAt: clock.now(),
      };
      const { created, run } = await engine.submitRun(withConcurrency(newRun, definition.manifest.concurrency));
      return { run: view(created ? run : await sameRequest(run, definition.name, request.input)), created };
    },

    async getRun(id) {
      return describeRun(await requireRun(id));
    },

    async waitForRun(id, timeoutMs) {
      // Watched before the run is read, so that an end between the read and the wait is not missed.
      const watch = watchForEnd(deps, watchRunEnd, id, clock.now() + timeoutMs);
      try {
        const run = await requireRun(id);
        if (!isUnderway(run.status)) return describeRun(run);
        // The record the run ended with, as committed: no second read.
        return describeRun((await watch.ended) ?? (await requireRun(id)));
      } finally {
        watch.stop();
      }
    },

    async listRuns(query) {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
      const page = await store.listRuns({ ...query, limit });
      const result: { runs: RunView[]; nextCursor?: string } = { runs: page.runs.map((run) => view(run)) };
      if (page.nextCursor !== undefined) result.nextCursor = page.nextCursor;
      return result;
    },

    async countRuns() {
      return store.countRunsByStatus();
    },

    async getHistory(id) {
      await requireRun(id);
      return store.loadHistory(id);
    },

    async getHistoryTail(id, count) {
      const run = await requireRun(id);
      const read = (from: number, events: number) => store.loadHistory(id, from, events);
      return { events: await readHistoryTail(read, run.historyLength, Math.max(0, Math.floor(count))), length: run.historyLength };
    },

    async getHistoryPage(id, page = {}) {
      await requireRun(id);
      const read = (from: number, count: number) => store.loadHistory(id, from, count);
      return readHistoryPage(read, page.after ?? -1, historyPageLimit(page.limit));
    },

    async getLogs(id, afterIndex) {
      await requireRun(id);
      // One line more than a page: whether there is a next page, without a second query.
      const lines = await store.listLogs(id, { ...(afterIndex === undefined ? {} : { afterIndex }), limit: LOG_PAGE_LINES + 1 });
      return logPageOf(lines);
    },

    async listCalls(id) {
      await requireRun(id);
      const now = clock.now();
      return (await store.listCalls(id)).map((call) => ({
        step: call.step,
        capability: call.capability,
        method: call.method,
        attempts: call.attempts,
        nextAt: new Date(call.nextAt).toISOString(),
        ...(call.lastError ? { lastError: call.lastError } : {}),
        ...(call.lease
          ? { lease: { node: call.lease.owner, until: new Date(call.lease.until).toISOString(), passed: call.lease.until <= now } }
          : {}),
      }));
    },

    async retryCall(id, step) {
      await requireRun(id);
      const call = (await store.listCalls(id)).find((candidate) => candidate.step === step);
      if (!call?.lastError || call.attempts === 0) {
        throw new ConflictError(`call #${step} of run '${id}' is not waiting for a retry (it is resolved, or running its first attempt)`);
      }
      // At least once, as always: an attempt that was starting at this moment may run besides this one.
      if (!(await store.rescheduleCall(id, step, call.attempts, clock.now(), call.lastError))) {
        throw new ConflictError(`call #${step} of run '${id}' was resolved meanwhile`);
      }
      engine.notify();
    },

    async cancelRun(id, reason, by) {
      const run = await runToEnd(id, 'cancel');
      // The store takes one cancel per run (a second would only repeat the first in its history): say so instead.
      // Two first requests at once both get here and are both answered as first; the store still records one.
      const askedBefore = run.status === 'running' && (await store.cancelRequestedAt(run.id)) !== undefined;
      if (askedBefore) return { ...view(run), alreadyRequested: true };
      return view(await engine.cancel(run.id, reason, by));
    },

    async terminateRun(id, reason, by) {
      return view(await terminate({ engine, store, clock }, await runToEnd(id, 'terminate'), reason, by));
    },

    async retryRun(id, options) {
      const { run: retried, from } = await engine.retry(id, options);
      const run = view(retried);
      const warnings = [
        // The active version is the last that built: a file saved broken since is not the code the run goes on with.
        ...(options?.latest ? brokenFileWarnings(run, problems(), engine.activeDefinition(run.workflow)) : []),
        // A stuck run has not ended: its parent still waits for it, and hears how it ends.
        ...(from === 'failed' ? await parentWarnings(run) : []),
      ];
      return warnings.length > 0 ? { ...run, warnings } : run;
    },

    async listRetries(id) {
      await requireRun(id);
      return (await store.listRunRetries(id)).map(({ at, ...retry }) => ({ at: new Date(at).toISOString(), ...retry }));
    },

    async signalRun(id, name, payload, { by, fromWorkflow, idempotencyKey } = {}) {
      if (!SIGNAL_NAME_PATTERN.test(name)) throw new ValidationError('signal name is invalid', [`name: ${SIGNAL_NAME_RULE}`]);
      if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
        throw new ValidationError('Idempotency-Key is invalid', [`Idempotency-Key: ${IDEMPOTENCY_KEY_RULE}`]);
      }
      // A key names the signal's event, so that the inbox, which keeps one event per id, delivers it once.
      const eventId = idempotencyKey === undefined ? randomUUID() : keyedSignalEventId(id, name, idempotencyKey);
      const dedupeKey = `signal:${eventId}`;
      // A signal without a payload has no `data`, one with a payload (`null` too) says it carries JSON: `signal()` tells
      // them apart by that attribute, as signals stored before it was set had `data: null` for none and must replay so.
      const carried = (event: CloudEvent): Json | undefined =>
        event.datacontenttype === undefined ? (event.data ?? undefined) : (event.data ?? null);
      const samePayload = (earlier: StoredEvent): boolean => {
        const before = carried(earlier);
        return before === undefined || payload === undefined ? before === payload : jsonEqual(before, payload);
      };
      const sentBefore = (earlier: StoredEvent | undefined): SignalDelivery => {
        if (earlier === undefined || !samePayload(earlier)) {
          throw new ConflictError(
            `Idempotency-Key '${idempotencyKey}' was used before for signal '${name}' to run ${id}, with another payload; send a new signal under a new key`,
          );
        }
        return { runId: earlier.subject ?? id, duplicate: true };
      };
      // Asked before the run's state, so that a client retrying a signal that was delivered hears so after the run ended.
      if (idempotencyKey !== undefined) {
        const earlier = await store.findEvent(dedupeKey);
        if (earlier) return sentBefore(earlier);
      }
      // A run that continued as new goes on under its successor's id: the signal goes there.
      const run = await latestOfChain(await requireRun(id));
      // A queued run's signals wait in the inbox, where its first wait for them finds them; a stuck run's reach its
      // mailbox, for when it is retried.
      if (!receivesSignals(run.status)) {
        const where = run.id === id ? `run ${id} is ${run.status}` : `run ${id} continued as ${run.id}, which is ${run.status}`;
        throw new ConflictError(`${where}; only running, queued or stuck runs receive signals`);
      }
      const event: CloudEvent = {
        specversion: '1.0',
        id: eventId,
        source: signalSource(by, fromWorkflow),
        type: `autoflow.signal.${name}`,
        subject: run.id,
        time: new Date(clock.now()).toISOString(),
        ...(payload !== undefined && { datacontenttype: 'application/json', data: payload }),
      };
      const { seq, duplicate } = await engine.ingest(event, dedupeKey);
      // The same key sent twice at once: the other request stored its signal first.
      if (duplicate) return sentBefore(await store.getEvent(seq));
      return { runId: (await forwardIfContinued(run.id, event)) ?? run.id, duplicate: false };
    },

    async listWorkflows() {
      const broken = problems();
      const problemsOf = (name: string) => broken.filter((problem) => problem.workflow === name);
      return Promise.all(
        engine
          .definitions()
          .map(async (definition) =>
            toWorkflowView(definition, await store.listDefinitionVersions(definition.name), problemsOf(definition.name), clock.now()),
          ),
      );
    },

    listDeployProblems: () => Promise.resolve(problems()),

    async retireWorkflow(name) {
      if (!(await engine.retire(name))) throw await workflowNotFound(name);
    },

    webhookSourceOf(headers) {
      return webhookSourceFor(headers).name;
    },

    async ingestGitLabWebhook({ headers, body }) {
      const source = webhookSourceFor(headers);
      const { event, dedupeKey } = normalizeGitLabWebhook({ headers, body, source, receivedAt: clock.now() });
      const outOfScope = webhookScopeProblem(source, event.data);
      if (outOfScope !== undefined) throw new ForbiddenError(outOfScope, { source: source.name });
      const result = await engine.ingest(event, dedupeKey);
      if (!result.duplicate) return { ...result, type: event.type };
      // A redelivery answers what is stored: the first delivery under its key is the one kept.
      const stored = await store.getEvent(result.seq);
      const differs = stored !== undefined && (stored.type !== event.type || JSON.stringify(stored.data) !== JSON.stringify(event.data));
      return { ...result, type: stored?.type ?? event.type, ...(differs ? { bodyDiffers: true } : {}) };
    },

    async ingestEvent(event) {
      // The key joins source and id with a newline (stored keys and run ids derive from it): with
      // control characters allowed, `a\nb` + `c` and `a` + `b\nc` would be one event.
      const issues = (['source', 'id'] as const)
        .filter((field) => CONTROL_CHARACTER.test(event[field]))
        .map((field) => `${field}: ${CONTROL_CHARACTER_ISSUE}`);
      // The server's own events (what workflows emit, people's answers to tasks, signals, ends of runs) are trusted
      // as such: subscribers get emitted ones, a task's answer names who gave it. None may come from outside.
      if (event.source.startsWith(SERVER_SOURCE_PREFIX)) issues.push(`source: ${SERVER_SOURCE_ISSUE}`);
      if (event.type.startsWith(SERVER_TYPE_PREFIX)) issues.push(`type: ${SERVER_TYPE_ISSUE}`);
      if (issues.length > 0) throw new ValidationError('invalid CloudEvent', issues);
      const result = await engine.ingest(event, `${event.source}\n${event.id}`);
      if (!result.duplicate) return result;
      const stored = await store.getEvent(result.seq);
      // Not part of Operations' type: the HTTP route reads it to log a warning, as it does for webhooks, and drops it.
      return stored !== undefined && !sameCloudEvent(stored, event) ? { ...result, storedType: stored.type, bodyDiffers: true } : result;
    },

    async listEvents(options) {
      return store.listEvents({ ...options, limit: Math.min(Math.max(options.limit ?? 50, 1), 500) });
    },

    async eventRouting(events) {
      const page = events.slice(0, 100);
      // The runs triggers start have ids derived from the event: candidates by primary key, not a scan. Types match as
      // the router matches them (globs too); filters are left out, since the store tells which candidates exist, and a
      // filter changed since the event was routed must not hide the run it started.
      const runIds = page.flatMap((event) =>
        engine
          .definitions()
          .flatMap((definition) => [
            ...new Set(
              definition.manifest.triggers
                .filter((trigger) => triggerTypeMatches(trigger, event.type))
                .map((trigger) => triggeredRunId(definition.name, event, 'event' in trigger ? trigger.runKey : undefined)),
            ),
          ]),
      );
      return store.summarizeRouting({ seqs: page.map((event) => event.seq), runIds });
    },

    watch(listener) {
      const stops = [
        engine.events.on('run:updated', ({ run }) => listener({ kind: 'run', runId: run.id, status: run.status, finished: false })),
        engine.events.on('run:finished', ({ runId, status }) => listener({ kind: 'run', runId, status, finished: true })),
        engine.events.on('run:retried', ({ run }) => listener({ kind: 'run', runId: run.id, status: run.status, finished: false })),
        engine.events.on('event:routed', (routed) => listener({ kind: 'event', ...routed })),
      ];
      return () => stops.forEach((stop) => stop());
    },

    revokeSession: (id, until) => store.revokeSession(id, until, clock.now()),
    isSessionRevoked: (id) => store.isSessionRevoked(id, clock.now()),

    async authenticate(token) {
      // A token set by the operator replaces the one the first start printed: setting it is how that one is revoked.
      if (deps.adminToken !== undefined) return timingSafeEqual(Buffer.from(hashToken(token)), Buffer.from(hashToken(deps.adminToken)));
      return store.hasApiToken(hashToken(token));
    },

    async health() {
      // A real query, so that a server whose database is gone reports it; within a budget, so that
      // one whose database hangs reports it too instead of leaving the probe without an answer.
      const reason = await withinBudget(store.countApiTokens(), HEALTH_BUDGET_MS, `the ${store.kind} store`).then(
        () => undefined,
        (error: unknown) => toError(error).message,
      );
      const health = { ok: reason === undefined, store: store.kind, workflows: engine.definitions().length };
      return reason === undefined ? health : { ...health, reason };
    },
  };
}
