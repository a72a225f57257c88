import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CapabilityError, PermissionDeniedError } from '../core/errors.js';
import type { Json } from '../core/model.js';
import type { CapabilityContext } from '../core/ports.js';
import { createHttpCapability, HttpError, parseRetryAfter, urlAllowed } from './http.js';
import { type Flood, floodServer } from './flood.test.js';

let base: string;
const seen: Array<{ path: string; key: string | undefined; body: string }> = [];
const routes: Record<string, (request: IncomingMessage, response: ServerResponse) => void> = {
  '/ok': (_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ fine: true }));
  },
  '/busy': (_request, response) => {
    response.statusCode = 429;
    response.setHeader('retry-after', '7');
    response.end('slow down');
  },
  '/broken': (_request, response) => {
    response.statusCode = 503;
    response.end('down');
  },
  '/missing': (_request, response) => {
    response.statusCode = 404;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ message: '404 Not Found' }));
  },
  '/moved': (_request, response) => {
    response.statusCode = 302;
    response.setHeader('location', 'http://169.254.169.254/latest/meta-data');
    response.end();
  },
};
const server = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    seen.push({ path, key: request.headers['idempotency-key'] as string | undefined, body });
    (routes[path] ?? routes['/ok'])?.(request, response);
  });
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => server.close());

function context(prefixes: string[]): CapabilityContext {
  return {
    runId: 'r1',
    step: 3,
    attempt: 1,
    idempotencyKey: 'r1:3',
    workflow: 'wf',
    permissions: { http: prefixes },
    now: Date.UTC(2026, 0, 1),
    signal: new AbortController().signal,
  };
}

