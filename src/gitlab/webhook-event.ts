import { createHash } from 'node:crypto';
import { toError, ValidationError } from '../core/errors.js';
import type { CloudEvent, Json, JsonObject } from '../core/model.js';
import { isObject, isoTime, text } from './payload.js';
import type { WebhookSource } from './webhook-auth.js';
import { resolveHook } from './webhook-kinds.js';
import { baseUrl, locateHook, type HookLocation } from './webhook-location.js';

export interface GitLabWebhookInput {
  /** The request's headers, names in lower case (`x-gitlab-event`, `idempotency-key`…). */
  headers: Readonly<Record<string, string | undefined>>;
  /** The raw request body. Its size is the route's to limit. */
  body: string;
  /** The source `matchWebhookSource` recognised the request as. */
  source: WebhookSource;
  /** When the request arrived (epoch ms): the event's time when the payload has none. */
  receivedAt: number;
}

export interface NormalizedGitLabWebhook {
  event: CloudEvent;
  /** The project's path with namespace, or the group's, that the hook is about, when it names one. */
  path?: string;
  /** `gitlab:<source name>:<event id>`: a redelivery of the same hook gets the same key. */
  dedupeKey: string;
}

function header(headers: GitLabWebhookInput['headers'], name: string): string | undefined {
  const value = headers[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function parseBody(body: string): JsonObject {
  let value: Json;
  try {
    value = JSON.parse(body) as Json;
  } catch (error) {
    // The parser's message names the position of the fault, which is what a sender needs to fix it.
    throw new ValidationError('GitLab webhook body is not valid JSON (GitLab always posts a JSON object)', [toError(error).message]);
  }
  if (!isObject(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new ValidationError(`GitLab webhook body must be a JSON object, got ${kind}; check that the request comes from a GitLab webhook`);
  }
  return value;
}

/** `<instance>/<path>`; without a known instance, a URN naming the configured source stands in for it. */
function sourceOf(where: HookLocation, sourceName: string): string {
  const instance = where.instance ?? `urn:autoflow:gitlab:${encodeURIComponent(sourceName)}`;
  return where.path === undefined ? instance : `${instance}/${where.path}`;
}

/**
 * Turns a GitLab webhook request (already authenticated) into the CloudEvent AutoFlow stores.
 *
 * - `type`: `com.gitlab.events.<object>_<verb>` (see docs/gitlab-events.md for every hook);
 *   unknown hooks keep their payload under a type named after their `object_kind`, `event_name` or
 *   `X-Gitlab-Event` header.
 * - `source`: the instance URL (configured, else `X-Gitlab-Instance`, else from the payload's URLs)
 *   and the project or group path.
 * - `subject`: the object's reference (`acme/app#42`, `acme/app!7`, `acme/app/-/pipelines/123`).
 * - `id`: the `Idempotency-Key` header, else `X-Gitlab-Event-UUID` with the sha256 of the body, else that sha256.
 * - `time`: the payload's own time of the change when it has one, else `receivedAt`.
 * - `webhooksource` (an extension attribute): the name of the configured source whose secret the request carried.
 * - `data`: the payload as GitLab sent it.
 *
 * Only a body that is not a JSON object is rejected (ValidationError); any field may be missing or
 * null, as in payloads of other GitLab releases.
 *
 * @example
 * const { event, dedupeKey } = normalizeGitLabWebhook({ headers, body, source, receivedAt: Date.now() });
 */
export function normalizeGitLabWebhook(input: GitLabWebhookInput): NormalizedGitLabWebhook {
  const payload = parseBody(input.body);
  const hook = resolveHook(payload, header(input.headers, 'x-gitlab-event'));
  const where = locateHook(payload, baseUrl(input.source.instanceUrl) ?? baseUrl(header(input.headers, 'x-gitlab-instance')));
  const bodyHash = createHash('sha256').update(input.body, 'utf8').digest('hex');
  // GitLab gives every hook that one request fires the same X-Gitlab-Event-UUID (the Issue Hook and the Note Hook of a
  // comment with /close): alone it would merge distinct events. With the body it still names one delivery's retries.
  const uuid = header(input.headers, 'x-gitlab-event-uuid');
  const id = header(input.headers, 'idempotency-key') ?? (uuid === undefined ? bodyHash : `${uuid}:${bodyHash.slice(0, 16)}`);
  const subject = hook.subject(payload, where);
  const time = hook.time.map((path) => isoTime(text(payload, path))).find((found) => found !== undefined);
  const event: CloudEvent & { webhooksource: string } = {
    specversion: '1.0',
    id,
    source: sourceOf(where, input.source.name),
    type: hook.type,
    ...(subject === undefined ? {} : { subject }),
    time: time ?? new Date(input.receivedAt).toISOString(),
    datacontenttype: 'application/json',
    // Which configured source's secret let it in: the one thing about a webhook its sender cannot choose, so that with
    // several sources a team's workflows can take only events their own source delivered (numeric ids are unchecked).
    webhooksource: input.source.name,
    data: payload,
  };
  return { event, dedupeKey: `gitlab:${input.source.name}:${id}`, ...(where.path === undefined ? {} : { path: where.path }) };
}
