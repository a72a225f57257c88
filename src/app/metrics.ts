/**
 * Prometheus metrics of one runtime, on its own Registry (never prom-client's global one: two
 * runtimes in one process must not share counters). Counted from the engine's typed events, read
 * from the store at scrape time (runs by status, the ready queue), and timed around every store
 * operation by `instrumentStore`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Engine } from '../core/engine.js';
import { toError } from '../core/errors.js';
import type { Clock, Logger, Store } from '../core/ports.js';

/** Outcome of one webhook delivery as the HTTP layer answered it. */
export type WebhookIntake = 'accepted' | 'duplicate' | 'rejected';

/** What retention deletes (see retention.ts). */
export type RetainedKind = 'runs' | 'events' | 'definitions';

export interface RuntimeMetrics {
  readonly registry: Registry;
  /** The Prometheus text exposition of every metric, after reading the store's counts. */
  render(): Promise<string>;
  readonly contentType: string;
  /** Counts one webhook delivery. */
  webhook(result: WebhookIntake): void;
  /** Counts what retention deleted. */
  retentionDeleted(kind: RetainedKind, count: number): void;
  /** Starts counting the engine's events and reading its cache at scrape time. */
  attachEngine(engine: Engine): void;
}

export interface MetricsOptions {
  /** The undecorated store: scrape-time reads are not store latency the engine sees. */
  store: Store;
  clock: Clock;
  logger: Logger;
  nodeId: string;
  /** Process-level metrics (CPU, memory, event-loop lag) from prom-client. @default true */
  processMetrics?: boolean;
  /** Live sandboxes on the main thread and on each sandbox thread, when there are sandbox threads. */
  sandboxPlacement?: () => { mainThread: number; threads: number[] };
}

