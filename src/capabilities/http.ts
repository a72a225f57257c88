import { z } from 'zod';
import { CapabilityError, PermissionDeniedError } from '../core/errors.js';
import type { Json } from '../core/model.js';
import type { Capability, CapabilityContext } from '../core/ports.js';
import { parseArgs } from './args.js';
import { fetchFailure } from './fetch-failure.js';

const requestSchema = z.object({
  url: z.string().min(1),
  method: z.string().regex(/^[A-Za-z]+$/).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
  /** @default 30000 */
  timeoutMs: z.number().int().positive().max(600_000).optional(),
});

/** A 4xx answer: the request itself is wrong, so it is not retried. Workflows match it by name. */
export class HttpError extends CapabilityError {
  constructor(status: number, url: string, body: Json) {
    super('http_error', `HTTP ${status} from ${url}`, { retryable: false, details: { status, body } });
  }
}

export interface HttpCapabilityOptions {
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default 30000 */
  defaultTimeoutMs?: number;
  /** Larger responses fail the call. @default 10 MiB */
  maxResponseBytes?: number;
}

/**
 * A prefix grants a URL only on a path boundary: `https://api.example.com/v1` grants
 * `…/v1/x` and `…/v1?q`, not `…/v1x`, and never another host that merely starts the same way.
 */
export function urlAllowed(url: URL, prefixes: readonly string[] | undefined): boolean {
  return (prefixes ?? []).some((raw) => {
    let prefix: string;
    try {
      prefix = new URL(raw).href;
    } catch {
      return false;
    }
    if (!url.href.startsWith(prefix)) return false;
    return prefix.endsWith('/') || url.href.length === prefix.length || '/?#'.includes(url.href.charAt(prefix.length));
  });
}

/** Seconds or an HTTP date, as RFC 9110 allows. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

async function readBody(response: Response, limit: number, url: string): Promise<Json> {
  const text = await response.text();
  if (text.length > limit) {
    throw new CapabilityError('response_too_large', `response from ${url} is larger than ${limit} bytes`, { retryable: false });
  }
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json') && text !== '') {
    try {
      return JSON.parse(text) as Json;
    } catch {
      return text;
    }
  }
  return text;
}

/** `http.request` for workflows: only to granted URL prefixes, with the call's idempotency key. */
export function createHttpCapability(options: HttpCapabilityOptions = {}): Capability {
  const doFetch = options.fetch ?? globalThis.fetch;
  const limit = options.maxResponseBytes ?? 10 * 1024 * 1024;
  return {
    name: 'http',
    async invoke(method: string, args: Json, context: CapabilityContext): Promise<Json> {
      if (method !== 'request') throw new CapabilityError('unknown_method', `http has no method '${method}'; use http.request`, { retryable: false });
      const request = parseArgs(requestSchema, args, 'http.request');
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        throw new CapabilityError('invalid_url', `'${request.url}' is not an absolute URL`, { retryable: false });
      }
      if (!urlAllowed(url, context.permissions.http)) {
        throw new PermissionDeniedError(
          `workflow '${context.workflow}' may not reach ${url.href}: add a prefix of it to permissions.http`,
          { url: url.href },
        );
      }
      const headers = new Headers(request.headers);
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
      const timeoutMs = request.timeoutMs ?? options.defaultTimeoutMs ?? 30_000;
      let response: Response;
      try {
        response = await doFetch(url, {
          method: (request.method ?? 'GET').toUpperCase(),
          headers,
          ...(body === undefined ? {} : { body }),
          // A redirect could lead outside the granted prefixes: the workflow sees it instead.
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
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
        const why = failure.timedOut ? `no answer within ${timeoutMs} ms` : failure.description;
        throw new CapabilityError('network_error', `request to ${url.href} failed: ${why}`, { retryable: true, cause: failure.error });
      }
      const responseBody = await readBody(response, limit, url.href);
      if (response.status === 429 || response.status >= 500) {
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), context.now);
        throw new CapabilityError('http_unavailable', `HTTP ${response.status} from ${url.href}`, {
          retryable: true,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
          details: { status: response.status },
        });
      }
      if (response.status >= 400) throw new HttpError(response.status, url.href, responseBody);
      return { status: response.status, headers: Object.fromEntries(response.headers.entries()), body: responseBody };
    },
  };
}
