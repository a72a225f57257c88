import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { pino } from 'pino';
import { VirtualClock } from '../app/clocks.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../app/runtime.js';
import type { ActivityFunction } from '../capabilities/activities.js';
import type { DatabaseConfig } from '../config/database.js';
import type { ListTasksQuery, TaskView } from '../app/operations.js';
import { isUnderway, type CloudEvent, type HistoryEvent, type Json, type LogRecord, type RunRecord } from '../core/model.js';
import { continuedAs } from '../core/task.js';
import type { Capability, Logger } from '../core/ports.js';
import { callsOf, type RecordedCall } from './calls.js';
import { parseDuration } from './duration.js';
import { envCapabilities } from './env-capabilities.js';
import type { SeedDescription } from './gitlab-sim/index.js';
import { TestGitLab } from './gitlab.js';
import { CallsInFlight } from './in-flight.js';
import { CapabilitySwitch, mockCapability, type MockHandler } from './mocks.js';

export { mockCapability, type MockHandler } from './mocks.js';
import { toPath } from './file-path.js';
import { TestIds } from './ids.js';
import { pendingOf } from './pending.js';

export interface TestEnvOptions {
  /** Workflow files to deploy: paths (relative to the working directory) or `file:` URLs. */
  workflows: readonly (string | URL)[];
  /** Where virtual time starts. @default 2026-01-05T09:00:00Z (a Monday) */
  now?: Date | number;
  /**
   * A GitLab simulator seeded from this description (see `demoSeed()`): workflows' `gitlab.*`
   * calls reach it as the seed's first user, and its webhooks arrive as events. Reach it as `env.gitlab`.
   */
  gitlab?: SeedDescription;
  /** @default { kind: 'memory' } */
  db?: DatabaseConfig;
  secrets?: Record<string, string>;
  activities?: Record<string, ActivityFunction>;
  /** Capabilities that replace built-in ones (or add new ones), by name. */
  capabilities?: Capability[];
  /** Capabilities answered by functions, by name: `{ http: (method, args) => ({ status: 200, … }) }`. */
  mocks?: Record<string, MockHandler>;
  /**
   * The fetch behind `http.request`, for a test that sends real requests (to a stand-in, say). Without it tests run
   * without a network: a request that no mock answers fails at once, naming its URL and how to mock it, unless one of
   * autoflow/testing's stand-ins (`listenLoopback`) serves it.
   */
  fetch?: typeof fetch;
  /**
   * What the ids the environment makes are derived from: the run ids of `start` without an id, the event ids of
   * `emit`, the simulator's webhook deliveries (and so the ids of the runs they trigger). The same seed gives the same
   * ids on every test run, and a run's id seeds its `Math.random()`: change it to see other draws. The engine's retry
   * jitter draws from it too, so that retries happen at the same virtual times on every test run. @default 'autoflow'
   */
  idSeed?: string;
  sandbox?: { memoryMb?: number; cpuMs?: number; cacheSize?: number; cacheMemoryMb?: number; threads?: number };
  /**
   * False: cron triggers never fire, so `advance` moves time without the passes a schedule would start; start such
   * a workflow with `env.start` when the test wants it. @default true
   */
  schedules?: boolean;
  logger?: Logger;
}

/**
 * The server log's destination in a test: its deploy warnings (logged with the workflow file) go to `warnings` and out
 * as process warnings, since a test that sees no run for a mistyped trigger would otherwise fail without a word; the
 * rest of the log is dropped.
 */
function deployWarningSink(warnings: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const line = JSON.parse(chunk.toString()) as { level?: number; file?: string; msg?: string };
      if (line.level === WARN_LEVEL && line.file !== undefined && line.msg !== undefined) {
        const warning = `${line.file}: ${line.msg}`;
        warnings.push(warning);
        process.emitWarning(warning, 'AutoFlowDeployWarning');
      }
      done();
    },
  });
}

/** pino's number for `warn`. */
const WARN_LEVEL = 40;

/** Event-loop turns a mocked call must stay unanswered, with nothing else starting or ending, to count as waiting for time. */
const STALLED_ROUNDS = 3;

/**
 * An isolated engine for tests: in-memory store, virtual clock that jumps to the next timer
 * whenever every run is idle, an optional GitLab simulator, and helpers to start runs, send
 * events and read what happened.
 */
export class TestEnv {
  /** The operations layer, with the environment's own ids for runs started without one. */
  readonly operations: Runtime['operations'];

