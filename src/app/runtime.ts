import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { pino, stdTimeFunctions, type LoggerOptions } from 'pino';
import { createActivitiesCapability, type ActivityFunction } from '../capabilities/activities.js';
import { createCalendarCapability } from '../capabilities/calendar.js';
import { createKubernetesCapability, type KubernetesCapabilityOptions } from '../capabilities/kubernetes/index.js';
import { createEmitCapability } from '../capabilities/emit.js';
import { createSignalsCapability } from '../capabilities/signals.js';
import { checkGitLabAtStartup, createGitLabCapability } from '../capabilities/gitlab/index.js';
import { createHttpCapability } from '../capabilities/http.js';
import {
  createSecretSource,
  createSecretsCapability,
  emptySecretsWarning,
  secretAccessProblem,
  shortSecretsProblem,
} from '../capabilities/secrets.js';
import { createTasksCapability } from '../capabilities/tasks.js';
import { Engine } from '../core/engine.js';
import { ConfigError, DefinitionError, toError } from '../core/errors.js';
import { runEventChain } from '../core/event-chain.js';
import type { SecretAccess } from '../core/secret-access.js';
import type { CloudEvent } from '../core/model.js';
import type { Capability, Clock, Logger, SchemaMigration, Store } from '../core/ports.js';
import { ThreadedSandbox, createThreadedSandbox } from '../sandbox/threads/threaded-sandbox.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import { createPostgresStore, type PostgresStore } from '../store/postgres/postgres-store.js';
import { lockDatabaseForServer, type ServerLock } from '../store/sqlite/server-lock.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { DatabaseConfig } from '../config/database.js';
import type { WebhookSource } from '../gitlab/webhook-auth.js';
import { createSystemClock } from './clocks.js';
import { chainLimitReporter } from './event-chain-limit.js';
import { GitLabAccount, lookUpThrough } from './event-routing-account.js';
import { followDefinitions } from './definition-sync.js';
import {
  BuildInputs,
  DeployProblems,
  deployWorkflows,
  findWorkflowFiles,
  undeclaredWorkflows,
  workflowsDeployedElsewhere,
  watchWorkflowDirectory,
  type DirectoryWatch,
  type FileResult,
  type ServerOffer,
} from './deploy.js';
import { createInputChecker, createSchemaChecker } from './input-check.js';
import { checkReadiness, createMetrics, instrumentStore, type RuntimeMetrics } from './metrics.js';
import { hashToken, newApiToken } from './api-tokens.js';
import { createOperations } from './operations-impl.js';
import type { Operations } from './operations.js';
import { RetentionSweeper, type RetentionPolicy } from './retention.js';
import { Scheduler } from './schedules.js';
import { SubscriberDispatcher, type Subscriber } from './subscribers.js';
import { VersionDrift } from './version-drift.js';

/** What the runtime needs of the resolved configuration (config/ produces it). */
export interface RuntimeConfig {
  db: DatabaseConfig;
  workflowsDir: string;
  /** Deploy exactly these files instead of scanning `workflowsDir` (the test harness). */
  workflowFiles?: readonly string[];
  /** False: cron triggers never fire (the test harness's `schedules: false`). @default true */
  schedules?: boolean;
  dev: boolean;
  apiToken?: string | undefined;
  logLevel: string;
  /**
   * `cacheSize` and `cacheMemoryMb` bound the live sandboxes kept, in number and in MiB; `threads`: worker threads
   * hosting sandboxes besides the main thread.
   */
  sandbox: { memoryMb: number; cpuMs: number; cacheSize: number; cacheMemoryMb: number; threads: number };
  lookbackMs: number;
  secrets: Readonly<Record<string, string>>;
  /** Which workflows may read which secrets (core/secret-access.ts); a secret it does not name, any that asks. */
  secretAccess?: SecretAccess;
  activities: Readonly<Record<string, ActivityFunction>>;
  /** The GitLab workflows call; absent: the built-in simulator (see docs/gitlab-capability.md). */
  gitlabUrl?: string | undefined;
  gitlabToken?: string | undefined;
  /** The username of the token's user, which counts as AutoFlow's own account until GitLab names it (event-routing-account.ts). */
  gitlabUsername?: string | undefined;
  /** `X-Gitlab-Token` of the default webhook source. */
  gitlabWebhookSecret?: string | undefined;
  /** More webhook sources, each with its own secret. */
  webhookSources?: readonly WebhookSource[];
  /** Receivers of the events workflows emit. */
  subscribers?: readonly Subscriber[];
  /**
   * Lease lengths: how long a node that stopped answering keeps a run (`runMs`) or a call
   * (`callMs`) from the others. Heartbeats renew them every third of the shorter one.
   * @default { runMs: 30000, callMs: 120000 }
   */
  leases?: { runMs: number; callMs: number } | undefined;
  /** On stop, how long calls still running may take before they are given up and handed back. @default 10000 */
  shutdownGraceMs?: number | undefined;
  /** The connections to PostgreSQL (with `db` postgres). @default { poolSize: 10, queryTimeoutMs: 30000 } */
  postgres?: { poolSize: number; queryTimeoutMs: number } | undefined;
  /** Where people reach the web UI (task links). @default http://localhost:8080 */
  publicUrl?: string | undefined;
  /** The cluster the `kubernetes` capability talks to; absent: no such capability. */
  kubernetes?: KubernetesCapabilityOptions | undefined;
  /** How long ended runs and old events are kept (see retention.ts); absent: for ever. */
  retention?: RetentionPolicy | undefined;
}

