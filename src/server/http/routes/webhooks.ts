import { Hono, type MiddlewareHandler } from 'hono';
import type { Operations } from '../../../app/operations.js';
import { UnauthorizedError, ValidationError } from '../../../core/errors.js';
import { IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_KEY_RULE } from '../../../core/idempotency-key.js';
import type { Json } from '../../../core/model.js';
import type { Logger } from '../../../core/ports.js';
import { isObject } from '../../../gitlab/payload.js';
import { baseUrl, locateHook, type HookLocation } from '../../../gitlab/webhook-location.js';
import type { AppEnv } from '../env.js';
import { readText } from '../input.js';
import { limitBody } from '../middleware.js';

/** GitLab caps webhook payloads at 25 MB; a push of many commits comes close to it. */
const GITLAB_MAX_PAYLOAD = 25 * 1024 * 1024;

/**
 * The largest body of a refused delivery read to name its project in the warning: enough for most issue, merge request
 * and comment hooks, and all a sender without the secret can make the server hold.
 */
const REFUSED_BODY_READ = 64 * 1024;

function headersOf(request: Request): Record<string, string> {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
  return headers;
}

/**
 * The instance and project a refused delivery names: `X-Gitlab-Instance`, and its payload's project or group when the
 * body says (by its Content-Length, to which Node's HTTP parser holds it) that it is small, and parses. A body without a
 * length, or a larger one, is not read.
 */
async function locationOf(request: Request, headers: Readonly<Record<string, string>>): Promise<HookLocation> {
  const instance = baseUrl(headers['x-gitlab-instance']);
  const fromHeader = instance === undefined ? {} : { instance };
  if (!(Number(headers['content-length']) <= REFUSED_BODY_READ)) return fromHeader;
  let payload: Json;
  try {
    payload = JSON.parse(await request.text()) as Json;
  } catch {
    return fromHeader;
  }
  return isObject(payload) ? locateHook(payload, instance) : fromHeader;
}

/**
 * Warns of a delivery refused for its token. The access line says only `status 401`, while the cause is usually a
 * secret rotated on one side and not the other, so the warning says which hook and what to compare. The token received
 * is never shown: it may be a secret that belongs elsewhere.
 */
async function warnRefused(request: Request, headers: Readonly<Record<string, string>>, logger: Logger): Promise<void> {
  const token = headers['x-gitlab-token'];
  const reason =
    token === undefined || token === ''
      ? 'it has no X-Gitlab-Token header (the hook has no Secret token)'
      : "no webhook source's secret matches its X-Gitlab-Token (a wrong secret, or one changed on one side only)";
  const kind = headers['x-gitlab-event'] ?? 'no X-Gitlab-Event header';
  const { instance, path } = await locationOf(request, headers);
  const about = `${path === undefined ? '' : ` about ${path}`}${instance === undefined ? '' : ` at ${instance}`}`;
  logger.warn(
    { gitlabEvent: kind, instance, project: path, eventUuid: headers['x-gitlab-event-uuid'], idempotencyKey: headers['idempotency-key'] },
    `refused a GitLab webhook (${kind}${about}) with 401: ${reason}; check that the hook's Secret token in GitLab ` +
      'equals AUTOFLOW_GITLAB_WEBHOOK_SECRET or the secret of one of webhookSources in autoflow.config.ts',
  );
}

/**
 * The token before the body: a sender without the right `X-Gitlab-Token` gets its 401 before its body (up to 25 MB) is
 * read, but for the `REFUSED_BODY_READ` bytes at most that its warning reads, and before it learns the size limit.
 */
function tokenFirst(operations: Operations, logger: Logger | undefined): MiddlewareHandler<AppEnv> {
  return async function checkWebhookToken(c, next) {
    const headers = headersOf(c.req.raw);
    try {
      operations.webhookSourceOf(headers);
    } catch (error) {
      if (error instanceof UnauthorizedError && logger) await warnRefused(c.req.raw, headers, logger);
      throw error;
    }
    await next();
  };
}

/**
 * An `Idempotency-Key` becomes the stored event's id, so it is held to what the signals route takes: visible ASCII. A
 * control character would make ids that de-duplicate by accident, as `POST /api/v1/events` refuses; and Node reads a
 * header's bytes as Latin-1, so a UTF-8 key (`café`) would be stored garbled. An empty one is no key (webhook-event.ts).
 */
function requireUsableKey(key: string | undefined): void {
  if (key === undefined || key === '' || IDEMPOTENCY_KEY_PATTERN.test(key)) return;
  throw new ValidationError('Idempotency-Key is invalid', [`Idempotency-Key: ${IDEMPOTENCY_KEY_RULE}`]);
}

/**
 * `POST /webhooks/gitlab`: authenticated by `X-Gitlab-Token`, not by the API token, because
 * GitLab can only send its own secret. The delivery is on disk before the 2xx, and GitLab gets
 * its answer fast: routing happens after.
 */
export function webhookRoutes(operations: Operations, logger?: Logger): Hono<AppEnv> {
  return new Hono<AppEnv>().post('/gitlab', tokenFirst(operations, logger), limitBody({ maxBytes: GITLAB_MAX_PAYLOAD }), async (c) => {
    const headers = headersOf(c.req.raw);
    requireUsableKey(headers['idempotency-key']);
    const { bodyDiffers, ...result } = await operations.ingestGitLabWebhook({ headers, body: await readText(c) });
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
