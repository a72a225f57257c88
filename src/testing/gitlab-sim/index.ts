import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { createSystemClock } from '../../app/clocks.js';
import type { Clock } from '../../core/ports.js';
import { type SimActions, createActions } from './actions.js';
import type { SimContext } from './context.js';
import type { SimUser } from './model.js';
import { Webhooks } from './hooks/webhooks.js';
import { type SimEnv, createSimApp } from './http/app.js';
import { Faults } from './http/faults.js';
import { SimOAuth, oauthRoutes } from './oauth.js';
import { registerCi } from './routes/ci.js';
import { registerIssues } from './routes/issues.js';
import { registerMembership } from './routes/members.js';
import { registerMergeRequests } from './routes/merge-requests.js';
import { registerPeople } from './routes/people.js';
import { registerPlanning } from './routes/planning.js';
import { registerProjects } from './routes/projects.js';
import { registerRepository } from './routes/repository.js';
import { type SeedDescription, type SeedResult, seedState } from './seed.js';
import { restoreState, snapshotState } from './snapshot.js';
import { SimState } from './state.js';
import { createWebPages } from './web/pages.js';

export { DEMO_BOT_USERNAME, demoSeed } from './seed.js';
export type { GroupSeed, IssueSeed, LabelSeed, MilestoneSeed, ProjectSeed, Role, SeedDescription, SeedResult, UserSeed } from './seed.js';
export type { IssueChange, MergeRequestOpening, NoteTarget, Ref, SimActions } from './actions.js';
export type { Fault, FaultKind, FaultMatch, FaultSpec, Faults } from './http/faults.js';
export { HOOK_EVENTS } from './hooks/webhooks.js';
export type { HookEventName, Webhook, WebhookDelivery, WebhookOptions, Webhooks } from './hooks/webhooks.js';
export type { SimState } from './state.js';
export type { OAuthApplication, SimOAuth } from './oauth.js';
export { SnapshotError } from './snapshot.js';
export type * from './model.js';

export interface GitLabSimulatorOptions {
  /**
   * Where the simulated GitLab says it lives (`web_url`s, `X-Gitlab-Instance`). Serve `app` at this
   * URL's path (`autoflow server` mounts it at `/simulator/gitlab`): the `web_url`s are pages it serves.
   * @default the URL `listen()` gets, or `http://gitlab.example.com` before that
   */
  baseUrl?: string;
  /** Time of every record, of webhook retries and of `latency` faults. @default the system clock */
  clock?: Clock;
  /** How webhooks are posted. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default [15_000, 16_000, 31_000, 96_000] (see `WebhooksOptions.retryDelaysMs`) */
  webhookRetryDelaysMs?: readonly number[];
  /** Makes the webhooks' UUIDs and their deliveries' (`X-Gitlab-Event-UUID`, `Idempotency-Key`). @default randomUUID */
  uuid?: () => string;
  /** Created before anything else. */
  seed?: SeedDescription;
  /**
   * A `snapshot()` of an earlier simulator to continue from, in place of a fresh instance and `seed`.
   * @throws SnapshotError (when the simulator is created) if it is not a snapshot this version reads
   */
  snapshot?: string;
  /**
   * Called after anything that may have changed the state: an API request other than GET, HEAD or
   * OPTIONS, an action, a seed. Changes made on `state` directly are not noticed. For saving it. A
   * promise it returns holds the API request's answer until it settles (actions and seeds do not wait).
   */
  onChange?: () => void | Promise<void>;
  /** A bug of the simulator itself, answered as GitLab's 500. @default console.error */
  onInternalError?: (error: Error) => void;
}

export interface SimServer {
  url: string;
  close(): Promise<void>;
}

export interface GitLabSimulator {
  /** The Hono app: `app.request('/api/v4/user', { headers: { 'PRIVATE-TOKEN': … } })`. */
  app: Hono<SimEnv>;
  state: SimState;
  faults: Faults;
  webhooks: Webhooks;
  actions: SimActions;
  /** GitLab as an OAuth 2 provider: register applications; `/oauth/authorize` is a user picker. */
  oauth: SimOAuth;
  seed(description: SeedDescription): SeedResult;
  /** Everything in `state` as JSON text, for `GitLabSimulatorOptions.snapshot` (hooks, faults and OAuth applications are not in it). */
  snapshot(): string;
  /**
   * A `fetch` into the app without a socket, for tests on a virtual clock. Relative URLs are
   * resolved against `state.baseUrl`; `drop` and `lose_response` faults reject it like a real
   * connection reset (`TypeError: fetch failed`).
   */
  fetch: typeof fetch;
  /** Serves the app on 127.0.0.1. @default port 0 (any free port) */
  listen(port?: number): Promise<SimServer>;
}

