/**
 * What the fault tests share: a fresh PostgreSQL schema, a counting HTTP server that records every
 * attempt of every call (by idempotency key and node), and several `autoflow server` processes on
 * one schema running a workflow of many steps with a sleep and an event wait.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import pg from 'pg';
import { TEST_POSTGRES_URL as POSTGRES_URL } from '../helpers/postgres.js';
import { freePort, ServerProcess } from '../helpers/server-process.js';
import { workflowFolder, type WorkflowFolder } from '../helpers/workflow-files.js';

export { postgresUnreachable } from '../helpers/postgres.js';
export const TOKEN = 'cluster-test-token';
/** Event that releases a run parked at its wait. */
export const GO_EVENT = 'test.cluster.go';
export const BONUS = 1000;

/** Runs `fn` with an admin connection; retried while the server restarts. */
export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    client.on('error', () => {});
    try {
      await client.connect();
      return await fn(client);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(250);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** A new schema; the servers reach it through `search_path` in the URL. */
export async function createSchema(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `af_cluster_${randomBytes(5).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE SCHEMA ${name}`));
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${name}`);
  return { name, url: url.toString(), drop: () => withAdmin(async (client) => void (await client.query(`DROP SCHEMA ${name} CASCADE`))) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// -------------------------------------------------------------------------------------------------
// The counting server
// -------------------------------------------------------------------------------------------------

export interface Attempt {
  key: string;
  node: number;
  /** The loop index of the step in the `chain` workflow. */
  i: number;
  start: number;
  /** When the response was sent, or the connection dropped (the node died mid-call). */
  end?: number;
}

/**
 * Answers each step's call with `{ value: i + 1 }` after `delayMs`, and records the attempt. A
 * hook may hold an attempt (to freeze its node mid-call) before it is answered.
 */
export class CountingServer {
  readonly attempts: Attempt[] = [];
  /** Called before answering; the answer waits for it. */
  hold: ((attempt: Attempt) => Promise<void> | void) | undefined;
  private server: Server | undefined;

  constructor(private readonly delayMs = 15) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    return `http://127.0.0.1:${address?.port ?? 0}`;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const { key, node, i } = JSON.parse(body) as { key: string; node: number; i: number };
        const attempt: Attempt = { key, node, i, start: Date.now() };
        this.attempts.push(attempt);
        const finish = () => (attempt.end ??= Date.now());
        response.on('close', finish);
        void (async () => {
          await this.hold?.(attempt);
          await sleep(this.delayMs);
          response.setHeader('content-type', 'application/json');
          response.end(JSON.stringify({ value: i + 1 }), finish);
        })();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Pairs of attempts of one key from different nodes whose intervals overlap. */
  overlaps(): string[] {
    const byKey = new Map<string, Attempt[]>();
    for (const attempt of this.attempts) byKey.set(attempt.key, [...(byKey.get(attempt.key) ?? []), attempt]);
    const found: string[] = [];
    for (const [key, attempts] of byKey) {
      for (const [i, a] of attempts.entries()) {
        for (const b of attempts.slice(i + 1)) {
          if (a.node === b.node) continue;
          const aEnd = a.end ?? Infinity;
          const bEnd = b.end ?? Infinity;
          if (a.start < bEnd && b.start < aEnd)
            found.push(`${key}: node ${a.node} [${a.start}, ${a.end}] and node ${b.node} [${b.start}, ${b.end}]`);
        }
      }
    }
    return found;
  }
}

// -------------------------------------------------------------------------------------------------
// The workflow, the configuration and the nodes
// -------------------------------------------------------------------------------------------------

/** What a run of `steps` steps returns: the sum of every step's value, and the bonus of the event. */
export const expectedSum = (steps: number) => (steps * (steps + 1)) / 2 + BONUS;

/**
 * `chain`: `steps` sequential calls to the counting server (through an activity that tells which
 * node made it), a durable sleep after a third of them and an event wait after two thirds.
 */
