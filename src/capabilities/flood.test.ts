import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP server that answers more than a client should read, for the response size
 * limits of `http.request` and the GitLab client (a `.test.ts` file so that only tests load it):
 *
 * - `…/chunked` (any path, by its last segment): `total` bytes, chunked (no Content-Length);
 * - `…/declared`: the same with `Content-Length: total`;
 * - `…/exact?bytes=N`: exactly N bytes of text, `é` after `é`.
 *
 * The floods honour backpressure: the server writes only as fast as the client reads, so how many
 * bytes it managed to write tells how much the client took in before it stopped reading.
 */
export interface Flood {
  url: string;
  /** The size of a flood: 64 MiB. */
  total: number;
  /** The last request's outcome, once its response closed: bytes written, and whether the client went away first. */
  last(): Promise<{ written: number; aborted: boolean }>;
  close(): Promise<void>;
}

const TOTAL = 64 * 1024 * 1024;

async function pour(response: ServerResponse, total: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const closed = once(response, 'close');
  let written = 0;
  while (written < total && !response.destroyed) {
    const piece = total - written >= chunk.length ? chunk : chunk.subarray(0, total - written);
    written += piece.length;
    if (!response.write(piece)) await Promise.race([once(response, 'drain'), closed]);
  }
  if (!response.destroyed) response.end();
  return written;
}

function exact(bytes: number): Buffer {
  return Buffer.from('é'.repeat(Math.floor(bytes / 2)) + (bytes % 2 === 1 ? 'a' : ''));
}

export async function floodServer(): Promise<Flood> {
  let last: Promise<{ written: number; aborted: boolean }> = Promise.reject(new Error('no request yet'));
  last.catch(() => undefined);
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    response.setHeader('content-type', 'text/plain; charset=utf-8');
    // A connection per request: none is reused after a flood the client cut off.
    response.setHeader('connection', 'close');
    const closed = once(response, 'close').then(() => !response.writableFinished);
    const route = url.pathname.slice(url.pathname.lastIndexOf('/'));
    if (route === '/exact') {
      const body = exact(Number(url.searchParams.get('bytes')));
      response.end(body);
      last = closed.then((aborted) => ({ written: body.length, aborted }));
      return;
    }
    if (route === '/declared') response.setHeader('content-length', TOTAL);
    const written = pour(response, TOTAL);
    last = Promise.all([written, closed]).then(([bytes, aborted]) => ({ written: bytes, aborted }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    total: TOTAL,
    last: () => last,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
