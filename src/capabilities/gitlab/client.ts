import { CapabilityError, toError } from '../../core/errors.js';
import type { Json } from '../../core/model.js';
import { parseRetryAfter } from '../http.js';
import { GitLabError, GitLabUnavailableError, gitLabMessage } from './errors.js';

export type GitLabVerb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type QueryValue = string | number | boolean | ReadonlyArray<string | number | boolean>;
export type Query = Readonly<Record<string, QueryValue | undefined>>;

/** One GitLab REST call: `path` is relative to `/api/v4`, with its segments already encoded. */
export interface Route {
  method: GitLabVerb;
  path: string;
  query?: Query;
  body?: Json;
}

export interface GitLabResponse {
  status: number;
  headers: Headers;
  body: Json;
}

export interface GitLabClientOptions {
  /** The GitLab instance, e.g. `https://gitlab.example.com` (a sub-path install keeps its path). */
  baseUrl: string;
  /** A personal, project, group or OAuth access token with the `api` scope (read-only workflows: `read_api`). */
  token: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Per request; a page of a paginated list is one request. @default 30000 */
  timeoutMs?: number;
  /** Named in the message of a 401, so that the operator knows what to fix. @default 'AUTOFLOW_GITLAB_TOKEN' */
  tokenVariable?: string;
}

/**
 * A thin GitLab REST client on `fetch`: one request per `send`, never a retry, never a wait —
 * the engine owns retries and backoff (`retryable`, `retryAfterMs`), and a client that retried
 * on its own would multiply attempts and hide what happened from the run's history.
 */
export interface GitLabClient {
  /**
   * The URL a route resolves to, after `..` and `%2e%2e` segments are normalised: permissions are
   * checked on this URL, which is exactly what `send` requests. Throws when it leaves `/api/v4`.
   */
  urlOf(route: Route): URL;
  /** Throws GitLabError (4xx, redirects) or GitLabUnavailableError (429, 5xx, timeouts, resets). */
  send(method: GitLabVerb, url: URL, body: Json | undefined, now: number): Promise<GitLabResponse>;
  /** The URL's path relative to `/api/v4` (`/projects/acme%2Fapp/issues`), segments still encoded. */
  apiPath(url: URL): string;
}

function appendQuery(url: URL, query: Query): void {
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    // Grape reads `labels[]=a&labels[]=b` as a list; a comma-separated string means the same to GitLab.
    if (Array.isArray(value))
      for (const item of value as ReadonlyArray<string | number | boolean>) url.searchParams.append(`${key}[]`, String(item));
    else url.searchParams.set(key, String(value));
  }
}

async function readBody(response: Response): Promise<Json> {
  const text = await response.text();
  if (text === '') return null;
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      return JSON.parse(text) as Json;
    } catch {
      return text;
    }
  }
  return text;
}

/** GitLab sends `RateLimit-Reset` as Unix seconds on its throttled answers, sometimes without `Retry-After`. */
function rateLimitResetMs(headers: Headers, now: number): number | undefined {
  const reset = Number(headers.get('ratelimit-reset') ?? NaN);
  return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : undefined;
}

const HINTS: Record<number, string> = {
  403: "the token's user may not do this (role too low), or the token lacks the `api` scope",
  404: "it does not exist, or the token's user cannot see it",
};

export function createGitLabClient(options: GitLabClientOptions): GitLabClient {
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const tokenVariable = options.tokenVariable ?? 'AUTOFLOW_GITLAB_TOKEN';
  const base = new URL(options.baseUrl);
  const apiRoot = `${base.pathname.replace(/\/+$/, '')}/api/v4/`;

  const apiPath = (url: URL): string => url.pathname.slice(apiRoot.length - 1);

  return {
    apiPath,

    urlOf(route) {
      const url = new URL(`${base.origin}${apiRoot}${route.path.replace(/^\/+/, '')}`);
      if (url.origin !== base.origin || !url.pathname.startsWith(apiRoot)) {
        throw new CapabilityError('invalid_path', `GitLab path '${route.path}' leaves /api/v4; give a path such as /projects/42/issues`, {
          retryable: false,
        });
      }
      if (route.query) appendQuery(url, route.query);
      return url;
    },

    async send(method, url, body, now) {
      const request = `${method} ${apiPath(url)}${url.search}`;
      const headers: Record<string, string> = {
        authorization: `Bearer ${options.token}`,
        'user-agent': 'AutoFlow',
        accept: 'application/json',
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await doFetch(url, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          // GitLab's API does not redirect: a 3xx means a wrong base URL or a sign-in proxy. Following it would
          // turn a POST into a GET and, within one origin, carry the token along.
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (caught) {
        const error = toError(caught);
        const reason = error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
        const message =
          error.name === 'TimeoutError'
            ? `GitLab did not answer ${request} within ${timeoutMs} ms`
            : `${request} failed before GitLab answered: ${reason}`;
        throw new GitLabUnavailableError(message, { request }, { cause: error });
      }
      const responseBody = await readBody(response);
      const { status } = response;
      if (status >= 200 && status < 300) return { status, headers: response.headers, body: responseBody };
      if (status === 429 || status === 408 || status >= 500) {
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now) ?? rateLimitResetMs(response.headers, now);
        const why = status === 429 ? 'rate limit reached' : (gitLabMessage(responseBody) ?? 'unavailable');
        throw new GitLabUnavailableError(
          `GitLab answered ${status} to ${request}: ${why}`,
          { status, request },
          retryAfterMs === undefined ? {} : { retryAfterMs },
        );
      }
      const details = { status, request, body: responseBody };
      if (status === 401) {
        throw new GitLabError(
          `GitLab rejected the token (401) for ${request}: it is wrong, expired or revoked; set a valid token with the api scope in ${tokenVariable}`,
          details,
        );
      }
      if (status >= 300 && status < 400) {
        const location = response.headers.get('location') ?? 'nowhere';
        throw new GitLabError(`GitLab redirected ${request} to ${location}: check the GitLab base URL (${options.baseUrl})`, details);
      }
      const said = gitLabMessage(responseBody) ?? `HTTP ${status}`;
      const hint = HINTS[status];
      throw new GitLabError(`GitLab answered ${status} to ${request}: ${said}${hint ? ` (${hint})` : ''}`, details);
    },
  };
}
