import { serve as serveNode } from '@hono/node-server';
import type { Hono } from 'hono';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppEnv } from './http/env.js';

export interface ServeOptions {
  /** 0 picks a free port (tests); the chosen one is in the result. */
  port: number;
  host: string;
  /**
   * On close, requests still running after this long are cut off; a long poll (`?wait=`) or a live stream of the
   * web UI at once, since it would hold a shutdown for up to a minute, and cutting one off is safe: the client asks again. Any other
   * request may have stored what it was sent (an event, a run): it is given this long to answer, so that its
   * client is not left to guess.
   * @default 10000
   */
  shutdownGraceMs?: number;
}

export interface RunningServer {
  port: number;
  /** Base URL of the API, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Stops accepting connections and resolves once the open ones are closed. */
  close(): Promise<void>;
}

/** Serves the app on Node's HTTP server; resolves once it listens. */
export async function serve(app: Hono<AppEnv>, options: ServeOptions): Promise<RunningServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    const created = serveNode({ fetch: app.fetch, port: options.port, hostname: options.host }, () => {
      created.off('error', reject);
      resolve(created as Server);
    });
    created.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const inFlight = new Set<IncomingMessage>();
  let closing = false;
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    inFlight.add(request);
    response.once('close', () => {
      inFlight.delete(request);
      // Its keep-alive connection is idle now: closed, so that the server's close can end.
      if (closing) server.closeIdleConnections();
    });
  });
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing = true;
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
        for (const request of inFlight) if (isHeldOpen(request)) request.socket.destroy();
        setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs ?? 10_000).unref();
      }),
  };
}

/**
 * A request held open to wait: for a run to end (`GET /api/v1/runs/:id?wait=`), or for changes (the web UI's
 * `GET /live` stream). It stores nothing, and its client asks again.
 */
function isHeldOpen(request: IncomingMessage): boolean {
  const url = request.url ?? '';
  return request.method === 'GET' && (/^\/api\/v1\/runs\/[^/?]+\?(?:.*&)?wait=/.test(url) || /^\/live(?:\?|$)/.test(url));
}
