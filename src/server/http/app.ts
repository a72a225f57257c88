import { Hono } from 'hono';
import { mount } from 'hono/mount';
import { requestId } from 'hono/request-id';
import type { Operations } from '../../app/operations.js';
import type { Logger } from '../../core/ports.js';
import type { AppEnv } from './env.js';
import { errorHandler, notFound, type NotFoundOptions } from './errors.js';
import { bearerToken, limitBody, requestLogger } from './middleware.js';
import { countWebhooks, observabilityRoutes, type Observability } from './observability.js';
import { eventRoutes } from './routes/events.js';
import { runRoutes } from './routes/runs.js';
import { simulatorRoutes } from './routes/simulator.js';
import { taskRoutes } from './routes/tasks.js';
import { webhookRoutes } from './routes/webhooks.js';
import { SIMULATOR_PATH, type EmbeddedGitLab } from '../../testing/embedded-gitlab.js';
import type { UiOptions } from '../../ui/env.js';
import { createUi } from '../../ui/ui.js';

export interface AppDeps {
  operations: Operations;
  logger: Logger;
  /** Larger request bodies are refused with 413. @default 1048576 (1 MiB) */
  maxBodyBytes?: number;
  /** The built-in GitLab simulator, served under /simulator/gitlab when no GitLab is configured. */
  gitlab?: EmbeddedGitLab;
  /** `/metrics` and `/readyz`, and webhook counting; absent: neither is served. */
  observability?: Observability;
  /** The web UI (pages, sign-in, live updates), mounted at `/` beside the API; absent: API only. */
  ui?: UiOptions;
}

/** A route path (`/api/v1/runs/:id`) as a regular expression for whole request paths. */
function pathPattern(path: string): RegExp {
  const source = path
    .replace(/\/$/, '')
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/** Paths of the server's own routes, which answer a method they do not have with a 405. */
function isServerPath(path: string): boolean {
  return path.startsWith('/api/') || path.startsWith('/webhooks/') || ['/livez', '/healthz', '/readyz', '/metrics'].includes(path);
}

/**
 * What the server's own routes answer, for `405 Method Not Allowed` and a 404 that points to the
 * routes nearby. Not the web UI's: it answers every GET (its own 404 page), which would turn every
 * unknown path into a 405.
 */
function routeTable(app: Hono<AppEnv>): Pick<NotFoundOptions, 'allowedMethods' | 'routesNear'> {
  let routes: Array<{ method: string; path: string; pattern: RegExp }> | undefined;
  // Read on first use: by then every route is registered. Middleware (`ALL`) and wildcards are not routes of their own.
  const all = () =>
    (routes ??= app.routes
      .filter((route) => route.method !== 'ALL' && isServerPath(route.path) && !route.path.includes('*'))
      .map((route) => ({ method: route.method, path: route.path.replace(/(.)\/$/, '$1'), pattern: pathPattern(route.path) })));
  return {
    allowedMethods(path) {
      if (!isServerPath(path)) return [];
      const methods = new Set(
        all()
          .filter((route) => route.pattern.test(path))
          .map((route) => route.method),
      );
      // Hono answers HEAD with the GET route.
      if (methods.has('GET')) methods.add('HEAD');
      return [...methods].sort();
    },
    routesNear(path) {
      // `/api/v1/events/24` → the routes of `/api/v1/events`.
      const resource = /^\/api\/v1\/[^/]+/.exec(path)?.[0];
      if (resource === undefined) return [];
      const near = all()
        .filter((route) => route.path === resource || route.path.startsWith(`${resource}/`))
        .sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
      return [...new Set(near.map((route) => `${route.method} ${route.path}`))];
    },
  };
}

/**
 * The HTTP API: `/healthz` and the token-protected `/api/v1`. A factory without global state, so
 * that tests build one per case and call it with `app.request()`.
 *
 * @example serve(createApp({ operations: runtime.operations, logger: runtime.logger }), { port: 8080, host: '127.0.0.1' })
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { operations, logger } = deps;
  // `/api/v1/runs/` is `/api/v1/runs`, as the 405 and 404 answers (pathPattern) already take it.
  const app = new Hono<AppEnv>({ strict: false });
  app.onError(errorHandler({ logger }));
  app.notFound(notFound(routeTable(app)));
  app.use(requestId(), requestLogger({ logger }));

  app.get('/healthz', async (c) => {
    const health = await operations.health();
    // 503 lets a load balancer take an unhealthy node out without parsing the body.
    return c.json(health, health.ok ? 200 : 503);
  });
  // Liveness: the process answers HTTP. Nothing of the database: a restart does not bring a
  // database back, and a liveness probe that asked it would restart every node at once.
  app.get('/livez', (c) => c.json({ ok: true }));

  if (deps.observability) {
    app.route('/', observabilityRoutes(deps.observability));
    app.use('/webhooks/*', countWebhooks(deps.observability));
  }
  app.route('/webhooks', webhookRoutes(operations, logger));
  app.use('/api/*', bearerToken({ authenticate: (token) => operations.authenticate(token) }));
  // Every route from here on (the webhooks above have their own limit): the API, the simulator, and
  // the web UI's forms, which read a post before anyone signed in to echo what was typed.
  app.use('*', limitBody({ maxBytes: deps.maxBodyBytes ?? 1024 * 1024 }));
  app.route('/api/v1/runs', runRoutes(operations));
  app.route('/api/v1/events', eventRoutes(operations, logger));
  app.route('/api/v1/tasks', taskRoutes(operations));
  // `problems`: the files that failed to build at this server's latest deploy, those of no deployed workflow too.
  app.get('/api/v1/workflows', async (c) => {
    const [workflows, problems] = await Promise.all([operations.listWorkflows(), operations.listDeployProblems()]);
    return c.json({ workflows, problems });
  });
  app.delete('/api/v1/workflows/:name', async (c) => {
    const name = c.req.param('name');
    await operations.retireWorkflow(name);
    return c.json({ name, retired: true });
  });
  if (deps.gitlab) {
    // Mounted, not routed: the simulator sees the paths below the prefix (its `baseUrl`'s path), as when
    // it serves on its own, and answers with its own 404s (JSON for the API, a page for its pages) and errors.
    app.all(`${SIMULATOR_PATH}/*`, mount(deps.gitlab.simulator.app.fetch));
    app.route('/api/v1/simulator', simulatorRoutes(deps.gitlab));
  }
  // Last, and by explicit paths only: the UI never shadows the API, the webhooks or the simulator.
  if (deps.ui) app.route('/', createUi(deps.ui));
  return app;
}