describe('http capability', () => {
  const http = createHttpCapability();

  test('sends the idempotency key and a JSON body, and parses a JSON answer', async () => {
    const result = (await http.invoke('request', { url: `${base}/ok`, method: 'post', body: { a: 1 } }, context([`${base}/`]))) as {
      status: number;
      body: Json;
    };
    assert.equal(result.status, 200);
    assert.deepEqual(result.body, { fine: true });
    const last = seen.at(-1);
    assert.equal(last?.key, 'r1:3');
    assert.equal(last?.body, '{"a":1}');
  });

  test('refuses URLs outside the granted prefixes before any request leaves', async () => {
    const count = seen.length;
    await assert.rejects(http.invoke('request', { url: `${base}/ok` }, context(['http://127.0.0.1:1/'])), PermissionDeniedError);
    await assert.rejects(http.invoke('request', { url: `${base}/ok` }, context([])), /add a prefix of it to permissions\.http/);
    assert.equal(seen.length, count);
    assert.equal(urlAllowed(new URL('https://api.example.com.evil.net/x'), ['https://api.example.com']), false);
    assert.equal(urlAllowed(new URL('https://api.example.com/v1x'), ['https://api.example.com/v1']), false);
    assert.equal(urlAllowed(new URL('https://api.example.com/v1/x?y'), ['https://api.example.com/v1']), true);
  });

  test('429 and 5xx are retryable, 429 with its Retry-After; 4xx is a non-retryable HttpError with the body', async () => {
    const busy = await http.invoke('request', { url: `${base}/busy` }, context([base])).catch((error: unknown) => error);
    assert.ok(busy instanceof CapabilityError && busy.retryable);
    assert.equal(busy.retryAfterMs, 7000);
    const broken = await http.invoke('request', { url: `${base}/broken` }, context([base])).catch((error: unknown) => error);
    assert.ok(broken instanceof CapabilityError && broken.retryable);
    const missing = await http.invoke('request', { url: `${base}/missing` }, context([base])).catch((error: unknown) => error);
    assert.ok(missing instanceof HttpError);
    assert.equal(missing.retryable, false);
    assert.deepEqual(missing.details, { status: 404, body: { message: '404 Not Found' } });
  });

  test('a header HTTP cannot carry fails the call for good, naming it, before any request leaves', async () => {
    const count = seen.length;
    const refused: Array<Record<string, string>> = [{ 'x-user': 'Łukasz' }, { 'x-note': 'a\u0000b' }, { 'x user': 'a' }];
    for (const headers of refused) {
      const error = await http.invoke('request', { url: `${base}/ok`, headers }, context([base])).catch((caught: unknown) => caught);
      assert.ok(error instanceof CapabilityError && !error.retryable, String(error));
      assert.equal(error.code, 'invalid_header');
      assert.match(error.message, new RegExp(`^http\\.request: header '${Object.keys(headers)[0]}' cannot be sent`));
    }
    assert.equal(seen.length, count);
  });

  test('does not follow a redirect out of the granted prefix', async () => {
    const result = (await http.invoke('request', { url: `${base}/moved` }, context([base]))) as { status: number };
    assert.equal(result.status, 302);
  });

  test('a refused connection is a retryable network error that says why', async () => {
    // A port that was just listening, and no longer is.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const url = `http://127.0.0.1:${port}/`;
    const error = await http.invoke('request', { url }, context([url])).catch((e: unknown) => e);
    assert.ok(error instanceof CapabilityError && error.retryable && error.code === 'network_error', String(error));
    assert.equal(error.message, `request to ${url} failed: fetch failed (connect ECONNREFUSED 127.0.0.1:${port})`);
  });

  test('a port fetch refuses is not sent, and not retried', async () => {
    const error = await http.invoke('request', { url: 'http://127.0.0.1:1/' }, context(['http://127.0.0.1:1/'])).catch((e: unknown) => e);
    assert.ok(error instanceof CapabilityError && !error.retryable && error.code === 'blocked_port', String(error));
    assert.match(error.message, /was not sent: fetch refuses port 1 /);
  });

  test('Retry-After is read as seconds or as an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now), 60_000);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });

  test('encoded separators and ; after the granted prefix are refused, naming what was found; in the query they pass', async () => {
    const prefix = 'https://x.example/api/';
    for (const smuggled of ['..%2fadmin', '..%2Fadmin', 'a/..%5cadmin', '%2e%2e%2fadmin', '.%2E/admin', '..;/admin', 'a;b/c']) {
      assert.equal(urlAllowed(new URL(`${prefix}${smuggled}`), [prefix]), false, smuggled);
    }
    assert.equal(urlAllowed(new URL('https://x.example/api/v1/items?path=a%2Fb;c&q=..%2e'), [prefix]), true);
    assert.equal(urlAllowed(new URL('https://x.example/api/v1/items.json'), [prefix]), true);
    // What the operator wrote in the prefix is theirs: an encoded part in it is granted.
    assert.equal(
      urlAllowed(new URL('https://x.example/api/projects/acme%2Fapp/issues'), ['https://x.example/api/projects/acme%2Fapp']),
      true,
    );
    assert.equal(urlAllowed(new URL('https://x.example/api?q=a;b'), ['https://x.example/api']), true);

    const count = seen.length;
    const error = await http.invoke('request', { url: `${base}/api/..%2fadmin` }, context([`${base}/api/`])).catch((e: unknown) => e);
    assert.ok(error instanceof PermissionDeniedError, String(error));
    assert.match(
      error.message,
      new RegExp(`may not reach ${base}/api/\\.\\.%2fadmin: its path after the granted prefix ${base}/api/ holds '%2f'`),
    );
    assert.match(error.message, /add to permissions\.http a prefix that already includes that part/);
    await assert.rejects(http.invoke('request', { url: `${base}/api/..;/admin` }, context([`${base}/api/`])), /holds ';'/);
    assert.equal(seen.length, count, 'nothing was sent');
  });
});

/** Answers larger than the limit: refused on Content-Length, or cut off while streaming; never read whole. */
describe('http capability: the response size limit', () => {
  const LIMIT = 64 * 1024;
  const http = createHttpCapability({ maxResponseBytes: LIMIT });
  let flood: Flood;
  before(async () => {
    flood = await floodServer();
  });
  after(() => flood.close());

  for (const declared of [false, true]) {
    test(`a ${declared ? 'declared (Content-Length)' : 'chunked'} answer over the limit fails the call, and the request is aborted`, async () => {
      const url = `${flood.url}/${declared ? 'declared' : 'chunked'}`;
      const error = await http.invoke('request', { url }, context([flood.url])).catch((e: unknown) => e);
      assert.ok(error instanceof CapabilityError && error.code === 'response_too_large' && !error.retryable, String(error));
      assert.match(
        error.message,
        new RegExp(`^response from ${url} is larger than ${LIMIT} bytes${declared ? ` \\(its Content-Length is ${flood.total}\\)` : ''}`),
      );
      const served = await flood.last();
      assert.equal(served.aborted, true, 'the server saw the connection go before it finished');
      assert.ok(served.written < flood.total / 4, `the server wrote ${served.written} of ${flood.total} bytes`);
    });
  }

  test('an answer at the limit is read whole, multi-byte characters included', async () => {
    const result = (await http.invoke('request', { url: `${flood.url}/exact?bytes=${LIMIT}` }, context([flood.url]))) as { body: string };
    assert.equal(Buffer.byteLength(result.body), LIMIT);
    assert.ok(result.body.startsWith('é'));
  });
});
