import { CapabilityError, toError } from '../../core/errors.js';
import type { Json } from '../../core/model.js';
import type { Clock } from '../../core/ports.js';
import { declaredSize, type LimitedText, parseRetryAfter, readLimitedText } from '../http.js';
import { fetchFailure, requestDeadline } from '../fetch-failure.js';
import { GitLabError, GitLabUnavailableError, gitLabMessage } from './errors.js';

export type GitLabVerb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Scalar = string | number | boolean;
/** A parameter; an object is one level of Grape's nesting (`{ not: { labels: 'bug' } }` is sent as `not[labels]=bug`). */
export type QueryValue = Scalar | ReadonlyArray<Scalar> | Readonly<Record<string, Scalar | ReadonlyArray<Scalar>>>;
export type Query = Readonly<Record<string, QueryValue | undefined>>;

/** One GitLab REST call: `path` is relative to `/api/v4`, with its segments already encoded. */
export interface Route {
  method: GitLabVerb;
  path: string;
  query?: Query;
  body?: Json;
  /** The answer may be text (raw files, job logs): a 2xx that is not JSON is returned as a string. HTML never is. */
  text?: boolean;
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
  /** Whose time `timeoutMs` is: a test's virtual clock, on which its simulated GitLab answers. @default real time */
  clock?: Clock;
  /** Named in the message of a 401, so that the operator knows what to fix. @default 'AUTOFLOW_GITLAB_TOKEN' */
  tokenVariable?: string;
  /**
   * A larger answer fails the call (`gitlab_response_too_large`, not retried) and is never held whole:
   * it is refused on its Content-Length, or cut off as soon as it passes the limit. A page of a list
   * is one answer. @default 16 MiB (DEFAULT_MAX_RESPONSE_BYTES)
   */
  maxResponseBytes?: number;
}

/** The largest GitLab answer the client reads: far above a page of 100 issues, below what would strain the server. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

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
  send(method: GitLabVerb, url: URL, body: Json | undefined, now: number, options?: SendOptions): Promise<GitLabResponse>;
  /** The URL's path relative to `/api/v4` (`/projects/acme%2Fapp/issues`), segments still encoded. */
  apiPath(url: URL): string;
}

export interface SendOptions {
  /** See `Route.text`. @default false */
  text?: boolean | undefined;
  /** Ends the request early: the call that made it was given up (CapabilityContext.signal). */
  signal?: AbortSignal | undefined;
}

function appendParam(url: URL, key: string, value: Scalar | ReadonlyArray<Scalar>): void {
  // Grape reads `labels[]=a&labels[]=b` as a list; a comma-separated string means the same to GitLab.
  if (Array.isArray(value)) for (const item of value as ReadonlyArray<Scalar>) url.searchParams.append(`${key}[]`, String(item));
  else url.searchParams.set(key, String(value));
}

function appendQuery(url: URL, query: Query): void {
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value as Readonly<Record<string, Scalar | ReadonlyArray<Scalar>>>))
        appendParam(url, `${key}[${inner}]`, innerValue);
    } else appendParam(url, key, value as Scalar | ReadonlyArray<Scalar>);
  }
}

/** A body as GitLab sent it: JSON when it says so, else text; `broken` when it says JSON but the JSON does not parse. */
function parseBody(text: string, contentType: string): { body: Json } | { broken: Error } {
  if (text === '') return { body: null };
  if (!/\bjson\b/i.test(contentType)) return { body: text };
  try {
    return { body: JSON.parse(text) as Json };
  } catch (caught) {
    return { broken: toError(caught) };
  }
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
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const base = new URL(options.baseUrl);
  // `https://gitlab.example.com/api/v4/` is the API's address, often given for the instance's.
  const apiRoot = `${base.pathname.replace(/\/+$/, '').replace(/\/api\/v4$/i, '')}/api/v4/`;

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

    async send(method, url, body, now, sendOptions = {}) {
      const request = `${method} ${apiPath(url)}${url.search}`;
      // Messages about the connection name the whole URL: a wrong --gitlab-url shows there.
      const where = `${method} ${url.href}`;
      const headers: Record<string, string> = {
        authorization: `Bearer ${options.token}`,
        'user-agent': 'AutoFlow',
        accept: 'application/json',
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      let read: LimitedText;
      const deadline = requestDeadline(timeoutMs, sendOptions.signal, options.clock);
      try {
        response = await doFetch(url, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          // GitLab's API does not redirect: a 3xx means a wrong base URL or a sign-in proxy. Following it would
          // turn a POST into a GET and, within one origin, carry the token along.
          redirect: 'manual',
          signal: deadline.signal,
        });
        read = await readLimitedText(response, maxResponseBytes);
      } catch (caught) {
        const failure = fetchFailure(caught);
        const { error } = failure;
        if (failure.blockedPort) {
          throw new CapabilityError(
            'gitlab_blocked_port',
            `${where} was not sent: fetch refuses port ${url.port} (one of the ports it blocks for safety); the GitLab URL (${options.baseUrl}, from --gitlab-url or AUTOFLOW_GITLAB_URL) must be GitLab's address, on a port such as 443, 80 or 8080`,
            { retryable: false, details: { request, url: url.href }, cause: error },
          );
        }
        const message = failure.timedOut
          ? `GitLab did not answer ${where} within ${timeoutMs} ms`
          : `${where} failed before GitLab answered: ${failure.description}`;
        throw new GitLabUnavailableError(message, { request }, { cause: error });
      } finally {
        deadline.clear();
      }
      const { status } = response;
      if ('tooLarge' in read) {
        throw new CapabilityError(
          'gitlab_response_too_large',
          `GitLab's answer to ${request} is larger than ${maxResponseBytes} bytes${declaredSize(read)}, the gitlab capability's limit (maxResponseBytes); it was not read: ask for less (a smaller perPage, a narrower query)`,
          { retryable: false, details: { status, request, maxBytes: maxResponseBytes } },
        );
      }
      const { text } = read;
      const contentType = response.headers.get('content-type') ?? '';
      const parsed = parseBody(text, contentType);
      const ok = status >= 200 && status < 300;
      if (ok && 'broken' in parsed) {
        // A body cut off on the way: a connection that broke, which another attempt can cure.
        throw new GitLabUnavailableError(
          `GitLab's answer to ${where} is cut off or broken JSON (${parsed.broken.message}; ${text.length} characters of ${contentType})`,
          { status, request },
          { cause: parsed.broken },
        );
      }
      const responseBody = 'broken' in parsed ? text : parsed.body;
      if (ok) {
        // A sign-in page or a proxy's answer is not GitLab's: returned, it would reach the workflow as a string.
        if (typeof responseBody === 'string' && (!sendOptions.text || /html/i.test(contentType))) {
          throw new GitLabError(
            `GitLab answered with ${contentType === '' ? 'no content type' : contentType} instead of JSON from ${where}: the GitLab URL (${options.baseUrl}, from --gitlab-url or AUTOFLOW_GITLAB_URL) must be GitLab's own address, not a proxy's or a sign-in page's`,
            { status, request, body: text.slice(0, 500) },
          );
        }
        return { status, headers: response.headers, body: responseBody };
      }
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
