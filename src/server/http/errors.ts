import type { ErrorHandler, NotFoundHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  AutoflowError,
  ConflictError,
  DefinitionError,
  ForbiddenError,
  NotFoundError,
  StoreError,
  UnauthorizedError,
  ValidationError,
} from '../../core/errors.js';
import type { Logger } from '../../core/ports.js';
import type { AppEnv } from './env.js';

/**
 * A failure that only exists at the HTTP edge (malformed JSON, an oversized body, a wrong media
 * type): it carries its own status, which the error handler uses as is.
 */
export class HttpError extends AutoflowError {
  readonly status: ContentfulStatusCode;
  constructor(status: ContentfulStatusCode, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

/** The body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; issues?: string[]; details?: unknown };
}

// Ordered: the first class an error is an instance of decides its status.
const STATUS_BY_CLASS: ReadonlyArray<[abstract new (...args: never[]) => Error, ContentfulStatusCode]> = [
  [NotFoundError, 404],
  [ValidationError, 400],
  [ConflictError, 409],
  [UnauthorizedError, 401],
  [ForbiddenError, 403],
  [DefinitionError, 422],
];

/**
 * What a client is told to wait before it tries again while the database does not answer: about
 * what a failover takes to be noticed and a new connection to be made.
 */
export const STORE_RETRY_AFTER_SECONDS = 5;

function statusOf(error: Error): ContentfulStatusCode | undefined {
  if (error instanceof HttpError) return error.status;
  return STATUS_BY_CLASS.find(([type]) => error instanceof type)?.[1];
}

/**
 * The one place where errors become status codes. Typed errors keep their message and code;
 * anything else is a 500 whose message points to the server log instead of leaking internals.
 */
export function errorHandler(options: { logger: Logger }): ErrorHandler<AppEnv> {
  return function handleError(error, c) {
    if (error instanceof StoreError) {
      // The database failed or did not answer: nothing the client sent was wrong, and the same
      // request may well succeed in a moment. Its message names the database, for the log only.
      const requestId = c.get('requestId');
      options.logger.error(
        { err: error, requestId, method: c.req.method, path: c.req.path },
        'request failed in the store; answered 503 with Retry-After',
      );
      c.header('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
      const body: ErrorBody = {
        error: {
          code: 'store_unavailable',
          message: `the database is unavailable; try again in a few seconds (request ${requestId}: the server log has the details)`,
        },
      };
      return c.json(body, 503);
    }
    const status = statusOf(error);
    if (status === undefined || !(error instanceof AutoflowError)) {
      const requestId = c.get('requestId');
      options.logger.error({ err: error, requestId, method: c.req.method, path: c.req.path }, 'request failed');
      const body: ErrorBody = {
        error: { code: 'internal', message: `internal error; the server log has the details (request ${requestId})` },
      };
      return c.json(body, 500);
    }
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error instanceof ValidationError) body.error.issues = error.issues;
    else if (error.details !== undefined) body.error.details = error.details;
    if (status === 401) c.header('WWW-Authenticate', 'Bearer');
    return c.json(body, status);
  };
}

export interface NotFoundOptions {
  /** The methods the routes at `path` answer; some but not this request's: a 405 instead of a 404. */
  allowedMethods?: (path: string) => readonly string[];
  /** The routes (`GET /api/v1/events`) of the API resource `path` is under, to name in a 404. */
  routesNear?: (path: string) => readonly string[];
}

/** Why nothing answers: outside the API, say where it is; inside it, what is there. */
function notFoundMessage(method: string, path: string, near: readonly string[]): string {
  const route = `no route ${method} ${path}`;
  if (!/^\/api\/v1(\/|$)/.test(path)) return `${route}; the API lives under /api/v1`;
  if (near.length > 0) return `${route}; the routes there are ${near.join(', ')}`;
  return `${route}: the API has no such path (README.md lists its routes, under "HTTP API")`;
}

export function notFound(options: NotFoundOptions = {}): NotFoundHandler<AppEnv> {
  return function routeNotFound(c) {
    const allowed = options.allowedMethods?.(c.req.path) ?? [];
    if (allowed.length > 0) {
      c.header('Allow', allowed.join(', '));
      const body: ErrorBody = {
        error: { code: 'method_not_allowed', message: `${c.req.method} is not allowed on ${c.req.path}; it answers ${allowed.join(', ')}` },
      };
      return c.json(body, 405);
    }
    const near = options.routesNear?.(c.req.path) ?? [];
    const body: ErrorBody = { error: { code: 'not_found', message: notFoundMessage(c.req.method, c.req.path, near) } };
    return c.json(body, 404);
  };
}
