import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../src/app/runtime.js';
import { defaultSandboxThreads } from '../src/config/schema.js';
import type { Logger } from '../src/core/ports.js';
import { replayHistory } from '../src/core/replay.js';
import { createQuickJsSandbox } from '../src/sandbox/quickjs-sandbox.js';
import { profileCpu } from './cpu-profile.js';

/**
 * Engine figures on this machine, each next to the limit it is measured against in the same run:
 * sequential durable steps of one run vs the raw SQLite synchronous=FULL commit rate (the flush
 * limit); 50 concurrent runs vs one; replay of a 10,000-step history; memory per parked run.
 */

const STEPS = Number(process.env.BENCH_STEPS ?? 3000);
const CONCURRENT = 50;
const CONCURRENT_STEPS = Number(process.env.BENCH_CONCURRENT_STEPS ?? 200);
const PARKED = Number(process.env.BENCH_PARKED ?? 2000);
/** More single-page commits than one WAL cycle (1,000 pages, SQLite's default auto-checkpoint). */
const WAL_WARMUP_COMMITS = 1500;
const FLUSH_COMMITS = 3000;
/** At least one; a value that is not a positive integer counts as 1. */
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? 3)) || 1);

interface Round {
  flush: number;
  sequential: number;
  aggregate: number;
}

/** The round whose `ratio` is the median one (the upper middle for an even count). */
function median(rounds: Round[], ratio: (round: Round) => number): Round {
  const sorted = [...rounds].sort((a, b) => ratio(a) - ratio(b));
  return sorted[Math.floor(sorted.length / 2)]!;
}

const percent = (fraction: number): string => `${(100 * fraction).toFixed(0)}%`;

/** `input.steps` sequential no-op activity calls: the workload of every step-rate figure. */
export const STEPS_WORKFLOW = `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'steps',
  permissions: { activities: ['noop'] },
  async run(input: { steps: number }) {
    for (let i = 0; i < input.steps; i++) await activities.noop(i);
    return input.steps;
  },
});`;

const WORKFLOWS = {
  'steps.ts': STEPS_WORKFLOW,
  'parked.ts': `import { waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'parked',
  async run(input: { key: string }) {
    return waitFor('bench.wake', { match: { subject: input.key } });
  },
});`,
};

/**
 * Raw SQLite commits with synchronous=FULL, one row each: the flush limit. The connection stays
 * open so that every round measures it on the same warm file.
 */
function openFlushLimit(dir: string): { rate(commits: number): number; close(): void } {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  // Until the first checkpoint every commit also grows the WAL file, at about half the rate
  // measured here afterwards; the engine's runs are measured after that point, so this is too.
  for (let i = 0; i < WAL_WARMUP_COMMITS; i++) insert.run(`warm-up ${i}`);
  return {
    rate(commits) {
      const started = performance.now();
      for (let i = 0; i < commits; i++) insert.run(`row ${i}`);
      return commits / ((performance.now() - started) / 1000);
    },
    close: () => db.close(),
  };
}

async function runtimeAt(dir: string, name: string): Promise<Runtime> {
  const config = embeddedRuntimeConfig({
    db: { kind: 'sqlite', path: join(dir, `${name}.db`) },
    workflowsDir: dir,
    apiToken: 'bench',
    // The sandbox threads a server starts unless told, so that the figures are what a server gets.
    sandbox: { memoryMb: 64, cpuMs: 1000, cacheSize: 10_000, cacheMemoryMb: 1024, threads: defaultSandboxThreads() },
    activities: { noop: (args: unknown) => Promise.resolve(args) },
  });
  const runtime = await createRuntime(config, { logger: pino({ level: 'silent' }) as unknown as Logger });
  await runtime.start();
  return runtime;
}

async function timeRuns(runtime: Runtime, count: number, steps: number, prefix: string): Promise<number> {
  const started = performance.now();
  const ids = await Promise.all(
    Array.from(
      { length: count },
      async (_, i) => (await runtime.operations.startRun({ workflow: 'steps', input: { steps }, id: `${prefix}-${i}` })).run.id,
    ),
  );
  const results = await Promise.all(ids.map((id) => runtime.operations.waitForRun(id, 600_000)));
  const seconds = (performance.now() - started) / 1000;
  const bad = results.find((run) => run.status !== 'completed');
  if (bad) throw new Error(`bench run ${bad.id} ended ${bad.status}: ${JSON.stringify(bad.error)}`);
  return seconds;
}