  private constructor(
    readonly runtime: Runtime,
    readonly clock: VirtualClock,
    private readonly capabilities: CapabilitySwitch,
    private readonly simulator: TestGitLab | undefined,
    private readonly ids: TestIds,
    private readonly inFlight: CallsInFlight,
    /**
     * What deploying the workflows warned about, as `autoflow check` prints it (a trigger on an event type GitLab never
     * sends, a schedule whose input the schema refuses…); each is also a process warning, on stderr. Empty with a
     * `logger` of the test's own, which receives them instead.
     */
    readonly warnings: readonly string[],
  ) {
    const { operations } = runtime;
    this.operations = { ...operations, startRun: (request) => operations.startRun({ ...request, id: request.id ?? ids.next('run') }) };
  }

  static async create(options: TestEnvOptions): Promise<TestEnv> {
    const start = options.now === undefined ? undefined : typeof options.now === 'number' ? options.now : options.now.getTime();
    if (start !== undefined && Number.isNaN(new Date(start).getTime())) {
      throw new TypeError(`createTestEnv({ now }): ${String(options.now)} is no time; pass a valid Date or epoch milliseconds`);
    }
    const clock = new VirtualClock(start);
    const ids = new TestIds(options.idSeed ?? 'autoflow');
    const simulator = options.gitlab ? new TestGitLab(options.gitlab, clock, () => ids.next('webhook')) : undefined;
    // A mocked gitlab reads the path of a project named by id from the simulator, as the real one reads it from GitLab.
    const mockOptions = { clock, ...(simulator ? { gitlab: simulator.capability } : {}) };
    const inFlight = new CallsInFlight();
    const mocks = Object.entries(options.mocks ?? {}).map(([name, handler]) => mockCapability(name, handler, mockOptions));
    // Mocks stand in for the other side and answer at once: what they have not answered when nothing else happens,
    // time may pass for. The activities given are the operator's real code, waited for as on a server.
    const capabilities = new CapabilitySwitch(inFlight, mocks, mockOptions);
    const base = embeddedRuntimeConfig({ db: options.db ?? { kind: 'memory' }, workflowsDir: '.' });
    const workflowFiles = options.workflows.map((file) => resolve(toPath(file)));
    const missing = workflowFiles.filter((file) => !existsSync(file));
    if (missing.length > 0) {
      throw new Error(
        `createTestEnv: no workflow file at ${missing.join(', ')}: a relative path is taken from the current directory (${process.cwd()}); ` +
          "name it from the test file instead: new URL('./workflow.ts', import.meta.url)",
      );
    }
    const deployWarnings: string[] = [];
    const runtime = await createRuntime(
      {
        ...base,
        workflowFiles,
        schedules: options.schedules ?? true,
        apiToken: `test-${randomUUID()}`,
        sandbox: { ...base.sandbox, ...options.sandbox },
        secrets: options.secrets ?? {},
        activities: options.activities ?? {},
        webhookSources: simulator ? [simulator.webhookSource] : [],
      },
      {
        clock,
        logger: options.logger ?? pino({ level: 'warn' }, deployWarningSink(deployWarnings)),
        pollIntervalMs: null,
        capabilities: [
          ...envCapabilities({
            ...(options.secrets && { secrets: options.secrets }),
            ...(options.activities && { activities: options.activities }),
            ...(options.fetch && { fetch: options.fetch }),
            ...(simulator && { gitlab: simulator.capability }),
          }),
          ...(options.capabilities ?? []),
          ...mocks,
        ],
        wrapCapability: (capability) => capabilities.forward(capability),
        random: () => ids.random(),
      },
    );
    await runtime.start();
    const env = new TestEnv(runtime, clock, capabilities, simulator, ids, inFlight, deployWarnings);
    simulator?.attach({
      deliver: async (delivery) => {
        await runtime.operations.ingestGitLabWebhook(delivery);
      },
      settle: () => env.settle(),
    });
    return env;
  }

  /** The GitLab simulator of `createTestEnv({ gitlab: seed })`: its state, faults, actions and getters. */
  get gitlab(): TestGitLab {
    if (!this.simulator) throw new Error('this environment has no GitLab: create it with createTestEnv({ workflows, gitlab: demoSeed() })');
    return this.simulator;
  }

  now(): number {
    return this.clock.now();
  }

  /**
   * Answers calls to capability `name` with `handler` from now on: any capability the engine has (http, activities,
   * secrets, emit, tasks, calendar, gitlab with or without a seed, and those given at creation). Returns a function
   * that puts the real one back.
   */
  mock(name: string, handler: MockHandler): () => void {
    return this.capabilities.mock(name, handler);
  }

