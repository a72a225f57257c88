/**
 * Prometheus metrics of one runtime, on its own Registry (never prom-client's global one: two
 * runtimes in one process must not share counters). Counted from the engine's typed events, read
 * from the store at scrape time (runs by status, the ready queue), and timed around every store
 * operation by `instrumentStore`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import packageJson from '../../package.json' with { type: 'json' };
import type { CallEvents } from '../core/call-runner.js';
import type { Engine } from '../core/engine.js';
import { toError } from '../core/errors.js';
import { MAX_EVENT_CHAIN } from '../core/event-chain.js';
import { RUN_STATUSES, TERMINAL_STATUSES, type RunStatus } from '../core/model.js';
import type { Clock, Logger, Store } from '../core/ports.js';
import type { SubscriberBacklog } from './subscribers.js';

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
  /** Counts one workflow whose trigger an event did not start, as too long a chain of emits led to it (core/event-chain.ts). */
  chainLimited(): void;
  /** Starts counting the engine's events and reading its cache at scrape time. */
  attachEngine(engine: Engine): void;
  /** Counts one delivery attempt to an outgoing subscriber: `ok`, or why it failed (an HTTP status, `timeout`, `network`). */
  subscriberAttempt(subscriber: string, status: string): void;
  /** Reads the outgoing subscribers' backlog at scrape time. */
  attachSubscribers(backlog: () => Promise<SubscriberBacklog[]>): void;
  /** Reads, at scrape time, whether each workflow this node's files build has another version active (version-drift.ts). */
  attachVersionDrift(read: () => ReadonlyArray<{ workflow: string; drifting: boolean }>): void;
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
  /** How long a scrape waits for the store's counts before it reports the store down. @default METRICS_STORE_BUDGET_MS */
  storeBudgetMs?: number;
}

/**
 * A scrape's budget for the store's counts: below Prometheus's default scrape timeout (10 s), so
 * that a database that hangs shows as `autoflow_store_up 0` instead of a failed scrape, in which
 * case no alert on the metric could fire.
 */
export const METRICS_STORE_BUDGET_MS = 5000;

/** The budget of `/healthz`'s query, as `/readyz`'s: probes time out after a few seconds (set theirs above this). */
export const HEALTH_BUDGET_MS = 2000;

/** The ready queue as the store reports it, in total and by workflow. */
type QueueStats = Awaited<ReturnType<Store['queueStats']>>;