export async function engineBench(print: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-bench-'));
  try {
    for (const [name, source] of Object.entries(WORKFLOWS)) writeFileSync(join(dir, name), source);
    print(`engine on SQLite with ${defaultSandboxThreads()} sandbox thread(s) beside the main thread (a server's default here)`);
    const flushLimit = openFlushLimit(dir);
    const runtime = await runtimeAt(dir, 'engine');
    // Warm-up runs as long as the measured ones: V8 has optimised the engine's hot paths for one
    // run and for many (group commit of many writers, many live sandboxes) by the end of them;
    // the first concurrent batch runs ≈20% slower than the next here.
    await timeRuns(runtime, 1, STEPS, 'warmup');
    await timeRuns(runtime, CONCURRENT, CONCURRENT_STEPS, 'conc-warmup');
    // This VM's fsync time drifts by a third within minutes, so each ratio is taken within one
    // round, from figures measured seconds apart, and the median round is reported.
    const rounds: Round[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const flush = flushLimit.rate(FLUSH_COMMITS);
      const sequential = STEPS / (await timeRuns(runtime, 1, STEPS, `seq-${round}`));
      const aggregate = (CONCURRENT * CONCURRENT_STEPS) / (await timeRuns(runtime, CONCURRENT, CONCURRENT_STEPS, `conc-${round}`));
      rounds.push({ flush, sequential, aggregate });
      print(
        `  round ${round + 1}: flush limit ${flush.toFixed(0)} commits/s, one run ${sequential.toFixed(0)} steps/s (${percent(sequential / flush)}), ` +
          `${CONCURRENT} runs ${aggregate.toFixed(0)} steps/s (${(aggregate / sequential).toFixed(1)}×)`,
      );
    }
    flushLimit.close();
    const single = median(rounds, (r) => r.sequential / r.flush);
    print(`sqlite synchronous=FULL single-row commits/s, WAL in steady state (flush limit): ${single.flush.toFixed(0)}`);
    print(
      `one run, sequential durable steps/s (no-op activity): ${single.sequential.toFixed(0)}  = ${percent(single.sequential / single.flush)} of the flush limit (target ≥ 50%; median of ${ROUNDS} rounds)`,
    );
    // Profiled apart from the measured runs, so that the profiler's own cost is not in their figures.
    print(
      `  where the Node.js thread's time went (CPU profile of one more run): ${await profileCpu(() => timeRuns(runtime, 1, STEPS / 2, 'seq-profiled'))}`,
    );
    const many = median(rounds, (r) => r.aggregate / r.sequential);
    print(
      `${CONCURRENT} concurrent runs, aggregate steps/s: ${many.aggregate.toFixed(0)}  = ${(many.aggregate / many.sequential).toFixed(1)}× one run (target ≥ 5×; median of ${ROUNDS} rounds)`,
    );
    print(
      `  where the Node.js thread's time went (CPU profile of ${CONCURRENT} more runs): ${await profileCpu(() => timeRuns(runtime, CONCURRENT, CONCURRENT_STEPS / 2, 'conc-profiled'))}`,
    );

    await timeRuns(runtime, 1, 10_000, 'replay');
    const definition = runtime.engine.activeDefinition('steps');
    if (!definition) throw new Error('steps workflow not deployed');
    const sandbox = await createQuickJsSandbox();
    const loadStarted = performance.now();
    const history = await runtime.store.loadHistory('replay-0');
    const loaded = performance.now();
    const instance = await sandbox.createInstance(definition, { runId: 'replay-0', seed: 'replay-0' });
    await replayHistory(instance, history, { runId: 'replay-0', workflow: 'steps' });
    const replayed = performance.now();
    instance.dispose();
    print(
      `replay of a 10,000-step history (${history.length} events): ${(replayed - loadStarted).toFixed(0)} ms (load ${(loaded - loadStarted).toFixed(0)} ms, re-execute ${(replayed - loaded).toFixed(0)} ms)`,
    );

    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const rssBefore = process.memoryUsage().rss;
    await Promise.all(
      Array.from({ length: PARKED }, (_, i) =>
        runtime.operations.startRun({ workflow: 'parked', input: { key: `k${i}` }, id: `parked-${i}` }),
      ),
    );
    await runtime.engine.whenIdle();
    const cache = runtime.engine.cacheStats();
    global.gc?.();
    const rssAfter = process.memoryUsage().rss;
    const heapAfter = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    print(
      `memory per parked run, sandbox kept live: ${(cache.bytes / Math.max(1, cache.runs) / 1024).toFixed(0)} KiB in QuickJS; process RSS +${((rssAfter - rssBefore) / PARKED / 1024).toFixed(0)} KiB/run, JS heap +${((heapAfter - heapBefore) / PARKED / 1024).toFixed(1)} KiB/run (${PARKED} runs); evicted runs cost only their rows`,
    );
    await runtime.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