  /** Starts a run and lets it go as far as it can without time passing. */
  async start(workflow: string, input: Json = null, id?: string): Promise<string> {
    const { run } = await this.operations.startRun({ workflow, input, ...(id === undefined ? {} : { id }) });
    await this.settle();
    return run.id;
  }

  /**
   * Waits until no run can make progress without time passing. A call whose mock (or activity) has not answered after
   * rounds in which nothing else happened counts as waiting for time (see CallsInFlight): test code answers at once or
   * not until time moves.
   */
  async settle(): Promise<void> {
    const gitlab = this.simulator;
    const inFlight = this.inFlight;
    for (let quiet = 0, stalled = 0; quiet < 2;) {
      const generation = inFlight.generation;
      // A GitLab call held by a `latency` fault waits on virtual time: the engine is busy, yet
      // nothing will happen until time moves, so that counts as settled too.
      await Promise.race([this.runtime.engine.whenIdle(), ...(gitlab ? [gitlab.whenWaitingOnClock()] : []), inFlight.whenPending()]);
      await gitlab?.webhooks.idle();
      await setImmediate();
      gitlab?.throwDeliveryFailure();
      // Unanswered through STALLED_ROUNDS turns of the event loop in which no such call started or ended: the engine
      // waits for that mock alone, and the mock waits for nothing the environment will do without time passing.
      stalled = inFlight.pending() && inFlight.generation === generation ? stalled + 1 : 0;
      const idle = this.runtime.engine.isIdle() || gitlab?.isWaitingOnClock() === true || stalled >= STALLED_ROUNDS;
      quiet = idle && gitlab?.isDelivering() !== true ? quiet + 1 : 0;
    }
  }

  /** Moves virtual time forward by `duration` ('2d', 5000…), firing every timer on the way. */
  async advance(duration: string | number): Promise<void> {
    const target = this.clock.now() + parseDuration(duration);
    await this.settle();
    for (;;) {
      const next = this.clock.nextAt();
      if (next === undefined || next > target) break;
      this.clock.advanceTo(next);
      await this.settle();
    }
    this.clock.advanceTo(target);
    await this.settle();
  }

  /**
   * Runs time forward until the run ends (skipping straight to each next timer) and returns it — the run its
   * continue-as-new chain ends in, when it continued, as signal and cancel follow the chain. Fails if the run can never
   * end: it waits for nothing a timer brings (only for what test code brings — a signal without a timeout, a task
   * without a deadline — or for nothing its history names), or `limit` of virtual time passed.
   */
  async result(runId: string, limit: string | number = '365d'): Promise<RunRecord> {
    const deadline = this.clock.now() + parseDuration(limit);
    await this.settle();
    for (;;) {
      const run = await this.latestOfChain(runId);
      if (!isUnderway(run.status)) return run;
      const name = run.id === runId ? `run ${runId}` : `run ${runId} (continued as ${run.id})`;
      const pending = pendingOf(await this.history(run.id));
      const waits =
        run.status === 'queued'
          ? `a slot of its concurrency group '${run.concurrency?.group}' (queued: other runs of the group hold its ${run.concurrency?.limit} slot(s))`
          : pending.map((item) => item.description).join('; ');
      const next = this.clock.nextAt();
      // Other timers (a daily schedule, a task's daily check of its state) would go on firing up to the limit — a year
      // of them by default — and none would end the wait.
      if (next === undefined || (run.status === 'running' && pending.length > 0 && pending.every((item) => item.onlyTestCode))) {
        throw new Error(
          `${name} is waiting for what no timer will bring: ${waits || 'nothing its history names'}${this.unanswered(run.id)}`,
        );
      }
      if (next > deadline) {
        throw new Error(
          `${name} did not end within ${String(limit)} of virtual time${waits && `; it waits for ${waits}`}${this.unanswered(run.id)}`,
        );
      }
      this.clock.advanceTo(next);
      await this.settle();
    }
  }

  async run(runId: string): Promise<RunRecord> {
    const run = await this.runtime.store.getRun(runId);
    if (!run) throw new Error(`no run ${runId}`);
    return run;
  }

  /**
   * Sends an event into the inbox and lets it be routed. Returns its id (made by the environment unless given) and
   * the ids of the runs its triggers started.
   */
  async emit(event: Partial<CloudEvent> & { type: string }): Promise<{ id: string; started: string[] }> {
    const id = event.id ?? this.ids.next('event');
    const routed: Array<{ seq: number; createdRunIds: string[] }> = [];
    const stop = this.runtime.engine.events.on('event:routed', (routing) => void routed.push(routing));
    try {
      const { seq } = await this.operations.ingestEvent({ specversion: '1.0', source: 'test', ...event, id });
      await this.settle();
      return { id, started: routed.filter((routing) => routing.seq === seq).flatMap((routing) => routing.createdRunIds) };
    } finally {
      stop();
    }
  }

