import { z } from 'zod';
import { CapabilityError, PermissionDeniedError, toError } from '../core/errors.js';
import type { Json } from '../core/model.js';
import type { Capability, CapabilityContext } from '../core/ports.js';
import { parseArgs } from './args.js';
import { type FetchFailure, fetchFailure, withTimeout } from './fetch-failure.js';

const requestSchema = z.object({
  url: z.string().min(1),
  method: z
    .string()
    .regex(/^[A-Za-z]+$/)
    .optional(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
  /** @default HTTP_TIMEOUT_MS */
  timeoutMs: z.number().int().positive().max(600_000).optional(),
});

/** How long a request waits for its answer unless it says otherwise (`timeoutMs`). */
export const HTTP_TIMEOUT_MS = 30_000;
/** The largest answer a request reads (10 MiB): it is recorded in the run's history, which is served back whole. */
export const HTTP_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** A 4xx answer: the request itself is wrong, so it is not retried. Workflows match it by name. */
export class HttpError extends CapabilityError {
  constructor(status: number, url: string, body: Json) {
    super('http_error', `HTTP ${status} from ${url}`, { retryable: false, details: { status, body } });
  }
}

/**
 * The failure an answer's status stands for, before its body is read: a 429 or 5xx is the service unable to answer now,
 * retried (no sooner than its `Retry-After`, read against `now`); undefined for other statuses. Shared with the mocked
 * `http` of autoflow/testing, so that a mocked answer fails as a real one does.
 */
export function unavailableError(status: number, url: string, retryAfter: string | null, now: number): CapabilityError | undefined {
  if (status !== 429 && status < 500) return undefined;
  const retryAfterMs = parseRetryAfter(retryAfter, now);
  return new CapabilityError('http_unavailable', `HTTP ${status} from ${url}`, {
    retryable: true,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    details: { status },
  });
}

export interface HttpCapabilityOptions {
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default HTTP_TIMEOUT_MS */
  defaultTimeoutMs?: number;
  /** Larger responses fail the call. @default HTTP_MAX_RESPONSE_BYTES */
  maxResponseBytes?: number;
}

/**
 * What a server may read, after the granted prefix, as a way out of it: an encoded `/`, `\` or `.`
 * (`..%2fadmin`, `%2e%2e/`), and `;` (`..;/admin` is `../admin` to Tomcat and the proxies in front of it).
 */
const SMUGGLED = /%2f|%5c|%2e|;/i;

/** Whether a prefix grants the URL; when one would but for what follows it, that prefix and what was found. */
export type UrlGrant = { granted: true } | { granted: false; prefix?: string; found?: string };

/**
 * A prefix grants a URL only on a path boundary: `https://api.example.com/v1` grants
 * `…/v1/x` and `…/v1?q`, not `…/v1x`, and never another host that merely starts the same way.
 * The path after the prefix may not hold `%2F`, `%5C`, `%2E` (any case) or `;` (SMUGGLED); the
 * query may.
 */
export function urlGrant(url: URL, prefixes: readonly string[] | undefined): UrlGrant {
  let refused: UrlGrant = { granted: false };
  for (const raw of prefixes ?? []) {
    let prefix: string;
    try {
      prefix = new URL(raw).href;
    } catch {
      continue;
    }
    if (!url.href.startsWith(prefix)) continue;
    const rest = url.href.slice(prefix.length);
    if (!(prefix.endsWith('/') || rest === '' || '/?#'.includes(rest.charAt(0)))) continue;
    // A prefix with a query or fragment leaves no path after it.
    const path = /[?#]/.test(prefix) ? '' : rest.replace(/[?#].*$/s, '');
    const found = SMUGGLED.exec(path)?.[0];
    if (found === undefined) return { granted: true };
    refused = { granted: false, prefix, found };
  }
  return refused;
}

/** Whether a prefix grants the URL (see urlGrant). */
export function urlAllowed(url: URL, prefixes: readonly string[] | undefined): boolean {
  return urlGrant(url, prefixes).granted;
}

/** Seconds or an HTTP date, as RFC 9110 allows. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A body read up to a limit: its text, or `tooLarge` when it has more bytes than the limit. */
export type LimitedText = { text: string } | { tooLarge: true; declaredBytes?: number };

/** What a too-large answer's message adds: the size it declared, when it did. */
export function declaredSize(read: { declaredBytes?: number }): string {
  return read.declaredBytes === undefined ? '' : ` (its Content-Length is ${read.declaredBytes})`;
}

/**
 * Reads a body as UTF-8 text, never holding more than `limit` bytes of it: a `Content-Length` over
 * the limit is refused before any of the body is read, and a body without one (or that sends more
 * than it declared) is read as a stream and cancelled — which aborts the request — as soon as it
 * passes the limit.
 */
export async function readLimitedText(response: Response, limit: number): Promise<LimitedText> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    return { tooLarge: true, declaredBytes: declared };
  }
  if (response.body === null) return { text: '' };
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return { tooLarge: true };
    }
    chunks.push(value);
  }
  return { text: new TextDecoder().decode(Buffer.concat(chunks, size)) };
}

