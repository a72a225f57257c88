import { Hono, type Context, type MiddlewareHandler, type NotFoundHandler } from 'hono';
import type { Clock } from '../../../core/ports.js';
import type { SimContext } from '../context.js';
import { GitLabApiError, notFound, unauthorized } from '../errors.js';
import type { SimGroup, SimProject, SimToken, SimUser } from '../model.js';
import type { ConnectionBindings, Faults } from './faults.js';

/** Hono environment of the simulator's routes: the authenticated user, and what can cut a connection. */
export type SimEnv = { Bindings: ConnectionBindings; Variables: { user: SimUser; token: SimToken } };
export type SimApi = Hono<SimEnv>;
export type SimRequest = Context<SimEnv>;

export const currentUser = (c: SimRequest): SimUser => c.get('user');

/** `:id` of a project route, by number or URL-encoded path; 404 for a project the user may not see. */
export function projectParam(c: SimRequest, ctx: SimContext): SimProject {
  const project = ctx.state.findProject(c.req.param('id') ?? '');
  if (!project || !ctx.state.canRead(currentUser(c), project)) throw notFound('Project');
  return project;
}

export function groupParam(c: SimRequest, ctx: SimContext): SimGroup {
  const group = ctx.state.findGroup(c.req.param('id') ?? '');
  if (!group || !ctx.state.canRead(currentUser(c), group)) throw notFound('Group');
  return group;
}

/** A numeric path parameter; anything else cannot name a resource, so it is a 404 like GitLab's. */
export function idParam(c: SimRequest, name: string): number {
  const value = c.req.param(name) ?? '';
  if (!/^\d+$/.test(value)) throw notFound();
  return Number(value);
}

/**
 * Authentication as GitLab's API does it: `PRIVATE-TOKEN` header, `Authorization: Bearer`, or
 * the `private_token`/`access_token` query parameters. Unknown, revoked or expired tokens and
 * blocked users all answer 401.
 */
export function authenticate(ctx: SimContext): MiddlewareHandler<SimEnv> {
  const authenticateToken: MiddlewareHandler<SimEnv> = async (c, next) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const secret = c.req.header('private-token') ?? bearer ?? c.req.query('private_token') ?? c.req.query('access_token');
    const token = secret === undefined ? undefined : ctx.state.tokens.get(secret.trim());
    const today = new Date(ctx.state.now()).toISOString().slice(0, 10);
    const user =
      token && !token.revoked && (token.expiresAt === null || token.expiresAt > today) ? ctx.state.users.get(token.userId) : undefined;
    if (!token || !user || user.state !== 'active') throw unauthorized();
    c.set('user', user);
    c.set('token', token);
    await next();
  };
  return authenticateToken;
}

export interface SimAppParts {
  ctx: SimContext;
  faults: Faults;
  clock: Clock;
  /** Registers the REST routes on the `/api/v4` sub-app. */
  routes: ReadonlyArray<(api: SimApi, ctx: SimContext) => void>;
  onInternalError: (error: Error) => void;
  /** The answer to a path outside `/api` that no route serves: GitLab's web answers with a page. */
  notFoundPage: NotFoundHandler<SimEnv>;
  /**
   * Called after each request that may have changed something (any method but GET, HEAD and OPTIONS); a
   * promise it returns holds the answer until it settles (the built-in simulator's state being on disk).
   */
  onChange?: (() => void | Promise<void>) | undefined;
}

const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The simulator's HTTP app: faults first (they stand for the network), then authentication, then the routes. */
export function createSimApp(parts: SimAppParts): Hono<SimEnv> {
  const app = new Hono<SimEnv>();
  app.use('*', parts.faults.middleware(parts.clock));
  const { onChange } = parts;
  if (onChange) {
    app.use('*', async function noticeChanges(c, next) {
      try {
        await next();
      } finally {
        if (!READ_ONLY_METHODS.has(c.req.method)) await onChange();
      }
    });
  }
  const api = new Hono<SimEnv>();
  api.use('*', authenticate(parts.ctx));
  for (const register of parts.routes) register(api, parts.ctx);
  app.route('/api/v4', api);
  // Grape answers unknown API routes with `error`, not `message`.
  app.notFound((c) => (c.req.path.startsWith('/api/') ? c.json({ error: '404 Not Found' }, 404) : parts.notFoundPage(c)));
  app.onError((error, c) => {
    if (error instanceof GitLabApiError) return c.json(error.body, error.status as 400);
    parts.onInternalError(error);
    return c.json({ message: '500 Internal Server Error' }, 500);
  });
  return app;
}
