import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/autoflow.js', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface ServerProcessOptions {
  port: number;
  db: string;
  workflowsDir: string;
  token: string;
  env?: Record<string, string>;
}

/** `autoflow server` as a real child process, the way an operator runs it. */
export class ServerProcess {
  private child: ChildProcess | undefined;
  /** stdout and stderr together, as a terminal shows them. */
  output = '';
  /** stdout alone, and stderr alone. */
  stdout = '';
  stderr = '';

  constructor(private readonly options: ServerProcessOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  async start(): Promise<void> {
    const { port, db, workflowsDir, token, env } = this.options;
    const child = spawn(process.execPath, [BIN, 'server', '--port', String(port), '--db', db, '--workflows', workflowsDir], {
      env: { ...process.env, AUTOFLOW_API_TOKEN: token, AUTOFLOW_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const before = this.stderr.length;
    child.stdout?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
      this.stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
      this.stderr += chunk.toString();
    });
    await this.waitHealthy(child, before);
  }

  /**
   * Until this child answers /healthz. A port freePort found free may be taken by another test's server before this
   * child binds it (test files run side by side): an answer counts once this child said it listens there, which a
   * child that fails first (the port taken, another server on its SQLite file) never says.
   */
  private async waitHealthy(child: ChildProcess, outputFrom: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`autoflow server exited with ${child.exitCode ?? child.signalCode}:\n${this.output}`);
      }
      try {
        const response = await fetch(`${this.url}/healthz`);
        if (response.ok && this.stderr.slice(outputFrom).includes(`AutoFlow is listening on ${this.url}`)) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`autoflow server did not become healthy within 60 s:\n${this.output}`);
  }

  /** SIGKILL: no shutdown code runs, exactly like a crash. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGTERM: a graceful shutdown. */
  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  /** The process id while it runs (workflows' activities report it to tell nodes apart). */
  get pid(): number | undefined {
    // A process killed by a signal keeps exitCode null: signalCode says it is gone too.
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** Between pause() and resume(): requests to it would hang. */
  paused = false;

  /** SIGSTOP: the process freezes (no heartbeat, no I/O) until `resume()`, like a long GC pause or a VM stall. */
  pause(): void {
    this.paused = true;
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
    this.paused = false;
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  async api(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${this.options.token}`, 'content-type': 'application/json', ...init.headers },
    });
  }
}

/** A server, started, on the workflows of `dir` and an SQLite database in it (`autoflow.db`), with the admin `token`. */
export async function startServerIn(dir: string, token: string): Promise<ServerProcess> {
  const server = new ServerProcess({ port: await freePort(), db: `sqlite:${join(dir, 'autoflow.db')}`, workflowsDir: dir, token });
  await server.start();
  return server;
}