function parseBody(text: string, contentType: string): Json {
  if (contentType.includes('json') && text !== '') {
    try {
      return JSON.parse(text) as Json;
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * A connection that failed or broke off: retryable, saying why (the mocked `http` of autoflow/testing times out with it too). A timeout has a code of its own,
 * `timeout` (with `details.timeoutMs`), so that a workflow can tell a slow service from an unreachable one.
 */
export function networkError(url: URL, failure: FetchFailure, timeoutMs: number, timedOut: string): CapabilityError {
  if (failure.timedOut) {
    return new CapabilityError('timeout', `request to ${url.href} failed: ${timedOut}`, {
      retryable: true,
      cause: failure.error,
      details: { timeoutMs },
    });
  }
  return new CapabilityError('network_error', `request to ${url.href} failed: ${failure.description}`, {
    retryable: true,
    cause: failure.error,
  });
}

type HttpRequest = z.infer<typeof requestSchema>;

/**
 * What `http` checks before anything is sent: the method, the arguments and the URL against `permissions.http`.
 * Throws what the workflow gets; a mocked `http` runs it too (autoflow/testing), so that a test fails where production
 * would.
 */
export function checkHttpRequest(method: string, args: Json, context: CapabilityContext): { request: HttpRequest; url: URL } {
  if (method !== 'request') {
    throw new CapabilityError('unknown_method', `http has no method '${method}'; use http.request`, { retryable: false });
  }
  const request = parseArgs(requestSchema, args, 'http.request');
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw new CapabilityError('invalid_url', `'${request.url}' is not an absolute URL`, { retryable: false });
  }
  const grant = urlGrant(url, context.permissions.http);
  if (!grant.granted && grant.found !== undefined) {
    throw new PermissionDeniedError(
      `workflow '${context.workflow}' may not reach ${url.href}: its path after the granted prefix ${grant.prefix} holds '${grant.found}' (an encoded '/', '\\' or '.', or a ';'), which a server may decode into a path outside the prefix; write the path's '/' and '.' unencoded and leave ';' out, or add to permissions.http a prefix that already includes that part`,
      { url: url.href, prefix: grant.prefix ?? '', found: grant.found },
    );
  }
  if (!grant.granted) {
    throw new PermissionDeniedError(`workflow '${context.workflow}' may not reach ${url.href}: add a prefix of it to permissions.http`, {
      url: url.href,
    });
  }
  return { request, url };
}

/**
 * The request's headers; a name or value HTTP cannot carry (a character beyond Latin-1, U+0000, a line break) fails
 * the call for good, naming the header: fetch refused it with a TypeError, which was retried for minutes.
 */
function requestHeaders(given: Record<string, string> | undefined): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(given ?? {})) {
    try {
      headers.append(name, value);
    } catch (caught) {
      throw new CapabilityError(
        'invalid_header',
        `http.request: header '${name}' cannot be sent (${toError(caught).message}): header names are tokens, and values Latin-1 text without NUL or line breaks; encode other text (encodeURIComponent), or send it in the body`,
        { retryable: false },
      );
    }
  }
  return headers;
}

/** `http.request` for workflows: only to granted URL prefixes, with the call's idempotency key. */
export function createHttpCapability(options: HttpCapabilityOptions = {}): Capability {
  const doFetch = options.fetch ?? globalThis.fetch;
  const limit = options.maxResponseBytes ?? HTTP_MAX_RESPONSE_BYTES;
  return {
    name: 'http',
    async invoke(method: string, args: Json, context: CapabilityContext): Promise<Json> {
      const { request, url } = checkHttpRequest(method, args, context);
      const headers = requestHeaders(request.headers);
      headers.set('idempotency-key', context.idempotencyKey);
      if (!headers.has('user-agent')) headers.set('user-agent', 'AutoFlow');
      let body: string | undefined;
      if (request.body !== undefined && request.body !== null) {
        if (typeof request.body === 'string') body = request.body;
        else {
          body = JSON.stringify(request.body);
          if (!headers.has('content-type')) headers.set('content-type', 'application/json');
        }
      }
      const timeoutMs = request.timeoutMs ?? options.defaultTimeoutMs ?? HTTP_TIMEOUT_MS;
      let response: Response;
      try {
        response = await doFetch(url, {
          method: (request.method ?? 'GET').toUpperCase(),
          headers,
          ...(body === undefined ? {} : { body }),
          // A redirect could lead outside the granted prefixes: the workflow sees it instead.
          redirect: 'manual',
          signal: withTimeout(timeoutMs, context.signal),
        });
      } catch (caught) {
        const failure = fetchFailure(caught);
        if (failure.blockedPort) {
          throw new CapabilityError(
            'blocked_port',
            `request to ${url.href} was not sent: fetch refuses port ${url.port} (one of the ports it blocks for safety); use the service's usual port`,
            { retryable: false, cause: failure.error },
          );
        }
        throw networkError(url, failure, timeoutMs, `no answer within ${timeoutMs} ms`);
      }
      const unavailable = unavailableError(response.status, url.href, response.headers.get('retry-after'), context.now);
      if (unavailable) {
        // Its body is not kept: not read at all, whatever its size.
        await response.body?.cancel().catch(() => undefined);
        throw unavailable;
      }
      let read: LimitedText;
      try {
        read = await readLimitedText(response, limit);
      } catch (caught) {
        // The answer broke off (a reset, or the timeout struck while it was still arriving).
        throw networkError(url, fetchFailure(caught), timeoutMs, `the answer did not arrive in full within ${timeoutMs} ms`);
      }
      if ('tooLarge' in read) {
        throw new CapabilityError(
          'response_too_large',
          `response from ${url.href} is larger than ${limit} bytes${declaredSize(read)}, the limit of an http.request answer: ask the service for less (a page, a filter) or for a smaller representation`,
          { retryable: false, details: { status: response.status, maxBytes: limit } },
        );
      }
      const responseBody = parseBody(read.text, response.headers.get('content-type') ?? '');
      if (response.status >= 400) throw new HttpError(response.status, url.href, responseBody);
      return { status: response.status, headers: Object.fromEntries(response.headers.entries()), body: responseBody };
    },
  };
}