/**
 * A complete RuntimeConfig from the parts an embedding (a test harness, a benchmark) cares about,
 * with the same defaults as the configuration schema.
 */
export function embeddedRuntimeConfig(parts: Partial<RuntimeConfig> & Pick<RuntimeConfig, 'db' | 'workflowsDir'>): RuntimeConfig {
  return {
    dev: false,
    logLevel: 'silent',
    sandbox: { memoryMb: 64, cpuMs: 1000, cacheSize: 500, cacheMemoryMb: 1024, threads: 0 },
    lookbackMs: 300_000,
    secrets: {},
    activities: {},
    ...parts,
  };
}

/** The default source (from AUTOFLOW_GITLAB_WEBHOOK_SECRET) first, then the configured ones. */
function webhookSourcesOf(config: RuntimeConfig): WebhookSource[] {
  const sources: WebhookSource[] = [];
  if (config.gitlabWebhookSecret !== undefined) {
    sources.push({ name: 'gitlab', secret: config.gitlabWebhookSecret, ...(config.gitlabUrl ? { instanceUrl: config.gitlabUrl } : {}) });
  }
  return [...sources, ...(config.webhookSources ?? [])];
}

export interface RuntimeOverrides {
  clock?: Clock;
  logger?: Logger;
  /** Extra capabilities, or replacements of built-in ones by name. */
  capabilities?: Capability[];
  fetch?: typeof fetch;
  /** Disable the safety-net poll (virtual-time tests). */
  pollIntervalMs?: number | null;
  /** Webhook sources besides the configured ones (the built-in simulator's). */
  webhookSources?: readonly WebhookSource[];
  /** Randomness for retry jitter: the test harness's is seeded, so that a test's retries happen at the same times. @default Math.random */
  random?: () => number;
  /** What the engine calls instead of each capability: the test harness puts each behind a switch that `env.mock` turns. */
  wrapCapability?: (capability: Capability) => Capability;
}

/** The `gitlab` capability for a configured instance; none without one (the CLI adds the simulator's). */
function gitlabCapabilities(config: RuntimeConfig): Capability[] {
  if (config.gitlabUrl === undefined) return [];
  if (config.gitlabToken === undefined) {
    throw new ConfigError(
      `gitlabUrl is ${config.gitlabUrl} but no token is set: export AUTOFLOW_GITLAB_TOKEN (a token with the api scope)`,
    );
  }
  return [createGitLabCapability({ baseUrl: config.gitlabUrl, token: config.gitlabToken })];
}

