import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../src/app/runtime.js';
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

function rawCommitRate(dir: string, commits: number): number {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  // Until the first checkpoint every commit also grows the WAL file, at about half the rate
  // measured here afterwards; the engine's runs are measured after that point, so this is too.
  for (let i = 0; i < WAL_WARMUP_COMMITS; i++) insert.run(`warm-up ${i}`);
  const started = performance.now();
  for (let i = 0; i < commits; i++) insert.run(`row ${i}`);
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return commits / seconds;
}

async function runtimeAt(dir: string, name: string): Promise<Runtime> {
  const config = embeddedRuntimeConfig({
    db: { kind: 'sqlite', path: join(dir, `${name}.db`) },
    workflowsDir: dir,
    apiToken: 'bench',
    sandbox: { memoryMb: 64, cpuMs: 1000, cacheSize: 10_000 },
    activities: { noop: (args: unknown) => Promise.resolve(args) },
  });
  const runtime = await createRuntime(config, { logger: pino({ level: 'silent' }) as unknown as Logger });
  await runtime.start();
  return runtime;
}

async function timeRuns(runtime: Runtime, count: number, steps: number, prefix: string): Promise<number> {
  const started = performance.now();
  const ids = await Promise.all(
    Array.from({ length: count }, async (_, i) => (await runtime.operations.startRun({ workflow: 'steps', input: { steps }, id: `${prefix}-${i}` })).run.id),
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
    const flush = rawCommitRate(dir, 3000);
    print(`sqlite synchronous=FULL single-row commits/s, WAL in steady state (flush limit): ${flush.toFixed(0)}`);

    const runtime = await runtimeAt(dir, 'engine');
    // A warm-up run as long as the measured one: V8 has optimised the engine's hot paths by the
    // end of it, as it has for the concurrent runs measured after this one.
    await timeRuns(runtime, 1, STEPS, 'warmup');
    const sequential = STEPS / (await timeRuns(runtime, 1, STEPS, 'seq'));
    print(
      `one run, sequential durable steps/s (no-op activity, after a warm-up run): ${sequential.toFixed(0)}  = ${((100 * sequential) / flush).toFixed(0)}% of the flush limit (target ≥ 50%)`,
    );
    // Profiled apart from the measured runs, so that the profiler's own cost is not in their figures.
    print(`  where the Node.js thread's time went (CPU profile of one more run): ${await profileCpu(() => timeRuns(runtime, 1, STEPS / 2, 'seq-profiled'))}`);
    // Warmed up the same way: the first concurrent batch also pays V8's optimisation of the
    // concurrent paths (group commit of many writers, many live sandboxes), measured at ≈20% here.
    await timeRuns(runtime, CONCURRENT, CONCURRENT_STEPS, 'conc-warmup');
    const aggregate = (CONCURRENT * CONCURRENT_STEPS) / (await timeRuns(runtime, CONCURRENT, CONCURRENT_STEPS, 'conc'));
    print(`${CONCURRENT} concurrent runs, aggregate steps/s (after a warm-up batch): ${aggregate.toFixed(0)}  = ${(aggregate / sequential).toFixed(1)}× one run (target ≥ 5×)`);
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
    const instance = sandbox.createInstance(definition, { runId: 'replay-0', seed: 'replay-0' });
    replayHistory(instance, history, { runId: 'replay-0', workflow: 'steps' });
    const replayed = performance.now();
    instance.dispose();
    print(
      `replay of a 10,000-step history (${history.length} events): ${(replayed - loadStarted).toFixed(0)} ms (load ${(loaded - loadStarted).toFixed(0)} ms, re-execute ${(replayed - loaded).toFixed(0)} ms)`,
    );

    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const rssBefore = process.memoryUsage().rss;
    await Promise.all(Array.from({ length: PARKED }, (_, i) => runtime.operations.startRun({ workflow: 'parked', input: { key: `k${i}` }, id: `parked-${i}` })));
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
