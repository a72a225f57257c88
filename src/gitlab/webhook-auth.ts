import { createHash, timingSafeEqual } from 'node:crypto';
import { gitLabPathMatches } from '../core/glob.js';
import type { Json } from '../core/model.js';
import { isObject } from './payload.js';
import { baseUrl, namedPaths, type NamedPath } from './webhook-location.js';

/** A GitLab instance (or group of hooks) allowed to post webhooks, recognised by its secret token. */
export type WebhookSource = {
  /** Names the source in dedupe keys and logs; never the secret. */
  name: string;
  /** The "Secret token" set on the GitLab webhook; GitLab sends it as `X-Gitlab-Token`. */
  secret: string;
  /**
   * Base URL of the GitLab instance (`https://gitlab.example.com`, with a path if GitLab runs under
   * a relative URL root). Used as the CloudEvent `source` prefix; when absent the
   * `X-Gitlab-Instance` header, then the payload's URLs, are used.
   */
  instanceUrl?: string;
  /**
   * The projects and groups (paths, `*` globs, as `permissions.gitlab.projects`) its webhooks may be about: a
   * delivery about another is refused, so that a team holding one source's secret cannot pass events off as
   * another team's project. Absent: any.
   */
  projects?: readonly string[];
  /** The built-in simulator's own source: it receives the simulator's webhooks, never an outside GitLab's. */
  builtIn?: boolean;
};

/**
 * Why a webhook was refused (no source matched its `X-Gitlab-Token`), saying what to fix: with
 * no source but the simulator's, an outside GitLab's webhook cannot be accepted at all.
 */
export function webhookRefusal(sources: readonly WebhookSource[]): string {
  if (sources.every((source) => source.builtIn)) {
    const only = sources.length === 0 ? '' : " (only the built-in simulator's, with a secret of its own)";
    return `no GitLab webhook source is configured${only}: set AUTOFLOW_GITLAB_WEBHOOK_SECRET and use it as the webhook secret token in GitLab`;
  }
  return 'the X-Gitlab-Token header does not match any configured webhook secret; check the secret token of the webhook in GitLab';
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The source whose secret equals the `X-Gitlab-Token` header, or undefined (missing or wrong token).
 *
 * Both sides are hashed to 32 bytes before `timingSafeEqual`, so the comparison takes the same time
 * whatever the token's length, and every source is compared (no exit at the first match), so the
 * time taken does not tell which source — or whether any — matched. A source with an empty secret
 * never matches: an empty secret would let any request without a token in. When two sources share
 * a secret, the first one listed wins.
 *
 * @example
 * const source = matchWebhookSource(config.gitlab.webhooks, headers['x-gitlab-token']);
 * if (!source) throw new UnauthorizedError('…');
 */
export function matchWebhookSource(sources: readonly WebhookSource[], tokenHeader: string | undefined): WebhookSource | undefined {
  // Whether a token was sent at all is no secret, so answering at once leaks nothing.
  if (tokenHeader === undefined || tokenHeader === '') return undefined;
  const given = digest(tokenHeader);
  let match: WebhookSource | undefined;
  for (const source of sources) {
    const equal = timingSafeEqual(given, digest(source.secret));
    if (equal && source.secret !== '' && match === undefined) match = source;
  }
  return match;
}

/** Whether `named` is about a project or group `projects` lists: a path exactly, a URL by the path it starts with. */
function inScope(projects: readonly string[], kind: NamedPath['kind'], path: string): boolean {
  const candidates = kind === 'path' ? [path] : path.split('/').map((_, index, segments) => segments.slice(0, index + 1).join('/'));
  return candidates.some((path) => projects.some((glob) => gitLabPathMatches(glob, path)));
}

/**
 * Why `source` may not deliver the hook `payload`, or undefined when it may. With `projects`, every field that names a
 * project or group by path or URL (`namedPaths`) must name one of them: a workflow may filter on any of them, and a
 * payload that says `team-a/app` in one field and `team-b/app` in another would pass for team-b's where a filter reads
 * the second. A hook that names no project or group (a system hook) is refused too: it could be about anything.
 * Numeric ids cannot be checked without asking GitLab; workflows tell sources apart by the event's `webhooksource`.
 */
export function webhookScopeProblem(source: WebhookSource, payload: Json | undefined): string | undefined {
  const { projects } = source;
  if (projects === undefined) return undefined;
  const scope = `webhook source '${source.name}' may deliver events about ${projects.join(', ')} only`;
  const named = isObject(payload) ? namedPaths(payload, baseUrl(source.instanceUrl)) : [];
  if (named.length === 0) return `${scope}, and this delivery names no project or group`;
  const unreadable = named.find((found) => found.path === undefined);
  if (unreadable !== undefined) {
    return `${scope}, and this delivery's ${unreadable.field} does not name a project or group as GitLab writes one (an http(s) or git URL, without '.' or '..' segments or encoded separators)`;
  }
  const outside = named.find((found) => !inScope(projects, found.kind, found.path ?? ''));
  if (outside === undefined) return undefined;
  return `${scope}, and this delivery's ${outside.field} names ${outside.path}: add the project to the source's projects in autoflow.config.ts, or give its hook the secret of its own source`;
}