  async signal(runId: string, name: string, data?: Json): Promise<void> {
    await this.operations.signalRun(runId, name, data);
    await this.settle();
  }

  async cancel(runId: string, reason?: string): Promise<void> {
    await this.operations.cancelRun(runId, reason);
    await this.settle();
  }

  /**
   * As `autoflow retry`: a failed run goes on from the task that failed it, a stuck one from where it stopped (`latest`: on
   * the active version).
   */
  async retry(runId: string, options: { latest?: boolean } = {}): Promise<void> {
    await this.operations.retryRun(runId, options);
    await this.settle();
  }

  /**
   * Forms and approvals that runs wait for, newest first: the open ones unless `query.status`
   * says otherwise (for example `{ assignee: 'alice' }` is her inbox; `{ status: 'closed' }`).
   */
  async tasks(query: ListTasksQuery = {}): Promise<TaskView[]> {
    const tasks: TaskView[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.operations.listTasks({ status: 'open', ...query, limit: 500, ...(cursor !== undefined && { cursor }) });
      tasks.push(...page.tasks);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return tasks;
  }

  /** `by` submits the form, as through the web UI (same validation and permission checks), then settles. */
  async submitTask(taskId: string, by: string, values: Record<string, Json>): Promise<TaskView> {
    const task = await this.operations.submitTask(taskId, { by, values });
    await this.settle();
    return task;
  }

  /** `by` approves or rejects, as through the web UI, then settles. */
  async decideTask(taskId: string, by: string, decision: 'approve' | 'reject', comment?: string): Promise<TaskView> {
    const task = await this.operations.decideTask(taskId, { by, decision, ...(comment !== undefined && { comment }) });
    await this.settle();
    return task;
  }

  /** The run's history. A run id that names no run fails, as `run` does: a mistyped id must not pass `deepEqual(…, [])`. */
  async history(runId: string): Promise<HistoryEvent[]> {
    await this.run(runId);
    return this.runtime.store.loadHistory(runId);
  }

  /** The calls the run made, in order, with their outcomes (capability, method, args, result or error). */
  async calls(runId: string): Promise<RecordedCall[]> {
    return callsOf(await this.history(runId));
  }

  async logs(runId: string): Promise<string[]> {
    await this.run(runId);
    return (await this.runtime.store.listLogs(runId)).map((line: LogRecord) => line.message);
  }

  async close(): Promise<void> {
    this.simulator?.webhooks.stop();
    // The engine's stop waits for calls in flight, and gives them up after a grace on the virtual clock, which no
    // longer moves: a mock that never answers would hold close() for ever.
    this.inFlight.abandonAll(new Error('the test environment was closed while this call waited for its mock'));
    await this.runtime.stop();
  }

  /** The run `runId`'s continue-as-new chain goes on in: the run itself unless it continued (and its successor is kept). */
  private async latestOfChain(runId: string): Promise<RunRecord> {
    let run = await this.run(runId);
    for (let next = continuedAs(run); next !== undefined; next = continuedAs(run)) {
      const successor = await this.runtime.store.getRun(next);
      if (!successor) break;
      run = successor;
    }
    return run;
  }

  /** What result()'s error adds about the calls of `runId` whose test code has not answered. */
  private unanswered(runId: string): string {
    const calls = this.inFlight.unanswered(runId);
    if (calls.length === 0) return '';
    return (
      `. ${calls.join(', ')} never answered: its mock (or activity) was called and has not returned, and test code answers ` +
      'in no virtual time, so it will not once nothing else happens. Answer it, or give the call a timeoutMs to see how the ' +
      'workflow copes with a service that never answers (the attempt then times out on the virtual clock)'
    );
  }
}

/**
 * Creates a test environment. Close it when done (`after(() => env.close())`).
 *
 * @example
 * const env = await createTestEnv({ workflows: [new URL('./triage.ts', import.meta.url)], gitlab: demoSeed() });
 * const id = await env.start('triage', { project: 'demo/app', iid: 1 });
 * assert.equal((await env.result(id)).status, 'completed');
 * assert.deepEqual(env.gitlab.issue('demo/app', 1).labels, ['bug', 'workflow::ready for dev']);
 */
export function createTestEnv(options: TestEnvOptions): Promise<TestEnv> {
  return TestEnv.create(options);
}