/**
 * A GitLab for tests, demos and newcomers: REST v4 for issues, merge requests, labels,
 * milestones, pipelines, deployments, repository files and more, with GitLab's auth,
 * pagination and errors; webhooks with retries; fault injection; seeding from a short description;
 * read-only HTML pages where its `web_url`s point (`web/`).
 *
 * @example
 * const gitlab = createGitLabSimulator({ seed: demoSeed() });
 * const { url, close } = await gitlab.listen();
 * gitlab.webhooks.add({ project: 'demo/app', url: 'http://localhost:3000/webhooks/gitlab', token: 's3cret' });
 * gitlab.actions.addLabels('alice', 'demo/app', 1, ['workflow::ready for dev']);
 */
export function createGitLabSimulator(options: GitLabSimulatorOptions = {}): GitLabSimulator {
  if (options.seed && options.snapshot !== undefined) throw new TypeError('createGitLabSimulator: give `seed` or `snapshot`, not both');
  const clock = options.clock ?? createSystemClock();
  const state = new SimState(clock, options.baseUrl ?? 'http://gitlab.example.com');
  const webhooks = new Webhooks(state, {
    clock,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    ...(options.webhookRetryDelaysMs ? { retryDelaysMs: options.webhookRetryDelaysMs } : {}),
    ...(options.uuid ? { uuid: options.uuid } : {}),
  });
  const ctx: SimContext = { state, webhooks };
  const faults = new Faults();
  const web = createWebPages(state);
  const app = createSimApp({
    ctx,
    faults,
    clock,
    routes: [
      registerProjects,
      registerIssues,
      registerMergeRequests,
      (api) => registerPlanning(api, ctx, 'projects'),
      (api) => registerPlanning(api, ctx, 'groups'),
      (api) => registerMembership(api, ctx, 'projects'),
      (api) => registerMembership(api, ctx, 'groups'),
      registerCi,
      registerRepository,
      registerPeople,
    ],
    onInternalError: options.onInternalError ?? ((error) => console.error('gitlab-sim: internal error', error)),
    notFoundPage: web.notFound,
    onChange: options.onChange,
  });
  const oauth = new SimOAuth(state);
  app.route('/oauth', oauthRoutes(oauth, state));
  // Last: the pages' `/<namespace>` route would shadow any route registered after it.
  app.route('/', web.pages);
  // Every GitLab has its first administrator; seeding acts as them.
  let root: SimUser = {
    id: state.nextId('user'),
    username: 'root',
    name: 'Administrator',
    email: 'admin@example.com',
    state: 'active',
    admin: true,
    createdAt: clock.now(),
  };
  state.users.set(root.id, root);
  if (options.snapshot !== undefined) {
    restoreState(state, options.snapshot);
    root = state.users.get(root.id) ?? root;
  }
  const onChange = options.onChange ?? (() => {});
  const seed = (description: SeedDescription): SeedResult => {
    try {
      return seedState(ctx, description, root);
    } finally {
      // Synchronous, like the actions: it cannot wait for a save, which comes with a later change or close.
      void onChange();
    }
  };
  if (options.seed) seed(options.seed);

  const inProcessFetch: typeof fetch = async (input, init) => {
    const request = new Request(typeof input === 'string' ? new URL(input, state.baseUrl) : input, init);
    let abandoned = false;
    const response = await app.fetch(request, { abandon: () => (abandoned = true) });
    if (abandoned) throw new TypeError('fetch failed', { cause: new Error('other side closed') });
    return response;
  };

  return {
    app,
    state,
    faults,
    webhooks,
    actions: options.onChange ? noticing(createActions(ctx), options.onChange) : createActions(ctx),
    oauth,
    seed,
    snapshot: () => snapshotState(state),
    fetch: inProcessFetch,
    listen(port = 0) {
      return new Promise((resolve) => {
        const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info: AddressInfo) => {
          const url = `http://127.0.0.1:${info.port}`;
          if (options.baseUrl === undefined) state.baseUrl = url;
          resolve({
            url,
            close: () =>
              new Promise<void>((done) => {
                if ('closeAllConnections' in server) server.closeAllConnections();
                server.close(() => done());
              }),
          });
        });
      });
    },
  };
}

/** The actions, each followed by `onChange` (also when it throws: it may have changed something first). */
function noticing(actions: SimActions, onChange: () => void | Promise<void>): SimActions {
  const wrapped = Object.entries(actions).map(([name, action]: [string, (...args: unknown[]) => unknown]) => [
    name,
    (...args: unknown[]) => {
      try {
        return action(...args);
      } finally {
        void onChange();
      }
    },
  ]);
  return Object.fromEntries(wrapped) as SimActions;
}
