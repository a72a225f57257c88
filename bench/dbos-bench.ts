import { DBOS } from '@dbos-inc/dbos-sdk';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../src/app/runtime.js';
import type { DatabaseConfig } from '../src/config/database.js';
import { defaultSandboxThreads } from '../src/config/schema.js';
import type { Logger } from '../src/core/ports.js';
import { profileCpu } from './cpu-profile.js';
import { STEPS_WORKFLOW } from './engine-bench.js';

/**
 * AutoFlow against its peer, DBOS Transact, on the same PostgreSQL, machine and run: W workflows of
 * S sequential no-op steps, C at a time (C = 50, then C = 1), each durable step one commit with
 * `synchronous_commit=on` for both. AutoFlow on SQLite (`synchronous=FULL`) runs beside them.
 */
const W = Number(process.env.BENCH_DBOS_WORKFLOWS ?? 500);
const S = Number(process.env.BENCH_DBOS_STEPS ?? 10);
const CONCURRENCY = (process.env.BENCH_DBOS_CONCURRENCY ?? '50,1').split(',').map(Number);
/** Workflows each engine runs before the measured ones (see measure). */
const WARM_UP = Math.ceil(W / 5);
const POSTGRES_URL = process.env.AUTOFLOW_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The URL with a search_path and synchronous_commit=on set for every connection made from it. */
function urlWith(schema: string): string {
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema} -c synchronous_commit=on`);
  return url.toString();
}

interface Result {
  label: string;
  concurrency: number;
  stepsPerSecond: number;
  p50: number;
  p99: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Runs `count` workflows through `runOne`, `concurrency` at a time; per-workflow latency from its start to its result. */
async function drive(label: string, concurrency: number, runOne: (index: number) => Promise<void>, count = W): Promise<Result> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const t0 = performance.now();
        await runOne(index);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { label, concurrency, stepsPerSecond: (count * S) / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function autoflowRuntime(db: DatabaseConfig, dir: string, threads: number): Promise<Runtime> {
  const runtime = await createRuntime(
    embeddedRuntimeConfig({
      db,
      workflowsDir: dir,
      apiToken: 'bench',
      sandbox: { memoryMb: 64, cpuMs: 1000, cacheSize: 10_000, cacheMemoryMb: 1024, threads },
      activities: { noop: (args: unknown) => Promise.resolve(args) },
    }),
    { logger: pino({ level: 'silent' }) as unknown as Logger },
  );
  await runtime.start();
  return runtime;
}

/**
 * Where a run's time goes, from the runtime's own store-latency histogram: total milliseconds per
 * operation and per step, the heaviest first — the profile the issue asks for when a target is missed.
 */
async function storeProfile(runtime: Runtime, steps: number): Promise<string> {
  const metric = (await runtime.metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'autoflow_store_operation_seconds');
  const totals = new Map<string, { seconds: number; count: number }>();
  for (const value of (metric?.values ?? []) as Array<{ metricName?: string; labels: Record<string, string | number>; value: number }>) {
    const operation = String(value.labels.operation);
    const entry = totals.get(operation) ?? { seconds: 0, count: 0 };
    if (value.metricName?.endsWith('_sum')) entry.seconds += value.value;
    else if (value.metricName?.endsWith('_count')) entry.count += value.value;
    else continue;
    totals.set(operation, entry);
  }
  return [...totals]
    .sort((a, b) => b[1].seconds - a[1].seconds)
    .slice(0, 5)
    .map(
      ([operation, { seconds, count }]) =>
        `${operation} ${((seconds * 1000) / steps).toFixed(2)} ms/step (${(count / steps).toFixed(1)}×, ${((seconds * 1000) / count).toFixed(2)} ms each)`,
    )
    .join('; ');
}

interface Contender {
  label: string;
  /** Runs one workflow of S steps to completion. */
  runOne(): Promise<void>;
  stop(): Promise<void>;
}

async function startAutoflow(
  label: string,
  db: DatabaseConfig,
  dir: string,
  prefix: string,
  threads = 0,
): Promise<Contender & { runtime: Runtime }> {
  const runtime = await autoflowRuntime(db, dir, threads);
  let started = 0;
  return {
    label,
    runtime,
    async runOne() {
      const { run } = await runtime.operations.startRun({ workflow: 'steps', input: { steps: S }, id: `${prefix}-${started++}` });
      const done = await runtime.operations.waitForRun(run.id, 600_000);
      if (done.status !== 'completed') throw new Error(`AutoFlow run ${run.id} ended ${done.status}`);
    },
    stop: () => runtime.stop(),
  };
}

/** The store time per step of `engine`'s measured runs, then a CPU profile of more runs at the first concurrency. */
async function explainAutoflow(engine: Contender & { runtime: Runtime }, print: (line: string) => void): Promise<void> {
  print(
    `  ${engine.label}, store time per step over the runs so far: ${await storeProfile(engine.runtime, (WARM_UP + W * CONCURRENCY.length) * S)}`,
  );
  // Profiled apart from the measured runs, so that the profiler's own cost is not in their figures.
  const [concurrency = 1] = CONCURRENCY;
  const profiled = Math.max(1, Math.round(W / 2));
  const where = await profileCpu(() => drive(engine.label, concurrency, () => engine.runOne(), profiled));
  print(`  ${engine.label}, C=${concurrency}, where the Node.js thread's time went (CPU profile of ${profiled} more workflows): ${where}`);
}