/** Store latencies from 0.1 ms (a cached read) to 2.5 s (a commit stuck behind a lock). */
const STORE_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Timer lateness from 10 ms (on time) to 5 min (fired by the node that recovered it). */
const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export function createMetrics(options: MetricsOptions): RuntimeMetrics & { storeTimer: StoreTimer } {
  const { store, clock, logger } = options;
  const registry = new Registry();
  registry.setDefaultLabels({ node: options.nodeId });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let engine: Engine | undefined;

  // Set by `render` before the registry is read: prom-client runs async collects concurrently, so
  // gauges fed by one shared store read cannot each read it in their own collect.
  const storeUp = new Gauge({
    name: 'autoflow_store_up',
    help: '1 when the scrape-time queries to the store succeeded, else 0',
    registers,
  });
  const runs = new Gauge({ name: 'autoflow_runs', help: 'Runs by status', labelNames: ['status'], registers });
  const ready = new Gauge({ name: 'autoflow_queue_ready_runs', help: 'Runs waiting for a workflow task', registers });
  const lag = new Gauge({
    name: 'autoflow_queue_lag_seconds',
    help: 'How long the oldest ready run has waited for a workflow task (0 when none waits)',
    registers,
  });
  const readStore = async (): Promise<void> => {
    try {
      const [counts, queue] = await Promise.all([store.countRunsByStatus(), store.queueStats()]);
      runs.reset();
      for (const [status, n] of Object.entries(counts)) runs.set({ status }, n ?? 0);
      ready.set(queue.readyRuns);
      lag.set(queue.oldestReadyAt === undefined ? 0 : Math.max(0, clock.now() - queue.oldestReadyAt) / 1000);
      storeUp.set(1);
    } catch (error) {
      // A store that fails marks itself down instead of failing the whole scrape.
      storeUp.set(0);
      logger.warn({ err: toError(error) }, 'reading metrics from the store failed; autoflow_store_up is 0');
    }
  };
  new Gauge({
    name: 'autoflow_sandbox_cache_runs',
    help: 'Live sandboxes held in memory',
    registers,
    collect() {
      if (engine) this.set(engine.cacheStats().runs);
    },
  });
  new Gauge({
    name: 'autoflow_sandbox_cache_bytes',
    help: 'Heap bytes of the live sandboxes',
    registers,
    collect() {
      if (engine) this.set(engine.cacheStats().bytes);
    },
  });

  const { sandboxPlacement } = options;
  if (sandboxPlacement) {
    new Gauge({
      name: 'autoflow_sandbox_thread_runs',
      help: 'Live sandboxes per thread (sandbox.threads): "main", then "1", "2"…',
      labelNames: ['thread'],
      registers,
      collect() {
        const { mainThread, threads } = sandboxPlacement();
        this.set({ thread: 'main' }, mainThread);
        for (const [index, live] of threads.entries()) this.set({ thread: String(index + 1) }, live);
      },
    });
  }

  const calls = new Counter({
    name: 'autoflow_call_attempts_total',
    help: 'Attempts of calls by capability and outcome: ok, failed (for good), retry (another attempt scheduled) or abandoned (given up: its run ended, its lease passed, the server stopped)',
    labelNames: ['capability', 'outcome'],
    registers,
  });
  const tasks = new Counter({ name: 'autoflow_workflow_tasks_total', help: 'Workflow tasks committed', registers });
  const finished = new Counter({
    name: 'autoflow_runs_finished_total',
    help: 'Runs that ended, by status',
    labelNames: ['status'],
    registers,
  });
  const retried = new Counter({
    name: 'autoflow_runs_retried_total',
    help: 'Failed runs retried on this node, by version: same (their own) or latest',
    labelNames: ['version'],
    registers,
  });
  const routed = new Counter({ name: 'autoflow_events_routed_total', help: 'Inbox events routed to triggers and waits', registers });
  const fenced = new Counter({
    name: 'autoflow_fenced_writes_total',
    help: 'Writes of this node refused because another node took the run or call over after the lease passed',
    labelNames: ['what'],
    registers,
  });
  const timerLag = new Histogram({
    name: 'autoflow_timer_lag_seconds',
    help: 'How late the earliest due timer or call was when this node fired it',
    buckets: LAG_BUCKETS,
    registers,
  });
  const webhooks = new Counter({
    name: 'autoflow_webhooks_total',
    help: 'Webhook deliveries by result: accepted (stored), duplicate (stored before), rejected (4xx/5xx)',
    labelNames: ['result'],
    registers,
  });
  for (const result of ['accepted', 'duplicate', 'rejected'] as const) webhooks.inc({ result }, 0);
  const retention = new Counter({
    name: 'autoflow_retention_deleted_total',
    help: 'Ended runs (with their history and logs), old events and unused definition versions that retention deleted',
    labelNames: ['kind'],
    registers,
  });
  for (const kind of ['runs', 'events', 'definitions'] as const) retention.inc({ kind }, 0);

  const storeLatency = new Histogram({
    name: 'autoflow_store_operation_seconds',
    help: 'Duration of store operations by operation and outcome (ok or error)',
    labelNames: ['operation', 'outcome'],
    buckets: STORE_BUCKETS,
    registers,
  });

  // One labelled child per operation and outcome, kept: observing through the label object would
  // hash the labels on every store call, several times per workflow step.
  const storeLatencies = new Map<string, Histogram.Internal<'operation' | 'outcome'>>();
  const storeLatencyOf = (operation: string, ok: boolean): Histogram.Internal<'operation' | 'outcome'> => {
    const key = `${operation}:${ok}`;
    let child = storeLatencies.get(key);
    if (!child) storeLatencies.set(key, (child = storeLatency.labels({ operation, outcome: ok ? 'ok' : 'error' })));
    return child;
  };

  return {
    registry,
    contentType: registry.contentType,
    render: async () => {
      await readStore();
      return registry.metrics();
    },
    webhook: (result) => webhooks.inc({ result }),
    retentionDeleted: (kind, count) => retention.inc({ kind }, count),
    storeTimer: (operation, seconds, ok) => storeLatencyOf(operation, ok).observe(seconds),
    attachEngine(attached) {
      engine = attached;
      attached.events.on('run:updated', () => tasks.inc());
      attached.events.on('run:finished', ({ status }) => finished.inc({ status }));
      attached.events.on('run:retried', ({ latest }) => retried.inc({ version: latest ? 'latest' : 'same' }));
      attached.events.on('event:routed', () => routed.inc());
      attached.events.on('call:attempted', ({ capability, outcome }) => calls.inc({ capability, outcome }));
      attached.events.on('timers:fired', ({ lagMs }) => timerLag.observe(lagMs / 1000));
      attached.events.on('write:fenced', ({ what }) => fenced.inc({ what }));
    },
  };
}

/** Records the duration of one store operation. */
export type StoreTimer = (operation: string, seconds: number, ok: boolean) => void;

/**
 * The store with every method timed: a decorator, so that no store implementation knows about
 * metrics. Properties that are not methods (`kind`, `stats`) pass through unchanged.
 */
export function instrumentStore<S extends Store>(store: S, timer: StoreTimer): S {
  const timed = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      let wrapped = timed.get(property);
      if (!wrapped) {
        const method = value as (...args: unknown[]) => unknown;
        wrapped = (...args: unknown[]) => {
          const started = performance.now();
          const seconds = () => (performance.now() - started) / 1000;
          const result = method.apply(target, args);
          if (!(result instanceof Promise)) return result;
          return result.then(
            (resolved: unknown) => {
              timer(property, seconds(), true);
              return resolved;
            },
            (error: unknown) => {
              timer(property, seconds(), false);
              throw error;
            },
          );
        };
        timed.set(property, wrapped);
      }
      return wrapped;
    },
  });
}

/** Readiness: a real query, answered within `timeoutMs` — a database that hangs is not ready either. */
export async function checkReadiness(store: Store, timeoutMs = 2000): Promise<{ ok: boolean; store: string; reason?: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the ${store.kind} store did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([store.queueStats(), timeout]);
    return { ok: true, store: store.kind };
  } catch (error) {
    return { ok: false, store: store.kind, reason: toError(error).message };
  } finally {
    clearTimeout(timer);
  }
}
