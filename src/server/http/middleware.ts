import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { UnauthorizedError } from '../../core/errors.js';
import type { Logger } from '../../core/ports.js';
import type { AppEnv } from './env.js';
import { HttpError } from './errors.js';

/** Paths of liveness and readiness probes and of the metrics scraper: logged at debug level. */
const PROBES = new Set(['/livez', '/healthz', '/readyz', '/metrics']);

/** One structured line per request, after it finished (so that it carries status and duration). */
export function requestLogger(options: { logger: Logger }): MiddlewareHandler<AppEnv> {
  return async function logRequest(c, next) {
    const started = performance.now();
    await next();
    const data = {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    // Probes and scrapers hit these every few seconds; at info level they would drown the useful lines.
    if (PROBES.has(c.req.path)) options.logger.debug(data, 'request');
    else options.logger.info(data, 'request');
  };
}

/** Requires `Authorization: Bearer <token>` and asks `authenticate` whether the token is valid. */
export function bearerToken(options: { authenticate: (token: string) => Promise<boolean> }): MiddlewareHandler<AppEnv> {
  return async function requireToken(c, next) {
    const header = c.req.header('authorization');
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
    if (!match?.[1]) throw new UnauthorizedError('this route needs an API token: send the header "Authorization: Bearer <token>"');
    if (!(await options.authenticate(match[1]))) {
      throw new UnauthorizedError(
        'the API token is not valid; use the token `autoflow server` printed on its first start, or AUTOFLOW_API_TOKEN',
      );
    }
    await next();
  };
}

/** Refuses bodies over `maxBytes` with 413 before anything reads them into memory. */
export function limitBody(options: { maxBytes: number }): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: options.maxBytes,
    onError: () => {
      throw new HttpError(413, 'payload_too_large', `request body is larger than the limit of ${options.maxBytes} bytes`);
    },
  });
}