/**
 * Each engine at each concurrency, the engines taking turns within a concurrency. Each first runs
 * WARM_UP workflows unmeasured, as a server that has been up a while would have: V8's optimised code,
 * connection pools and sandbox threads in place.
 */
async function measure(engines: Contender[]): Promise<Result[]> {
  const results: Result[] = [];
  for (const engine of engines) await drive(engine.label, CONCURRENCY[0] ?? 1, () => engine.runOne(), WARM_UP);
  for (const concurrency of CONCURRENCY) {
    for (const engine of engines) results.push(await drive(engine.label, concurrency, () => engine.runOne()));
  }
  return results;
}

async function noop(i: number): Promise<number> {
  return Promise.resolve(i);
}

const dbosSteps = DBOS.registerWorkflow(
  async (steps: number): Promise<number> => {
    for (let i = 0; i < steps; i++) await DBOS.runStep(() => noop(i), { name: 'noop' });
    return steps;
  },
  { name: 'steps' },
);

async function startDbos(schema: string): Promise<Contender> {
  DBOS.setConfig({ name: 'autoflow-bench', systemDatabaseUrl: urlWith('public'), systemDatabaseSchemaName: schema, logLevel: 'error' });
  await DBOS.launch();
  return {
    label: 'DBOS Transact (PostgreSQL)',
    async runOne() {
      if ((await dbosSteps(S)) !== S) throw new Error('DBOS workflow returned a wrong result');
    },
    stop: () => DBOS.shutdown(),
  };
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function dbosBench(print: (line: string) => void): Promise<void> {
  const reachable = await admin(
    async (client) => (await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0],
  ).catch((error: unknown) => error as Error);
  if (reachable instanceof Error) {
    print(`\nAutoFlow vs DBOS: skipped, PostgreSQL not reachable at ${POSTGRES_URL} (${reachable.message})`);
    return;
  }
  const suffix = randomBytes(4).toString('hex');
  const autoflowSchema = `af_bench_${suffix}`;
  const dbosSchema = `dbos_bench_${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-dbos-bench-'));
  writeFileSync(join(dir, 'steps.ts'), STEPS_WORKFLOW);
  await admin((client) => client.query(`CREATE SCHEMA ${autoflowSchema}`));
  try {
    print(
      `\nAutoFlow vs DBOS Transact — ${W} workflows × ${S} sequential no-op steps, same PostgreSQL (synchronous_commit=on, server default ${reachable?.synchronous_commit}), same machine, one run; AutoFlow on PostgreSQL with ${defaultSandboxThreads()} sandbox thread(s) beside the main thread (a server's default here)`,
    );
    // AutoFlow and DBOS take turns at each concurrency, so that each pair is measured seconds
    // apart on this VM, whose fsync time drifts within minutes; SQLite runs on its own afterwards.
    // With the sandbox threads a server starts unless told, so that the figures are what a server gets.
    const onPostgres = await startAutoflow(
      'AutoFlow (PostgreSQL)',
      { kind: 'postgres', url: urlWith(autoflowSchema) },
      dir,
      'pg',
      defaultSandboxThreads(),
    );
    const results: Result[] = [];
    try {
      const dbos = await startDbos(dbosSchema);
      try {
        results.push(...(await measure([onPostgres, dbos])));
      } finally {
        await dbos.stop();
      }
      await explainAutoflow(onPostgres, print);
    } finally {
      await onPostgres.stop();
    }
    const onSqlite = await startAutoflow(
      'AutoFlow (SQLite, synchronous=FULL, main thread only)',
      { kind: 'sqlite', path: join(dir, 'bench.db') },
      dir,
      'sqlite',
    );
    // The same with one sandbox thread (sandbox.threads: 1) beside the main thread, in its own file.
    const threaded = await startAutoflow(
      'AutoFlow (SQLite, 1 sandbox thread)',
      { kind: 'sqlite', path: join(dir, 'bench-threaded.db') },
      dir,
      'sqlite-threaded',
      1,
    );
    try {
      results.push(...(await measure([onSqlite, threaded])));
      await explainAutoflow(onSqlite, print);
    } finally {
      await threaded.stop();
      await onSqlite.stop();
    }
    print('| engine | C | steps/s | workflow p50 ms | workflow p99 ms |');
    print('| --- | --- | --- | --- | --- |');
    for (const r of results)
      print(`| ${r.label} | ${r.concurrency} | ${r.stepsPerSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`);
    for (const concurrency of CONCURRENCY) {
      const ours = results.find((r) => r.label === 'AutoFlow (PostgreSQL)' && r.concurrency === concurrency);
      const theirs = results.find((r) => r.label.startsWith('DBOS') && r.concurrency === concurrency);
      if (!ours || !theirs) continue;
      print(
        `C=${concurrency}: AutoFlow/DBOS steps/s ${(ours.stepsPerSecond / theirs.stepsPerSecond).toFixed(2)}×, p99 ${ours.p99.toFixed(1)} ms vs ${theirs.p99.toFixed(1)} ms`,
      );
    }
  } finally {
    await admin(async (client) => {
      await client.query(`DROP SCHEMA IF EXISTS ${autoflowSchema} CASCADE`);
      await client.query(`DROP SCHEMA IF EXISTS ${dbosSchema} CASCADE`);
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await dbosBench((line) => console.log(line));