const CHAIN = `import { activities, sleep, waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'chain',
  permissions: { activities: ['step'] },
  async run(input: { id: string; steps: number; sleep: string }) {
    let sum = 0;
    for (let i = 0; i < input.steps; i++) {
      const result = (await activities.step({ i })) as { value: number };
      sum += result.value;
      if (i === Math.floor(input.steps / 3)) await sleep(input.sleep);
      if (i === Math.floor((2 * input.steps) / 3)) {
        const go = await waitFor('${GO_EVENT}', { match: { runId: input.id }, timeout: '1h' });
        sum += (go?.data as { bonus: number } | undefined)?.bonus ?? 0;
      }
    }
    return { sum };
  },
});
`;

function configFile(counterUrl: string, leases: { runMs: number; callMs: number }): string {
  return `export default {
  leases: ${JSON.stringify(leases)},
  activities: {
    // The node is the process id, so that a restarted node counts as another one.
    async step(args: { i: number }, context: { idempotencyKey: string }) {
      const response = await fetch('${counterUrl}/attempt', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: context.idempotencyKey, node: process.pid, i: args.i }),
      });
      if (!response.ok) throw new Error('counting server answered ' + response.status);
      return response.json();
    },
  },
};
`;
}

/**
 * The hooks every cluster test needs, registered in the calling `describe`: a counting server,
 * a fresh schema, and `nodes` servers on it — started before the tests, stopped and dropped after.
 * Read `counter` and `cluster` inside the tests.
 */
export function useCluster(options: { nodes: number; leases?: { runMs: number; callMs: number } }): {
  counter: CountingServer;
  readonly cluster: Cluster;
} {
  const counter = new CountingServer();
  let schema: Awaited<ReturnType<typeof createSchema>> | undefined;
  let cluster: Cluster | undefined;
  before(async () => {
    await counter.start();
    schema = await createSchema();
    cluster = new Cluster({ ...options, counterUrl: counter.url, dbUrl: schema.url });
    await cluster.start();
  });
  after(async () => {
    await cluster?.stop();
    await counter.stop();
    await schema?.drop();
  });
  return {
    counter,
    get cluster() {
      if (!cluster) throw new Error('the cluster starts in the before hook; use it inside a test');
      return cluster;
    },
  };
}

export interface ClusterOptions {
  nodes: number;
  counterUrl: string;
  dbUrl: string;
  /** @default { runMs: 2000, callMs: 3000 } */
  leases?: { runMs: number; callMs: number };
}

/** Several `autoflow server` processes on one schema, each on its own port. */
export class Cluster {
  readonly nodes: ServerProcess[] = [];
  private readonly workflows: WorkflowFolder;
  private readonly config: WorkflowFolder;

