import type { ActivityContext, ActivityFunction } from '../capabilities/activities.js';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { DATABASE_FORMS, parseDatabaseUrl } from './database.js';
import { subscriberName } from '../app/subscriber-name.js';
import { undeliverableTypeProblem } from './subscriber-types.js';
import { uniqueEntries } from './unique-entries.js';
import { uiUserEntryProblem } from '../ui/auth/allowed-users.js';
import { textProblem } from '../core/storable-json.js';

/**
 * The one schema of AutoFlow's configuration. Every source (flags, environment, config file,
 * defaults) is merged into one object and parsed here once, so that a value is checked the same
 * way wherever it came from. Each message states the expected form; the loader adds the key,
 * the source and the bad value.
 */

/** An object that rejects unknown keys and names the known ones, so that a typo is easy to fix. */
function strict<Shape extends z.ZodRawShape>(shape: Shape) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}; known keys: ${known}`
        : undefined,
  });
}

/**
 * The sandbox threads a server starts unless told: one where the process sees more than one CPU. Not one per CPU: in a
 * container the CPUs seen are the node's, whatever the pod's CPU limit, and each thread is a V8 heap of its own; one is
 * what was measured (docs/engine.md, "Sandbox threads").
 */
export function defaultSandboxThreads(): number {
  return availableParallelism() > 1 ? 1 : 0;
}

function integer(min: number, max: number, expected = `an integer from ${min} to ${max}`) {
  return z.int(expected).min(min, expected).max(max, expected);
}

const nonEmpty = z.string('a non-empty string').min(1, 'a non-empty string');
/**
 * A name the server writes into events, logs and metric labels (a webhook source's, a subscriber's): printable text that
 * every store keeps. One with U+0000 made every webhook of its source a 400 on PostgreSQL, naming no setting.
 */
const shownName = nonEmpty
  .max(100, 'a name of at most 100 characters')
  .refine(
    (name) => !/[\u0000-\u001f\u007f]/u.test(name) && textProblem(name) === undefined,
    'a name of printable characters, such as team-a',
  );
// The API token starts, cancels and retries any run and posts any event: a short one falls to guessing over the network.
const API_TOKEN_MIN_LENGTH = 16;
const API_TOKEN = `a random string of at least ${API_TOKEN_MIN_LENGTH} characters, such as the output of \`openssl rand -base64 32\``;
/** GitLab's usernames: letters, digits, `_`, `.` and `-`, not starting with `-`. */
const GITLAB_USERNAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type { ActivityContext, ActivityFunction };

const EVENT_DAYS = '0 (for ever), or an integer from 2 to 36500';

const retentionSchema = strict({
  /** Days a run is kept after it ended, with its history and logs; 0 keeps runs for ever. @default 30 */
  runDays: integer(0, 36_500).default(30),
  /**
   * Days an event is kept after it arrived (and was routed); 0 keeps events for ever. At least 2:
   * a new wait looks back at events up to a day old (lookbackMs). @default 7
   */
  eventDays: integer(0, 36_500, EVENT_DAYS)
    .refine((days) => days !== 1, EVENT_DAYS)
    .default(7),
});

const sandboxSchema = strict({
  /** Memory limit of one run's sandbox, in MiB. @default 64 */
  memoryMb: integer(8, 16_384).default(64),
  /** CPU deadline of one workflow task, in ms. @default 1000 */
  cpuMs: integer(10, 600_000).default(1000),
  /** Live sandboxes kept in memory; a run outside the cache is rebuilt by replay. @default 500 */
  cacheSize: integer(0, 1_000_000).default(500),
  /**
   * MiB the live sandboxes may hold together; the least recently used are evicted past it (docs/engine.md,
   * "Sandboxes are a cache"). @default 1024: 500 parked runs of ordinary size, or 16 at the default memoryMb
   */
  cacheMemoryMb: integer(0, 1_048_576).default(1024),
  /**
   * Worker threads that host sandboxes besides the main thread (docs/engine.md, "Sandbox threads"); 0 keeps every
   * sandbox on the main thread. @default 1 where the process sees more than one CPU, else 0
   */
  threads: integer(0, 64).default(defaultSandboxThreads),
});