export interface Runtime {
  operations: Operations;
  engine: Engine;
  store: Store;
  logger: Logger;
  clock: Clock;
  subscribers: SubscriberDispatcher;
  /** Deletes ended runs and old events (`retention` in the configuration). */
  retention: RetentionSweeper;
  /** Set on the first start when no API token existed: shown to the operator once, stored only as a hash. */
  newApiToken?: string;
  /** What this start did to the database's schema (`from` 0: the database was new). */
  schema: SchemaMigration;
  /** This process's identity in leases and metrics. */
  nodeId: string;
  /** Prometheus metrics of this runtime (its own registry). */
  metrics: RuntimeMetrics;
  /** Readiness: whether the store answers a real query (for `/readyz`). */
  ready(): Promise<{ ok: boolean; store: string; reason?: string }>;
  /** Deploys the workflows folder again (dev mode does it on every change). */
  redeploy(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Wakes the engine when another node wrote work for it (LISTEN/NOTIFY). A burst of notifications
 * becomes one wake-up per event-loop turn: each wake-up costs the engine a few queries.
 */
function listenForWork(store: PostgresStore, engine: Engine, subscribers: SubscriberDispatcher, logger: Logger): () => Promise<void> {
  let queued = false;
  return store.listen(
    () => {
      if (queued) return;
      queued = true;
      setImmediate(() => {
        queued = false;
        engine.notify();
        // Another node stored events: this node may hold the lease of a subscriber that wants them.
        subscribers.notify();
      });
    },
    (error) => logger.warn({ err: error }, 'the LISTEN connection to PostgreSQL failed; reconnecting (the engine polls meanwhile)'),
  );
}

function openStore(config: RuntimeConfig, nodeId: string, logger: Logger): Store {
  const { db } = config;
  switch (db.kind) {
    case 'sqlite':
      return createSqliteStore({ path: db.path, logger });
    case 'memory':
      return createMemoryStore();
    case 'postgres':
      return createPostgresStore({
        url: db.url,
        nodeId,
        ...(config.postgres ? { poolSize: config.postgres.poolSize, queryTimeoutMs: config.postgres.queryTimeoutMs } : {}),
        onIdleConnectionError: (error) =>
          logger.warn({ err: error }, 'an idle PostgreSQL connection failed; the pool opens a new one for the next query'),
      });
  }
}

/**
 * The server's log lines: one JSON object each, with `level` as its name (`"warn"`) and `time` as ISO 8601 UTC, which
 * a person and a log shipper read alike (pino's own are a number and epoch milliseconds).
 */
function serverLogOptions(level: string): LoggerOptions {
  return { level, formatters: { level: (label) => ({ level: label }) }, timestamp: stdTimeFunctions.isoTime };
}

/**
 * The composition root: builds the store, sandbox, capabilities and engine from configuration
 * and wires them together. Nothing else creates these; two runtimes can live in one process.
 */
export async function createRuntime(config: RuntimeConfig, overrides: RuntimeOverrides = {}): Promise<Runtime> {
  const shortSecrets = shortSecretsProblem(config.secrets);
  if (shortSecrets !== undefined) throw new ConfigError(shortSecrets);
  const accessProblem = secretAccessProblem(config.secretAccess ?? {}, config.secrets);
  if (accessProblem !== undefined) throw new ConfigError(accessProblem);
  // SQLite has one writer process: a stable id lets a restarted server take its leases back at once.
  const nodeId = config.db.kind === 'postgres' ? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}` : 'local';
  // Every line names its node, as the metrics and leases do: a run is followed across nodes by it.
  const logger: Logger = (overrides.logger ?? pino(serverLogOptions(config.logLevel))).child({ node: nodeId });
  const clock = overrides.clock ?? createSystemClock();
  const plainStore = openStore(config, nodeId, logger.child({ component: 'store' }));
  let serverLock: ServerLock | undefined;
  if (config.db.kind === 'sqlite' && config.db.path !== ':memory:') {
    try {
      serverLock = lockDatabaseForServer(config.db.path);
    } catch (error) {
      await plainStore.close();
      throw error;
    }
  }
  const sandbox = await createThreadedSandbox(
    { threads: config.sandbox.threads },
    {
      onStartFailure: (error) =>
        logger.error(
          { err: error, component: 'sandbox' },
          'a sandbox thread could not start; the main thread takes its runs (sandbox.threads)',
        ),
    },
  );
  const metrics = createMetrics({
    store: plainStore,
    clock,
    logger: logger.child({ component: 'metrics' }),
    nodeId,
    ...(sandbox instanceof ThreadedSandbox ? { sandboxPlacement: () => sandbox.placement() } : {}),
  });
  const store = instrumentStore(plainStore, metrics.storeTimer);
  const schema = await store.migrate();
  if (schema.to !== schema.from) {
    logger.info(
      { schemaFrom: schema.from, schemaTo: schema.to },
      schema.from === 0
        ? `created the database's schema (version ${schema.to})`
        : `migrated the database's schema from version ${schema.from} to ${schema.to}`,
    );
  }
  const secrets = createSecretSource(config.secrets);
  const emptySecrets = emptySecretsWarning(config.secrets);
  if (emptySecrets) logger.warn({ secrets: emptySecrets.names }, emptySecrets.message);
  // `emit` puts events into the engine's inbox and `sendSignal` goes through the operations, which need the engine, which
  // needs the capabilities first.
  const late: { engine?: Engine; operations?: Operations } = {};
  const ingest = (event: CloudEvent, key: string) => {
    if (!late.engine) throw new Error('an event was put into the inbox before the engine exists');
    return late.engine.ingest(event, key);
  };
  // What the events a run puts into the inbox carry, so that workflows starting each other in a loop end (event-chain.ts).
  const chainOf = (runId: string) => runEventChain(store, runId);
  const activities = createActivitiesCapability(config.activities, { secrets });
  const secretsCapability = createSecretsCapability(secrets, { access: config.secretAccess ?? {} });
  const builtIn: Capability[] = [
    createHttpCapability(overrides.fetch ? { fetch: overrides.fetch } : {}),
    secretsCapability,
    createEmitCapability(ingest, { chainOf }),
    createSignalsCapability({
      workflowOf: async (runId) => (await store.getRun(runId))?.workflow,
      send(runId, name, payload, { idempotencyKey, fromWorkflow }) {
        if (!late.operations) throw new Error('a run sent a signal before the server could take it');
        return late.operations.signalRun(runId, name, payload, { idempotencyKey, fromWorkflow });
      },
    }),
    createTasksCapability({ store, ingest, publicUrl: config.publicUrl ?? 'http://localhost:8080', chainOf }),
    activities,
    ...gitlabCapabilities(config),
    createCalendarCapability(),
    ...(config.kubernetes ? [createKubernetesCapability(config.kubernetes)] : []),
  ];
  const capabilities = new Map<string, Capability>();
  for (const capability of [...builtIn, ...(overrides.capabilities ?? [])]) capabilities.set(capability.name, capability);
  // The configuration's activities and secrets are known; an embedding that brings its own (the test harness) is not warned of.
  const offer: ServerOffer = {
    capabilities: new Set(capabilities.keys()),
    ...(capabilities.get('activities') === activities && { activities: new Set(Object.keys(config.activities)) }),
    ...(capabilities.get('secrets') === secretsCapability && { secrets: new Set(secrets.values().map(({ name }) => name)) }),
    secretAccess: config.secretAccess ?? {},
  };
  const webhookSources = [...webhookSourcesOf(config), ...(overrides.webhookSources ?? [])];
  // Asked before the capabilities are wrapped: what `env.mock('gitlab')` puts in front of them answers workflows, not
  // this. Only where GitLab events can come from: a test environment without a GitLab has no account to look up.
  const gitlab = capabilities.get('gitlab');
  const ownAccount = new GitLabAccount({
    configured: config.gitlabUsername,
    lookUp: gitlab && (config.gitlabUrl !== undefined || webhookSources.length > 0) ? lookUpThrough(gitlab, clock) : undefined,
    clock,
    logger: logger.child({ component: 'gitlab' }),
  });
  if (overrides.wrapCapability) for (const [name, capability] of capabilities) capabilities.set(name, overrides.wrapCapability(capability));
  const checkSchema = createSchemaChecker();
  const engine = new Engine({
    store,
    sandbox,
    clock,
    logger: logger.child({ component: 'engine' }),
    capabilities,
    secrets,
    secretAccess: config.secretAccess ?? {},
    checkInput: checkSchema,
    nodeId,
    sandboxLimits: { memoryLimitBytes: config.sandbox.memoryMb * 1024 * 1024, cpuMsPerActivation: config.sandbox.cpuMs },
    cacheSize: config.sandbox.cacheSize,
    cacheMemoryBytes: config.sandbox.cacheMemoryMb * 1024 * 1024,
    lookbackMs: config.lookbackMs,
    ownAccount,
    onChainLimit: chainLimitReporter(logger.child({ component: 'engine' }), () => metrics.chainLimited()),
    ...(overrides.pollIntervalMs === undefined ? {} : { pollIntervalMs: overrides.pollIntervalMs }),
    ...(overrides.random ? { random: overrides.random } : {}),
    ...(config.leases ? { runLeaseMs: config.leases.runMs, callLeaseMs: config.leases.callMs } : {}),
    ...(config.shutdownGraceMs === undefined ? {} : { stopGraceMs: config.shutdownGraceMs }),
  });
  metrics.attachEngine(engine);
  let stopListening: (() => Promise<void>) | undefined;
  let stopFollowing: (() => Promise<void>) | undefined;
  const scheduler = new Scheduler({ engine, store, clock, logger: logger.child({ component: 'schedules' }) });
  const dispatcher = new SubscriberDispatcher({
    store,
    clock,
    logger: logger.child({ component: 'subscribers' }),
    subscribers: config.subscribers ?? [],
    nodeId,
    // A subscriber's lease is as long as a run's: both bound how long a silent node holds work up.
    ...(config.leases ? { leaseMs: config.leases.runMs } : {}),
    ...(overrides.pollIntervalMs === undefined ? {} : { pollMs: overrides.pollIntervalMs }),
    ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
    onAttempt: (subscriber, status) => metrics.subscriberAttempt(subscriber, status),
  });
  metrics.attachSubscribers(() => dispatcher.backlog());
  // Emitted events enter the inbox and are routed; that is when subscribers may have something new.
  engine.events.on('event:routed', () => dispatcher.notify());
  const retention = new RetentionSweeper({
    store,
    clock,
    logger: logger.child({ component: 'retention' }),
    policy: config.retention ?? { runDays: 0, eventDays: 0 },
    deliveredThrough: () => dispatcher.deliveredThrough(),
    onDeleted: (kind, count) => metrics.retentionDeleted(kind, count),
  });

  let firstToken: string | undefined;
  const storedTokens = await store.countApiTokens();
  if (config.apiToken !== undefined && storedTokens > 0) {
    logger.info(
      { storedTokens },
      'AUTOFLOW_API_TOKEN is set: it replaces the API token printed at this database’s first start, which is not accepted while it is set',
    );
  } else if (config.apiToken === undefined && storedTokens === 0) {
    const token = newApiToken();
    if (await store.addFirstApiToken(hashToken(token), 'admin', clock.now())) firstToken = token;
    else logger.info({}, 'another server starting on this database at the same moment made its API token: that server printed it');
  }
  if (config.gitlabUrl !== undefined && webhookSources.length === 0) {
    logger.warn(
      { gitlabUrl: config.gitlabUrl },
      'no GitLab webhook secret is configured: every webhook is refused (401), so no trigger on a GitLab event fires; set AUTOFLOW_GITLAB_WEBHOOK_SECRET to the secret token of the project or group webhook',
    );
  }
  const deployProblems = new DeployProblems(config.workflowsDir);
  const versionDrift = new VersionDrift(logger);
  metrics.attachVersionDrift(() => versionDrift.state(engine.definitions()));
  const operations = createOperations({
    engine,
    store,
    clock,
    deployProblems: () => deployProblems.list(),
    checkInput: createInputChecker(sandbox, checkSchema),
    webhookSources,
    secrets,
    ...(config.apiToken === undefined ? {} : { adminToken: config.apiToken }),
  });

  late.engine = engine;
  late.operations = operations;
  let watcher: DirectoryWatch | undefined;
  /**
   * Retires what no file declares any more. Servers sharing PostgreSQL cannot tell a file removed from one that a
   * newer deploy on another server added (during a rolling deploy, say), so there an operator retires it.
   */
  async function retireUndeclared(results: FileResult[]): Promise<void> {
    const retireHere = plainStore.kind !== 'postgres' || config.dev;
    for (const name of undeclaredWorkflows(config.workflowsDir, results, await store.listActiveDefinitions())) {
      if (!retireHere) {
        logger.warn(
          { workflow: name },
          `workflow ${name} is deployed but no file in ${config.workflowsDir} declares it; once every server runs this folder, retire it: autoflow undeploy ${name}`,
        );
      } else if (await engine.retire(name)) {
        logger.warn(
          { workflow: name },
          `workflow ${name} retired: no file in ${config.workflowsDir} declares it any more; its runs in flight go on`,
        );
      }
    }
  }

  /** The scheduler's cron ticks follow the active workflows, unless schedules are held (`schedules: false`). */
  // Schedules are armed once the engine has started: a tick due at start (one missed while the server was down) starts
  // its run and makes its first call at once, and the engine's start takes every call leased to this node before it
  // as a leftover of the previous process, to be made again.
  let engineStarted = false;
  async function syncSchedules(): Promise<void> {
    if (config.schedules !== false && engineStarted) await scheduler.sync();
  }

  const buildInputs = new BuildInputs();
  /** Whether the workflows deployed from another folder were logged: at the first deploy, not at each file change. */
  let toldOfElsewhere = false;
  async function redeploy(): Promise<void> {
    const files = config.workflowFiles ?? findWorkflowFiles(config.workflowsDir);
    const results = await deployWorkflows(files, engine, sandbox, clock.now(), buildInputs, offer);
    deployProblems.remember(results, clock.now(), engine.definitions());
    versionDrift.built(results);
    for (const result of results) {
      if (result.deployed && result.definition) await scheduler.deployed(result.replaced, result.definition);
      const fields = { file: result.file, workflow: result.name, version: result.version?.slice(0, 12) };
      if (result.error) logger.error({ file: result.file }, `workflow not deployed: ${result.error}`);
      // Overtaken by another node's deploy at the same moment: not deployed as far as new runs go; the warning of
      // versionDrift.check below says so.
      else if (result.overtakenBy) logger.debug(fields, 'workflow deployed, then overtaken by another node');
      else if (result.deployed) logger.info({ ...fields, replaced: result.replaced?.version.slice(0, 12) }, 'workflow deployed');
      else logger.debug(fields, 'workflow unchanged');
      for (const warning of result.warnings ?? []) logger.warn({ file: result.file, workflow: result.name }, warning);
    }
    versionDrift.check(engine.definitions(), 'deploy');
    const failed = results.filter((result) => result.error !== undefined);
    // Files named one by one (the test harness) are all meant to run: one that does not build is the caller's error.
    if (config.workflowFiles && failed.length > 0) {
      throw new DefinitionError(failed.map((result) => `${result.file}: ${result.error}`).join('\n'), {
        details: { files: failed.map((result) => result.file) },
      });
    }
    if (!config.workflowFiles) await retireUndeclared(results);
    // Servers sharing PostgreSQL may each have their folder at another path: only a server alone on its store can tell.
    if (!config.workflowFiles && !toldOfElsewhere && plainStore.kind !== 'postgres') {
      toldOfElsewhere = true;
      for (const { name, origin } of workflowsDeployedElsewhere(config.workflowsDir, await store.listActiveDefinitions())) {
        logger.warn(
          { workflow: name, origin },
          `workflow ${name} is active, deployed from ${origin}, outside ${config.workflowsDir}: it goes on running, its triggers and schedules too; retire it (autoflow undeploy ${name}) or start the server on its folder`,
        );
      }
    }
    await syncSchedules();
  }

  const runtime: Runtime = {
    nodeId,
    schema,
    metrics,
    ready: () => checkReadiness(plainStore),
    operations,
    engine,
    store,
    logger,
    clock,
    subscribers: dispatcher,
    retention,
    redeploy,
    async start() {
      if (config.workflowFiles || existsSync(config.workflowsDir)) await redeploy();
      else logger.warn({ dir: config.workflowsDir }, 'workflows folder does not exist; no workflow deployed');
      // Before routing begins, so that the events left in the inbox are told apart too; at most one lookup's timeout.
      await ownAccount.start();
      await engine.start();
      engineStarted = true;
      // Not awaited, never throws: one log line on whether GitLab answers and takes the token.
      if (config.gitlabUrl !== undefined && config.gitlabToken !== undefined)
        void checkGitLabAtStartup({ baseUrl: config.gitlabUrl, token: config.gitlabToken, logger: logger.child({ component: 'gitlab' }) });
      if (plainStore.kind === 'postgres') {
        stopListening = listenForWork(plainStore as PostgresStore, engine, dispatcher, logger);
        stopFollowing = followDefinitions({ engine, clock, logger, onChange: syncSchedules, drift: versionDrift });
      }
      await syncSchedules();
      await dispatcher.start();
      retention.start();
      if (config.dev && existsSync(config.workflowsDir)) {
        watcher = await watchWorkflowDirectory(
          config.workflowsDir,
          () => {
            redeploy().catch((error: unknown) => logger.error({ err: toError(error) }, 'redeploying workflows failed'));
          },
          {
            onError: (error) =>
              logger.warn({ err: error, dir: config.workflowsDir }, 'watching the workflows folder failed; restart to pick up changes'),
            inputs: buildInputs,
          },
        );
      }
    },
    async stop() {
      await stopListening?.();
      await stopFollowing?.();
      await watcher?.close();
      engineStarted = false;
      ownAccount.stop();
      scheduler.stop();
      await retention.stop();
      await dispatcher.stop();
      await engine.stop();
      await sandbox.close();
      await store.close();
      serverLock?.release();
    },
  };
  if (firstToken !== undefined) runtime.newApiToken = firstToken;
  return runtime;
}