  constructor(private readonly options: ClusterOptions) {
    this.workflows = workflowFolder({ 'chain.ts': CHAIN });
    this.config = workflowFolder();
    this.config.write('autoflow.config.ts', configFile(options.counterUrl, options.leases ?? { runMs: 2000, callMs: 3000 }));
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.options.nodes; i++) {
      const node = new ServerProcess({
        port: await freePort(),
        db: this.options.dbUrl,
        workflowsDir: this.workflows.dir,
        token: TOKEN,
        env: { AUTOFLOW_CONFIG: this.config.path('autoflow.config.ts') },
      });
      this.nodes.push(node);
    }
    // One after the other: they would all migrate at once otherwise (which works, but is not what this tests).
    for (const node of this.nodes) await node.start();
  }

  /** A node that is up, chosen round-robin; requests to a node that dies are retried on the next. */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 200; attempt++) {
      const node = this.nodes[(this.next++ + attempt) % this.nodes.length]!;
      if (node.pid === undefined || node.paused) continue;
      try {
        // A frozen node accepts connections (the kernel does) but never answers: give up and move on.
        const response = await node.api(path, { ...init, signal: AbortSignal.timeout(5000) });
        if (response.status < 500) return response;
        lastError = new Error(`${path}: ${response.status} ${await response.text()}`);
      } catch (error) {
        lastError = error;
      }
      await sleep(100);
    }
    const down = this.nodes.filter((node) => node.pid === undefined);
    if (down.length === this.nodes.length) {
      // Every server exited: what they printed last is the only clue to why.
      const tails = down.map((node, i) => `--- node ${i}:\n${node.output.split('\n').slice(-30).join('\n')}`).join('\n');
      throw new Error(`${path}: every server has exited\n${tails}`, { cause: lastError });
    }
    throw lastError instanceof Error ? lastError : new Error(`${path}: no node answered`);
  }
  private next = 0;

  async startRun(id: string, steps: number, sleepFor: string): Promise<void> {
    const response = await this.request('/api/v1/runs', {
      method: 'POST',
      body: JSON.stringify({ workflow: 'chain', id, input: { id, steps, sleep: sleepFor } }),
    });
    assert.ok(response.status === 201 || response.status === 200, `starting ${id}: ${response.status} ${await response.text()}`);
  }

  /** The event that releases run `id` from its wait (idempotent by event id: safe to retry). */
  async release(id: string): Promise<void> {
    const response = await this.request('/api/v1/events', {
      method: 'POST',
      body: JSON.stringify({
        specversion: '1.0',
        id: `go-${id}`,
        source: '/cluster-test',
        type: GO_EVENT,
        data: { runId: id, bonus: BONUS },
      }),
    });
    assert.equal(response.status, 202, `releasing ${id}: ${await response.text()}`);
  }

  async run(id: string): Promise<{ status: string; result?: { sum: number } }> {
    return (await (await this.request(`/api/v1/runs/${encodeURIComponent(id)}`)).json()) as { status: string; result?: { sum: number } };
  }

  async history(id: string): Promise<Array<{ type: string; step?: number }>> {
    const body = (await (await this.request(`/api/v1/runs/${encodeURIComponent(id)}/history`)).json()) as {
      events: Array<{ type: string; step?: number }>;
    };
    return body.events;
  }

  /** Polls until every run ended, or fails with the ones that did not. */
  async waitForAll(ids: string[], timeoutMs: number): Promise<Map<string, { status: string; result?: { sum: number } }>> {
    const deadline = Date.now() + timeoutMs;
    const done = new Map<string, { status: string; result?: { sum: number } }>();
    while (done.size < ids.length) {
      for (const id of ids) {
        if (done.has(id)) continue;
        const run = await this.run(id);
        if (run.status !== 'running') done.set(id, run);
      }
      if (done.size === ids.length) break;
      if (Date.now() > deadline) {
        const open = ids.filter((id) => !done.has(id));
        assert.fail(`${open.length} runs still running after ${timeoutMs} ms, e.g. ${open.slice(0, 5).join(', ')}\n${this.output()}`);
      }
      await sleep(250);
    }
    return done;
  }

  /** The servers' logs (warnings and errors), for failure messages. */
  output(): string {
    return this.nodes.map((node, i) => `--- node ${i}\n${node.output.slice(-4000)}`).join('\n');
  }

  async scrape(node: ServerProcess): Promise<string> {
    return (await fetch(`${node.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) {
      node.resume();
      await node.kill();
    }
    this.workflows.remove();
    this.config.remove();
  }
}

/**
 * What every fault test asserts of the runs: each completed once with the right sum, each step's
 * result is in its history exactly once, and no call ran on two nodes at once.
 */
export async function assertEveryRunCompletedOnce(
  cluster: Cluster,
  counter: CountingServer,
  ids: string[],
  steps: number,
  timeoutMs: number,
): Promise<void> {
  const runs = await cluster.waitForAll(ids, timeoutMs);
  const wrong = [...runs].filter(([, run]) => run.status !== 'completed' || run.result?.sum !== expectedSum(steps));
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} runs ended wrong`);
  for (const id of ids) {
    const history = await cluster.history(id);
    const completedSteps = history.filter((event) => event.type === 'call_completed').map((event) => event.step);
    assert.equal(completedSteps.length, steps, `${id}: ${completedSteps.length} call results in history, expected ${steps}`);
    assert.equal(new Set(completedSteps).size, steps, `${id}: a call result was recorded twice`);
    assert.equal(history.filter((event) => event.type === 'run_completed').length, 1, `${id}: completed more than once`);
  }
  const keys = new Set(counter.attempts.map((attempt) => attempt.key));
  assert.equal(keys.size, ids.length * steps, 'every step of every run reached the counting server');
  assert.deepEqual(counter.overlaps().slice(0, 5), [], 'a call ran on two nodes at once');
}