const leasesSchema = strict({
  /** How long a node that stopped answering keeps a run from the others, in ms. @default 30000 */
  runMs: integer(1000, 3_600_000).default(30_000),
  /**
   * How long a node that stopped answering keeps a call from the others, in ms; a live node renews
   * it while the call runs, so it bounds recovery time, not call duration. @default 120000
   */
  callMs: integer(1000, 86_400_000).default(120_000),
});

const postgresSchema = strict({
  /** Connections each server keeps to PostgreSQL (besides one for LISTEN). @default 10 */
  poolSize: integer(1, 1000).default(10),
  /**
   * How long one statement may take, in ms: the server cancels it then (statement_timeout), and the
   * server that asked stops waiting and drops the connection, which a failover may have left silent.
   * Keep it far above the longest statement (they are index lookups and batches of a few hundred
   * rows); migrations are not bounded by it. @default 30000
   */
  queryTimeoutMs: integer(1000, 3_600_000).default(30_000),
});

/**
 * A string the file may give as `process.env.NAME`: unset, it is undefined, and reads as missing (load.ts says to
 * check the variable) instead of failing the file's types.
 */
const fromEnvironment = z.string('a non-empty string').optional().pipe(nonEmpty);

const subscriberType = nonEmpty.superRefine((type, context) => {
  const problem = undeliverableTypeProblem(type);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});

const subscriberSchema = strict({
  url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
  /** What logs and metrics call it. @default its URL without credentials, query or fragment */
  name: shownName.optional(),
  /** Signs each delivery so that the receiver can check it came from this server. */
  secret: fromEnvironment,
  /** Event types to deliver, each exact or a glob with `*` as a trigger's (`com.example.*`); every emitted event when absent. */
  types: z
    .array(subscriberType, 'a list of event types or globs (com.example.*)')
    .min(1, 'at least one event type or glob: an empty list delivers nothing (leave types out for every emitted event)')
    .optional(),
  /**
   * How long a delivery waits for the receiver's answer, in ms; a slower answer counts as a failure, and the event is
   * sent again. @default 10000 (DEFAULT_DELIVERY_TIMEOUT_MS)
   */
  timeoutMs: integer(1000, 600_000).optional(),
});

const webhookSourceSchema = strict({
  /** Names the source in event dedupe keys and logs. */
  name: shownName,
  /** The `X-Gitlab-Token` GitLab sends with this source's webhooks. */
  secret: fromEnvironment,
  /** The instance's URL, the prefix of its events' `source`; read from the payload when absent. */
  instanceUrl: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).optional(),
  /** The projects and groups (paths, `*` globs) its webhooks may be about; others are refused. @default any */
  projects: z
    .array(nonEmpty, "a list of project or group paths, such as ['teama/*']")
    .min(1, "at least one path, such as 'teama/*'")
    .optional(),
}).refine((source) => source.projects === undefined || source.instanceUrl !== undefined, {
  path: ['instanceUrl'],
  // Without it, the instance part of an event's `source` comes from the X-Gitlab-Instance header or the payload, which
  // the holder of this source's secret writes: a `source` filter would take their events for another team's.
  message:
    "the GitLab instance's URL, such as 'https://gitlab.example.com', which a source limited to some projects needs: without it the sender of a webhook chooses the instance its events' source names",
});

const kubernetesSchema = strict({
  /** A kubeconfig file, relative to the config file's folder; load.ts refuses one the server cannot read. */
  kubeconfig: nonEmpty.optional(),
  context: nonEmpty.optional(),
  server: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).optional(),
  token: nonEmpty.optional(),
  /** The API server's CA certificate (PEM), with `server`; a path as `kubeconfig`'s. */
  caFile: nonEmpty.optional(),
  /** @default false */
  insecureSkipTlsVerify: z.boolean('true or false').optional(),
  /** Use the pod's ServiceAccount (running inside the cluster). @default false */
  inCluster: z.boolean('true or false').optional(),
});

