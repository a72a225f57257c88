import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pino } from 'pino';
import type { ActivityFunction } from '../capabilities/activities.js';
import { VirtualClock } from '../app/clocks.js';
import { createRuntime, type Runtime } from '../app/runtime.js';
import type { DatabaseConfig } from '../config/database.js';
import type { CloudEvent, HistoryEvent, Json, LogRecord, RunRecord } from '../core/model.js';
import type { Capability, CapabilityContext, Logger } from '../core/ports.js';
import { parseDuration } from './duration.js';

export interface TestEnvOptions {
  /** Workflow files to deploy. */
  workflows: readonly string[];
  /** Where virtual time starts. @default 2026-01-05T09:00:00Z (a Monday) */
  now?: Date | number;
  /** @default { kind: 'memory' } */
  db?: DatabaseConfig;
  secrets?: Record<string, string>;
  activities?: Record<string, ActivityFunction>;
  /** Capabilities that replace built-in ones (or add new ones), by name. */
  capabilities?: Capability[];
  /** The fetch behind `http.request`. @default globalThis.fetch */
  fetch?: typeof fetch;
  sandbox?: { memoryMb?: number; cpuMs?: number; cacheSize?: number };
  logger?: Logger;
}

export type MockHandler = (method: string, args: Json, context: CapabilityContext) => Json | Promise<Json>;

/**
 * An isolated engine for tests: in-memory store, virtual clock that jumps to the next timer
 * whenever every run is idle, and helpers to start runs, send events and read what happened.
 */
export class TestEnv {
  private constructor(
    readonly runtime: Runtime,
    readonly clock: VirtualClock,
  ) {}

  static async create(options: TestEnvOptions): Promise<TestEnv> {
    const start = options.now === undefined ? undefined : typeof options.now === 'number' ? options.now : options.now.getTime();
    const clock = new VirtualClock(start);
    const runtime = await createRuntime(
      {
        db: options.db ?? { kind: 'memory' },
        workflowsDir: '.',
        workflowFiles: options.workflows.map((file) => resolve(file)),
        dev: false,
        apiToken: `test-${randomUUID()}`,
        logLevel: 'silent',
        sandbox: { memoryMb: 64, cpuMs: 1000, cacheSize: 500, ...options.sandbox },
        lookbackMs: 300_000,
        secrets: options.secrets ?? {},
        activities: options.activities ?? {},
      },
      {
        clock,
        logger: options.logger ?? (pino({ level: 'silent' }) as unknown as Logger),
        pollIntervalMs: null,
        ...(options.capabilities ? { capabilities: options.capabilities } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      },
    );
    await runtime.start();
    return new TestEnv(runtime, clock);
  }

  get operations(): Runtime['operations'] {
    return this.runtime.operations;
  }

  now(): number {
    return this.clock.now();
  }

  /** Starts a run and lets it go as far as it can without time passing. */
  async start(workflow: string, input: Json = null, id?: string): Promise<string> {
    const { run } = await this.operations.startRun({ workflow, input, ...(id === undefined ? {} : { id }) });
    await this.settle();
    return run.id;
  }

  /** Waits until no run can make progress without time passing. */
  async settle(): Promise<void> {
    for (let quiet = 0; quiet < 2; ) {
      await this.runtime.engine.whenIdle();
      await new Promise((resolve) => setImmediate(resolve));
      quiet = this.runtime.engine.isIdle() ? quiet + 1 : 0;
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
   * Runs time forward until the run ends (skipping straight to each next timer) and returns it.
   * Fails if the run can never end: nothing left to wait for, or `limit` of virtual time passed.
   */
  async result(runId: string, limit: string | number = '365d'): Promise<RunRecord> {
    const deadline = this.clock.now() + parseDuration(limit);
    await this.settle();
    for (;;) {
      const run = await this.run(runId);
      if (run.status !== 'running') return run;
      const next = this.clock.nextAt();
      if (next === undefined) throw new Error(`run ${runId} is waiting for something that no timer will bring (an event or a signal?)`);
      if (next > deadline) throw new Error(`run ${runId} did not end within ${String(limit)} of virtual time`);
      this.clock.advanceTo(next);
      await this.settle();
    }
  }

  async run(runId: string): Promise<RunRecord> {
    const run = await this.runtime.store.getRun(runId);
    if (!run) throw new Error(`no run ${runId}`);
    return run;
  }

  /** Sends an event into the inbox and lets it be routed. */
  async emit(event: Partial<CloudEvent> & { type: string }): Promise<void> {
    await this.operations.ingestEvent({ specversion: '1.0', id: randomUUID(), source: 'test', ...event });
    await this.settle();
  }

  async signal(runId: string, name: string, data: Json = null): Promise<void> {
    await this.operations.signalRun(runId, name, data);
    await this.settle();
  }

  async cancel(runId: string, reason?: string): Promise<void> {
    await this.operations.cancelRun(runId, reason);
    await this.settle();
  }

  history(runId: string): Promise<HistoryEvent[]> {
    return this.runtime.store.loadHistory(runId);
  }

  async logs(runId: string): Promise<string[]> {
    return (await this.runtime.store.listLogs(runId)).map((line: LogRecord) => line.message);
  }

  async close(): Promise<void> {
    await this.runtime.stop();
  }
}

/** A capability answered by a function: `mockCapability('http', (method, args) => ...)`. */
export function mockCapability(name: string, handler: MockHandler): Capability {
  return { name, invoke: async (method, args, context) => handler(method, args, context) };
}

export function createTestEnv(options: TestEnvOptions): Promise<TestEnv> {
  return TestEnv.create(options);
}
