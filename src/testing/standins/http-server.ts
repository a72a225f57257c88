import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a stand-in's handler sees of a request: method, parsed URL, headers and the body as text. */
export interface StandInRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface StandInResponse {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as it is. */
  body?: unknown;
}

/** A stand-in listening on loopback: real sockets, real HTTP, so the clients under test run their own code paths. */
export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The origins of the stand-ins listening in this process. A test environment's `http`, which sends nothing without a
 * mock or a fetch of the test's own, still reaches these (env-capabilities.ts): they are the test's, like its mocks.
 * Process-wide, unlike everything else here, because a test makes its stand-ins before, and apart from, the
 * environment that calls them; an origin leaves the set when its stand-in closes.
 */
const listening = new Set<string>();

/** Whether `url` is served by a stand-in listening in this process (`listenLoopback`). */
export function isStandIn(url: URL): boolean {
  return listening.has(url.origin);
}

/** Starts `handler` on an ephemeral loopback port. */
export async function listenLoopback(
  handler: (request: StandInRequest) => StandInResponse | Promise<StandInResponse>,
): Promise<LoopbackServer> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: StandInRequest = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', 'http://127.0.0.1'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      Promise.resolve()
        .then(() => handler(request))
        .catch((error: unknown): StandInResponse => ({
          status: 500,
          body: { error: error instanceof Error ? error.message : String(error) },
        }))
        .then((response: StandInResponse) => {
          const text = typeof response.body === 'string' ? response.body : response.body === undefined ? '' : JSON.stringify(response.body);
          const type = typeof response.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
          res.writeHead(response.status, { 'content-type': type, ...response.headers });
          res.end(text);
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  listening.add(url);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        listening.delete(url);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