export const configSchema = strict({
  /** @default 8080 */
  port: integer(1, 65_535).default(8080),
  /** @default '127.0.0.1' */
  host: nonEmpty.default('127.0.0.1'),
  /** @default 'sqlite:./data/autoflow.db' */
  db: z
    .string(DATABASE_FORMS)
    .transform((value, context) => {
      const parsed = parseDatabaseUrl(value);
      if (parsed) return parsed;
      context.issues.push({ code: 'custom', message: DATABASE_FORMS, input: value });
      return z.NEVER;
    })
    // prefault, not default: the default string must go through the transform like any other.
    .prefault('sqlite:./data/autoflow.db'),
  /** @default './workflows' */
  workflowsDir: nonEmpty.default('./workflows'),
  /** Redeploys workflows when their files change. @default false */
  dev: z.boolean('true or false').default(false),
  /** Accepted by the API besides the tokens the server stores; none when absent. An admin credential, so not guessable. */
  apiToken: z.string(API_TOKEN).min(API_TOKEN_MIN_LENGTH, API_TOKEN).optional(),
  /** @default 'info' */
  logLevel: z.enum(LOG_LEVELS, `one of ${LOG_LEVELS.join(', ')}`).default('info'),
  sandbox: sandboxSchema.prefault({}),
  /** Leases of runs and calls between the nodes sharing one database (see docs/deploy.md). */
  leases: leasesSchema.prefault({}),
  /** The connections to a PostgreSQL database (`db: postgres://…`); ignored with SQLite (see docs/deploy.md). */
  postgres: postgresSchema.prefault({}),
  /**
   * On SIGTERM, how long calls still running may take to finish, in ms. Those that do not are given
   * up (their signal aborts) and handed back: another server, or this one's next start, makes them
   * again with the same idempotency key. @default 10000
   */
  shutdownGraceMs: integer(0, 3_600_000).default(10_000),
  /** How long ended runs and old events are kept (see docs/deploy.md, "Retention"). */
  retention: retentionSchema.prefault({}),
  /** How far back a new wait looks for events that arrived just before it, in ms. @default 300000 */
  lookbackMs: integer(0, 86_400_000).default(300_000),
  /**
   * Secret values by name; workflows read them through `secrets.get` when permitted. An empty or undefined value (an
   * unset `process.env.NAME`) is kept as '', which counts as not configured: the server warns of it at start.
   */
  secrets: z
    .record(
      nonEmpty,
      z
        .string('a string')
        .optional()
        .transform((value) => value ?? ''),
      'an object of secret names to string values',
    )
    .default({}),
  /**
   * Config file only: secret name → the workflows (names or globs) that may read it, whatever other workflows' own
   * `permissions.secrets` ask for; a secret not named here stays readable by every workflow that asks for it.
   */
  secretAccess: z
    .record(
      nonEmpty,
      z.array(nonEmpty, 'a list of workflow names or globs').min(1, 'at least one workflow name or glob'),
      'an object of secret names to lists of workflow names or globs',
    )
    .default({}),
  /** Config file only. */
  activities: z
    .record(
      nonEmpty,
      z.custom<ActivityFunction>((value) => typeof value === 'function', 'an async function (args, context) => result'),
      'an object of activity names to functions',
    )
    .default({}),
  /**
   * The GitLab instance workflows call (`https://gitlab.example.com`, or with the path of a
   * sub-path install); without it the server runs the built-in simulator. A trailing `/api/v4`
   * (the API's address, often copied instead) and trailing slashes are dropped: the API lives
   * under `<gitlabUrl>/api/v4`.
   */
  gitlabUrl: z
    .url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })
    .transform((url) =>
      url
        .replace(/\/+$/, '')
        .replace(/\/api\/v4$/i, '')
        .replace(/\/+$/, ''),
    )
    .optional(),
  /**
   * The address people use to reach this server (links in task notifications and GitLab comments,
   * the OAuth redirect). @default http://<host>:<port>
   */
  publicUrl: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).optional(),
  /**
   * Lets people on other machines sign in with the built-in GitLab simulator, which asks for no password.
   * @default false: only from this machine
   */
  allowRemoteSimulatorSignIn: z.boolean('true or false').default(false),
  /**
   * Who may use the web UI: GitLab usernames and `group:<full path>` (the group's members, inherited ones too, read
   * with `gitlabToken`). From the environment, a comma-separated list. @default everyone GitLab signs in
   */
  uiUsers: z
    .array(
      z.string('a GitLab username, or group:<full path>').superRefine((entry, context) => {
        const problem = uiUserEntryProblem(entry);
        if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
      }),
      'a list of GitLab usernames and group:<full path>',
    )
    .optional(),
  /** Application ID of the GitLab OAuth application people sign in with (scope read_user). */
  gitlabOAuthClientId: nonEmpty.optional(),
  /** Secret of that OAuth application. */
  gitlabOAuthClientSecret: nonEmpty.optional(),
  /** Signs session cookies; every server of one deployment needs the same. Generated and stored when absent. */
  sessionSecret: z.string('a string of at least 32 characters').min(32, 'a string of at least 32 characters').optional(),
  /** Token of the GitLab user AutoFlow acts as (a bot or project access token). */
  gitlabToken: nonEmpty.optional(),
  /**
   * The username of that token's user (`autoflow-bot`; a leading `@` is dropped). Triggers start no run for the events
   * it causes; the server asks GitLab for it at start, and this name counts until GitLab answers (and where it does
   * not). @default none: until GitLab answers, no event counts as AutoFlow's own
   */
  gitlabUsername: z
    .string('a GitLab username, such as autoflow-bot')
    .transform((name) => name.replace(/^@/, ''))
    .refine((name) => GITLAB_USERNAME.test(name), 'a GitLab username, such as autoflow-bot')
    .optional(),
  /** `X-Gitlab-Token` of the default webhook source. */
  gitlabWebhookSecret: nonEmpty.optional(),
  /** Config file only: more webhook sources, for several GitLab instances or groups with their own secrets. */
  webhookSources: z
    .array(webhookSourceSchema, 'a list of { name, secret, instanceUrl?, projects? }')
    .superRefine(
      uniqueEntries(
        {
          field: 'name',
          valueOf: (source) => source.name,
          expected: (first) =>
            `a name no other webhook source has (webhookSources[${first}] has it): the name tells the sources apart in logs, refusals and the events' dedupe keys`,
        },
        {
          field: 'secret',
          valueOf: (source) => source.secret,
          // The secret itself is never shown (load.ts hides it): the entries are named instead.
          expected: (first) =>
            `a secret no other webhook source has (webhookSources[${first}] has it): webhooks carrying it go to the first source ` +
            'that has it, so this one would never receive one',
        },
      ),
    )
    .default([]),
  /**
   * Config file only: the cluster the `kubernetes` capability reaches (Flux objects, events, pod
   * logs) — a kubeconfig file (and context), or a server URL with a ServiceAccount token.
   */
  kubernetes: kubernetesSchema.optional(),
  /** Config file only: receivers of the server's outgoing events. */
  subscribers: z
    .array(subscriberSchema, 'a list of { url, secret, types?, name? }')
    // The URL is the subscriber's identity (its lease and its mark), the name its label in logs and metrics.
    .superRefine(
      uniqueEntries(
        {
          field: 'url',
          valueOf: (subscriber) => subscriber.url,
          expected: (first) =>
            `a URL no other subscriber has (subscribers[${first}] has it): list a receiver once, with every type it wants in its types`,
        },
        {
          field: 'name',
          valueOf: subscriberName,
          expected: (first, subscriber) =>
            `a name no other subscriber has: logs and metrics call this one ${subscriberName(subscriber)}, as they call subscribers[${first}] ` +
            '(a URL is named without its credentials, query or fragment, which may hold secrets)',
        },
      ),
    )
    .default([]),
})
  // The default source is matched first (runtime.ts), so a source of the list with its secret would never be.
  .superRefine((config, context) => {
    config.webhookSources.forEach((source, index) => {
      if (source.secret !== config.gitlabWebhookSecret) return;
      context.addIssue({
        code: 'custom',
        path: ['webhookSources', index, 'secret'],
        message:
          "a secret other than gitlabWebhookSecret's (AUTOFLOW_GITLAB_WEBHOOK_SECRET): webhooks carrying it go to the default " +
          'source, which is matched first and takes any project, so this source would never receive one and its projects would limit nothing',
      });
    });
  });

/** What `autoflow.config.ts` may export (every key optional). */
export type AutoflowConfig = z.input<typeof configSchema>;
