import { serve as serveNode } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppEnv } from './http/env.js';

export interface ServeOptions {
  /** 0 picks a free port (tests); the chosen one is in the result. */
  port: number;
  host: string;
  /**
   * On close, requests still running after this long are cut off. Long polls (`?wait=`) would
   * otherwise hold a shutdown for up to a minute; cutting one off is safe, the client asks again.
   * @default 1000
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
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs ?? 1000).unref();
      }),
  };
}
