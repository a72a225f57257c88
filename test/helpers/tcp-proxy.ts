import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** One client connection through the proxy, and the server connection it is forwarded to. */
export interface ProxiedConnection {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Set by `freeze()`: what either side sends is dropped, nothing is closed or reset. */
  frozen: boolean;
  /** Once the client (the driver) closed or destroyed its side. */
  closedByClient: boolean;
}

/** What the proxy does with a connection that arrives: forward it, close it at once, or accept it and never answer. */
export type ArrivalMode = 'forward' | 'refuse' | 'silence';

/**
 * A TCP proxy in front of a server (PostgreSQL), for outages no test may cause on the server itself:
 * `freeze()` makes the connections open at that moment silent without closing them, as a failover or
 * a network fault that sends no RST does (the kernel still acknowledges, nothing answers).
 * `arrivals('refuse')` makes new connections fail at once, as a server that is down;
 * `arrivals('silence')` leaves them unanswered, as an address nothing answers at any more.
 */
export class TcpProxy {
  readonly connections: ProxiedConnection[] = [];
  private arrival: ArrivalMode = 'forward';

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on the first free port of `ports` on 127.0.0.1 and forwards to `target`. */
  static async start(target: { host: string; port: number }, ports: readonly number[]): Promise<TcpProxy> {
    for (const port of ports) {
      // Half-open: a frozen connection must not answer the driver's goodbye (FIN) either.
      const server = createServer({ allowHalfOpen: true });
      const listening = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (!listening) continue;
      const proxy = new TcpProxy(server, port);
      server.on('connection', (client) => proxy.accept(client, target));
      return proxy;
    }
    throw new Error(`no free port among ${ports[0]}…${ports.at(-1)}`);
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    if (this.arrival === 'refuse') {
      client.destroy();
      return;
    }
    const upstream = createConnection({ ...target, allowHalfOpen: true });
    const connection: ProxiedConnection = { client, upstream, frozen: this.arrival === 'silence', closedByClient: false };
    this.connections.push(connection);
    client.on('data', (chunk) => connection.frozen || upstream.write(chunk));
    upstream.on('data', (chunk) => connection.frozen || client.write(chunk));
    client.on('end', () => {
      connection.closedByClient = true;
      if (!connection.frozen) upstream.end();
    });
    upstream.on('end', () => connection.frozen || client.end());
    client.on('close', () => {
      connection.closedByClient = true;
      upstream.destroy();
    });
    // A frozen connection stays silent until the test ends it: the server closing its side is not passed on.
    upstream.on('close', () => connection.frozen || client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
  }

  /** Makes every connection open now silent, for good; returns them. */
  freeze(): ProxiedConnection[] {
    const open = this.connections.filter((connection) => !connection.closedByClient);
    for (const connection of open) connection.frozen = true;
    return open;
  }

  /** Ends the frozen connections (both sides), so that a test that failed does not leave its driver waiting. */
  dropFrozen(): void {
    for (const connection of this.connections.filter((c) => c.frozen)) {
      connection.client.destroy();
      connection.upstream.destroy();
    }
  }

  /** What happens to the connections that arrive from now on. */
  arrivals(mode: ArrivalMode): void {
    this.arrival = mode;
  }

  /** The target URL's user, database and query with this proxy as host and port. */
  url(targetUrl: string): string {
    const url = new URL(targetUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async close(): Promise<void> {
    for (const connection of this.connections) {
      connection.client.destroy();
      connection.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