/** Store latencies from 0.1 ms (a cached read) to 2.5 s (a commit stuck behind a lock). */
const STORE_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Every outcome of a call attempt (CallEvents): each capability's series start at 0. */
const CALL_OUTCOMES: ReadonlyArray<CallEvents['call:attempted']['outcome']> = ['ok', 'failed', 'retry', 'abandoned'];
/** Every write that fencing refuses (CallEvents): each series starts at 0. */
const FENCED_WRITES: ReadonlyArray<CallEvents['write:fenced']['what']> = ['task', 'call_result', 'call_retry'];
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
  // By workflow only, with no unlabelled total beside: `sum()` over a metric must mean something (Prometheus's
  // naming guide), and a total in the same name would be counted twice, a `_total` gauge read as a counter. The
  // whole queue is `sum without (workflow) (…)`, its age `max without (workflow) (…)`; an alert on the lag as
  // before fires per workflow and names it.
  const ready = new Gauge({
    name: 'autoflow_queue_ready_runs',
    help: 'Runs waiting for a workflow task, by workflow (0 for a deployed workflow none of whose runs waits)',
    labelNames: ['workflow'],
    registers,
  });
  const lag = new Gauge({
    name: 'autoflow_queue_lag_seconds',
    help: "How long the workflow's oldest ready run has waited for a workflow task (0 when none waits)",
    labelNames: ['workflow'],
    registers,
  });
  const budgetMs = options.storeBudgetMs ?? METRICS_STORE_BUDGET_MS;
  /** The workflows deployed now, as this node's engine knows them (another node's deploy within its sync interval). */
  const deployedWorkflows = (): string[] => engine?.definitions().map((definition) => definition.name) ?? [];
  /**
   * The gauges read from the store have no series while it does not answer: the last value read
   * would look current (a queue that is not growing, say).
   */
  const forgetStoreGauges = (): void => {
    for (const gauge of [runs, ready, lag]) gauge.reset();
  };
  const showQueue = (queue: QueueStats): void => {
    ready.reset();
    lag.reset();
    // A deployed workflow shows 0 while none of its runs waits; another one (retired, its runs going on) shows
    // while it has ready runs, and its series go when its queue empties: none keeps the last value it had.
    for (const workflow of deployedWorkflows()) {
      ready.set({ workflow }, 0);
      lag.set({ workflow }, 0);
    }
    for (const { workflow, readyRuns, oldestReadyAt } of queue.byWorkflow) {
      ready.set({ workflow }, readyRuns);
      lag.set({ workflow }, Math.max(0, clock.now() - oldestReadyAt) / 1000);
    }
  };
  // One read at a time: scrapes while the store hangs wait for the read in flight (up to their own
  // budget) instead of taking one more pooled connection each.
  let reading: Promise<[Partial<Record<RunStatus, number>>, QueueStats]> | undefined;
  const readStore = async (): Promise<void> => {
    try {
      reading ??= Promise.all([store.countRunsByStatus(), store.queueStats()]).finally(() => (reading = undefined));
      const [counts, queue] = await withinBudget(reading, budgetMs, `the ${store.kind} store`);
      runs.reset();
      for (const status of RUN_STATUSES) runs.set({ status }, counts[status] ?? 0);
      showQueue(queue);
      storeUp.set(1);
    } catch (error) {
      // A store that fails marks itself down instead of failing the whole scrape.
      storeUp.set(0);
      forgetStoreGauges();
      logger.warn(
        { err: toError(error) },
        'reading metrics from the store failed; autoflow_store_up is 0, and the runs and queue gauges have no value until it answers',
      );
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
    help: 'Runs that ended on this node, by workflow and status',
    labelNames: ['workflow', 'status'],
    registers,
  });
  const retried = new Counter({
    name: 'autoflow_runs_retried_total',
    help: 'Failed runs retried on this node, by version: same (their own) or latest',
    labelNames: ['version'],
    registers,
  });
  // Series exist from the start, at 0: `rate()` and `increase()` then see the first failure or retry. Runs
  // finished: every terminal status of each deployed workflow, from the scrape after its deploy (seen here from
  // the engine's active definitions; a retired workflow's series stay, a counter does not go back).
  const finishedFromZero = (): void => {
    for (const workflow of deployedWorkflows()) for (const status of TERMINAL_STATUSES) finished.inc({ workflow, status }, 0);
  };
  for (const version of ['same', 'latest'] as const) retried.inc({ version }, 0);
  new Gauge({
    name: 'autoflow_build_info',
    help: 'Always 1; its labels say which AutoFlow version this node runs (a rolling upgrade shows both)',
    labelNames: ['version'],
    registers,
  }).set({ version: packageJson.version }, 1);
  let versionDrift: (() => ReadonlyArray<{ workflow: string; drifting: boolean }>) | undefined;
  new Gauge({
    name: 'autoflow_workflow_version_drift',
    help: "1 while another version of the workflow is active than the one this node's workflow files build (nodes run different files), else 0",
    labelNames: ['workflow'],
    registers,
    collect() {
      // Reset first: a workflow no longer in this node's files has no series, not the last value it had.
      this.reset();
      for (const { workflow, drifting } of versionDrift?.() ?? []) this.set({ workflow }, drifting ? 1 : 0);
    },
  });
  const routed = new Counter({ name: 'autoflow_events_routed_total', help: 'Inbox events routed to triggers and waits', registers });
  // No labels, so from 0 at the first scrape: an alert on `increase()` sees the first loop that was stopped.
  const chainLimited = new Counter({
    name: 'autoflow_trigger_chain_limit_skips_total',
    help: `Triggers that matched an event but started no run, as more emits in a row led to it than the limit (${MAX_EVENT_CHAIN}): a loop of workflows ended`,
    registers,
  });
  const fenced = new Counter({
    name: 'autoflow_fenced_writes_total',
    help: 'Writes of this node refused because another node took the run or call over after the lease passed',
    labelNames: ['what'],
    registers,
  });
  for (const what of FENCED_WRITES) fenced.inc({ what }, 0);
  const timerLag = new Histogram({
    name: 'autoflow_timer_lag_seconds',
    help: 'How late the earliest due timer or call was when this node fired or claimed it (a call past its next attempt, or past the lease of the node it took it over from)',
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

  const subscriberDeliveries = new Counter({
    name: 'autoflow_subscriber_deliveries_total',
    help: 'Events this node delivered to an outgoing subscriber (answered 2xx), by subscriber',
    labelNames: ['subscriber'],
    registers,
  });
  const subscriberFailures = new Counter({
    name: 'autoflow_subscriber_delivery_failures_total',
    help: 'Failed delivery attempts of this node to an outgoing subscriber, by subscriber and status: the HTTP status, timeout or network',
    labelNames: ['subscriber', 'status'],
    registers,
  });
  // The failures above have a series per status, made by its first failure, which `increase()` cannot see: this one
  // is there from the first scrape, at 0, so that an alert sees a first failure.
  const subscriberFailedAttempts = new Counter({
    name: 'autoflow_subscriber_failed_attempts_total',
    help: 'Failed delivery attempts of this node to an outgoing subscriber, whatever the reason (from 0: alert on it)',
    labelNames: ['subscriber'],
    registers,
  });
  // Read from the store at scrape time, like the runs by status: the same on every node.
  const subscriberLagEvents = new Gauge({
    name: 'autoflow_subscriber_lag_events',
    help: "Inbox events past an outgoing subscriber's mark (of any type: an upper bound of what it still has to receive)",
    labelNames: ['subscriber'],
    registers,
  });
  const subscriberLagSeconds = new Gauge({
    name: 'autoflow_subscriber_lag_seconds',
    help: "How long the first event past an outgoing subscriber's mark has waited (0 when none): grows while it refuses an event",
    labelNames: ['subscriber'],
    registers,
  });
  const subscriberLeaseHeld = new Gauge({
    name: 'autoflow_subscriber_lease_held',
    help: '1 on the node that delivers to the outgoing subscriber (holds its lease), else 0',
    labelNames: ['subscriber'],
    registers,
  });
  let subscriberBacklog: (() => Promise<SubscriberBacklog[]>) | undefined;
  const readSubscribers = async (): Promise<void> => {
    if (!subscriberBacklog) return;
    try {
      for (const { subscriber, events, oldestSeconds, held } of await subscriberBacklog()) {
        subscriberLagEvents.set({ subscriber }, events);
        subscriberLagSeconds.set({ subscriber }, oldestSeconds);
        subscriberLeaseHeld.set({ subscriber }, held ? 1 : 0);
        subscriberDeliveries.inc({ subscriber }, 0);
        subscriberFailedAttempts.inc({ subscriber }, 0);
      }
    } catch (error) {
      // No values rather than old ones, as for the other gauges read from the store: an alert on a stale lag would
      // neither fire nor clear while the database is down (autoflow_store_up says so).
      for (const gauge of [subscriberLagEvents, subscriberLagSeconds, subscriberLeaseHeld]) gauge.reset();
      logger.warn(
        { err: toError(error) },
        "reading the subscribers' backlog from the store failed; their lag gauges have no values until it does",
      );
    }
  };

  const storeLatency = new Histogram({
    name: 'autoflow_store_operation_seconds',
    help: 'Duration of store operations by operation and outcome (ok or error)',
    labelNames: ['operation', 'outcome'],
    buckets: STORE_BUCKETS,
    registers,
  });
  // Each operation's errors from 0, so that `rate()` sees a first burst of them (a full disk).
  for (const operation of storeOperations(store)) storeLatency.zero({ operation, outcome: 'error' });

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
      // Both bounded: a store that hangs must not hang the scrape (the subscribers' read goes to the store too).
      const subscribersRead = withinBudget(readSubscribers(), budgetMs, "the subscribers' backlog").catch((error: unknown) =>
        logger.warn({ err: toError(error) }, "reading the subscribers' backlog took too long; their lag gauges keep their last values"),
      );
      await Promise.all([readStore(), subscribersRead]);
      finishedFromZero();
      return registry.metrics();
    },
    webhook: (result) => webhooks.inc({ result }),
    retentionDeleted: (kind, count) => retention.inc({ kind }, count),
    chainLimited: () => chainLimited.inc(),
    subscriberAttempt: (subscriber, status) => {
      if (status === 'ok') {
        subscriberDeliveries.inc({ subscriber });
        return;
      }
      subscriberFailures.inc({ subscriber, status });
      subscriberFailedAttempts.inc({ subscriber });
    },
    attachSubscribers(backlog) {
      subscriberBacklog = backlog;
    },
    attachVersionDrift(read) {
      versionDrift = read;
    },
    storeTimer: (operation, seconds, ok) => storeLatencyOf(operation, ok).observe(seconds),
    attachEngine(attached) {
      engine = attached;
      finishedFromZero();
      attached.events.on('run:updated', () => tasks.inc());
      attached.events.on('run:finished', ({ workflow, status }) => finished.inc({ workflow, status }));
      attached.events.on('run:retried', ({ latest }) => retried.inc({ version: latest ? 'latest' : 'same' }));
      // Every node may route an event (claims race); it counts where its routing marked it routed.
      attached.events.on('event:routed', ({ markedRouted }) => {
        if (markedRouted) routed.inc();
      });
      for (const capability of attached.capabilityNames()) for (const outcome of CALL_OUTCOMES) calls.inc({ capability, outcome }, 0);
      attached.events.on('call:attempted', ({ capability, outcome }) => calls.inc({ capability, outcome }));
      attached.events.on('timers:fired', ({ lagMs }) => timerLag.observe(lagMs / 1000));
      attached.events.on('calls:claimed', ({ lagMs }) => timerLag.observe(lagMs / 1000));
      attached.events.on('write:fenced', ({ what }) => fenced.inc({ what }));
    },
  };
}

/**
 * The store's operations: its methods, as `instrumentStore` times them (an own property or one of its class), read
 * without calling a getter.
 */
function storeOperations(store: Store): string[] {
  const names = new Set<string>();
  for (let level: object | null = store; level !== null && level !== Object.prototype; level = Reflect.getPrototypeOf(level)) {
    for (const name of Object.getOwnPropertyNames(level)) {
      if (name !== 'constructor' && typeof Object.getOwnPropertyDescriptor(level, name)?.value === 'function') names.add(name);
    }
  }
  return [...names];
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
export async function checkReadiness(store: Store, timeoutMs = HEALTH_BUDGET_MS): Promise<{ ok: boolean; store: string; reason?: string }> {
  try {
    await withinBudget(store.queueStats(), timeoutMs, `the ${store.kind} store`);
    return { ok: true, store: store.kind };
  } catch (error) {
    return { ok: false, store: store.kind, reason: toError(error).message };
  }
}

/**
 * `read`'s answer, or a rejection once `timeoutMs` passed without one: a probe or a scrape must
 * answer in time, with what it knows, even while the database hangs (its queries are bounded too,
 * by postgres.queryTimeoutMs, but that is far longer than a probe waits).
 */
export async function withinBudget<T>(read: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
