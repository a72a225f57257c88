import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';

const PROFILER = 'the profiler';

/** The parts a sample can go to, tried on each frame of its stack from the leaf up; the first that matches takes it. */
const PARTS: Array<{ name: string; matches: (frame: Profiler.ProfileNode['callFrame']) => boolean }> = [
  // Starting the profiler stalls the thread for tens of milliseconds: not the work's time.
  { name: PROFILER, matches: (frame) => frame.functionName === 'profileCpu' },
  { name: 'idle (waiting for I/O)', matches: (frame) => frame.functionName === '(idle)' },
  { name: 'garbage collection', matches: (frame) => frame.functionName === '(garbage collector)' },
  // `load` is also where spare instances are made, outside createInstanceNow.
  {
    name: 'sandbox creation',
    matches: (frame) => ['createInstanceNow', 'load'].includes(frame.functionName) && frame.url.endsWith('/src/sandbox/quickjs-sandbox.ts'),
  },
  { name: 'sandbox activations', matches: (frame) => frame.url.endsWith('/src/sandbox/instance.ts') },
  { name: 'pg driver', matches: (frame) => /\/node_modules\/pg(-pool|-protocol)?\//.test(frame.url) },
  { name: 'SQLite writes', matches: (frame) => frame.url.includes('/src/store/sqlite/') },
  { name: 'PostgreSQL store', matches: (frame) => frame.url.includes('/src/store/postgres/') },
  { name: 'engine', matches: (frame) => frame.url.includes('/src/core/') },
];
const OTHER = 'the rest';

/**
 * Where the Node.js thread's time went while `work` ran: a CPU profile from V8's sampling
 * profiler, each sample given to the first part of AutoFlow (or library) found on its stack from
 * the leaf up. It is what a missed target's figure is explained with.
 */
export async function profileCpu(work: () => Promise<unknown>): Promise<string> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await work();
    const { profile } = await session.post('Profiler.stop');
    return summarize(profile);
  } finally {
    session.disconnect();
  }
}

function summarize(profile: Profiler.Profile): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const partOf = new Map<number, string>();
  const part = (id: number): string => {
    const known = partOf.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const parent = parentOf.get(id);
    const found = PARTS.find((candidate) => candidate.matches(node.callFrame))?.name ?? (parent === undefined ? OTHER : part(parent));
    partOf.set(id, found);
    return found;
  };
  const micros = new Map<string, number>();
  let total = 0;
  (profile.samples ?? []).forEach((id, i) => {
    const delta = profile.timeDeltas?.[i] ?? 0;
    if (part(id) === PROFILER) return;
    micros.set(part(id), (micros.get(part(id)) ?? 0) + delta);
    total += delta;
  });
  return [...micros]
    .sort((a, b) => b[1] - a[1])
    .map(([name, time]) => `${name} ${((100 * time) / Math.max(1, total)).toFixed(0)}%`)
    .join(', ');
}
