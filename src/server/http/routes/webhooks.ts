import { Hono } from 'hono';
import type { Operations } from '../../../app/operations.js';
import type { AppEnv } from '../env.js';
import { limitBody } from '../middleware.js';

/** GitLab caps webhook payloads at 25 MB; a push of many commits comes close to it. */
const GITLAB_MAX_PAYLOAD = 25 * 1024 * 1024;

/**
 * `POST /webhooks/gitlab`: authenticated by `X-Gitlab-Token`, not by the API token, because
 * GitLab can only send its own secret. The delivery is on disk before the 2xx, and GitLab gets
 * its answer fast: routing happens after.
 */
export function webhookRoutes(operations: Operations): Hono<AppEnv> {
  return new Hono<AppEnv>().post('/gitlab', limitBody({ maxBytes: GITLAB_MAX_PAYLOAD }), async (c) => {
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
    const result = await operations.ingestGitLabWebhook({ headers, body: await c.req.text() });
    return c.json(result, result.duplicate ? 200 : 202);
  });
}
