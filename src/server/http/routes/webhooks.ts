import { Hono, type MiddlewareHandler } from 'hono';
import type { Operations } from '../../../app/operations.js';
import type { Logger } from '../../../core/ports.js';
import type { AppEnv } from '../env.js';
import { limitBody } from '../middleware.js';

/** GitLab caps webhook payloads at 25 MB; a push of many commits comes close to it. */
const GITLAB_MAX_PAYLOAD = 25 * 1024 * 1024;

function headersOf(request: Request): Record<string, string> {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
  return headers;
}

/**
 * The token before the body: a sender without the right `X-Gitlab-Token` gets its 401 before any of
 * its body (up to 25 MB) is read, and before it learns the size limit.
 */
function tokenFirst(operations: Operations): MiddlewareHandler<AppEnv> {
  return async function checkWebhookToken(c, next) {
    operations.webhookSourceOf(headersOf(c.req.raw));
    await next();
  };
}

/**
 * `POST /webhooks/gitlab`: authenticated by `X-Gitlab-Token`, not by the API token, because
 * GitLab can only send its own secret. The delivery is on disk before the 2xx, and GitLab gets
 * its answer fast: routing happens after.
 */
export function webhookRoutes(operations: Operations, logger?: Logger): Hono<AppEnv> {
  return new Hono<AppEnv>().post('/gitlab', tokenFirst(operations), limitBody({ maxBytes: GITLAB_MAX_PAYLOAD }), async (c) => {
    const headers = headersOf(c.req.raw);
    const { bodyDiffers, ...result } = await operations.ingestGitLabWebhook({ headers, body: await c.req.text() });
    if (bodyDiffers) {
      // The new body is dropped: a proxy that reuses keys, or a collision, would lose events without a trace.
      logger?.warn(
        { seq: result.seq, type: result.type, idempotencyKey: headers['idempotency-key'], eventUuid: headers['x-gitlab-event-uuid'] },
        `a GitLab webhook came again under the key of stored event ${result.seq} (${result.type}) with another body; the stored one is kept and the new body dropped: check that whatever sets Idempotency-Key or X-Gitlab-Event-UUID gives each delivery its own`,
      );
    }
    return c.json(result, result.duplicate ? 200 : 202);
  });
}
