/** Builders for the conformance suite: small valid values with the one field a test cares about. */
import type {
  CloudEvent,
  DeployedDefinition,
  HistoryEvent,
  HistoryPayload,
  Json,
  NewRun,
  TimerRecord,
  WaitRecord,
  CallRecord,
} from '../../core/model.js';
import type { Store, TaskCommit } from '../../core/ports.js';

export const OWNER = 'node-a';
export const OTHER = 'node-b';

export function newRun(id: string, overrides: Partial<NewRun> = {}): NewRun {
  return { id, workflow: 'wf', version: 'v1', input: { id }, createdAt: 1000, ...overrides };
}

export function cloudEvent(id: string, type = 'com.example.thing', data: Json = { id }): CloudEvent {
  return { specversion: '1.0', id, source: '/test', type, data };
}

export function definition(name: string, version: string, deployedAt: number): DeployedDefinition {
  return {
    version,
    name,
    manifest: { name, triggers: [{ event: 'com.example.thing' }], permissions: {}, validatesInput: false },
    bundle: `export default ${JSON.stringify(version)};`,
    origin: `workflows/${name}.ts`,
    deployedAt,
  };
}

export function call(runId: string, step: number, nextAt = 1000): CallRecord {
  return { runId, step, capability: 'http', method: 'request', args: { url: `https://x/${step}` }, attempts: 0, nextAt };
}

export function timer(runId: string, step: number, fireAt: number, kind: TimerRecord['kind'] = 'sleep'): TimerRecord {
  return { runId, step, kind, fireAt };
}

export function wait(runId: string, step: number, key = '["x"]', overrides: Partial<WaitRecord> = {}): WaitRecord {
  return { runId, step, eventType: 'com.example.thing', paths: ['data.id'], key, registeredAt: 1000, ...overrides };
}

/** History events with seqs from `from`, all recorded at `at`. */
export function events(from: number, at: number, ...payloads: HistoryPayload[]): HistoryEvent[] {
  return payloads.map((payload, i) => ({ ...payload, seq: from + i, at }));
}

/**
 * A task commit for `runId` at history length `from`: one `workflow_task` marker at `at` plus
 * whatever `parts` add.
 */
export function commit(runId: string, from: number, at: number, parts: Partial<TaskCommit> = {}): TaskCommit {
  return {
    runId,
    expectedHistoryLength: from,
    owner: OWNER,
    consumedPending: [],
    history: events(from, at, { type: 'workflow_task', time: at }),
    calls: [],
    resolvedCalls: [],
    timers: [],
    waits: [],
    children: [],
    logs: [],
    ...parts,
  };
}

/** Creates a run and commits its first task (history length 2 afterwards) with what `parts` add. */
export async function startRun(store: Store, id: string, parts: Partial<TaskCommit> = {}, run: Partial<NewRun> = {}): Promise<void> {
  await store.createRun(newRun(id, run));
  const first = commit(id, 0, 1000, parts);
  first.history = events(
    0,
    1000,
    { type: 'run_started', workflow: 'wf', version: 'v1', input: { id } },
    { type: 'workflow_task', time: 1000 },
  );
  const result = await store.commitTask(first);
  if (!result.ok) throw new Error(`could not start run ${id}: ${result.reason}`);
}

/** Whether any node could claim the run now (far in the future, so every lease has expired). */
export async function isReady(store: Store, runId: string): Promise<boolean> {
  const claimed = await store.claimReadyRuns('probe', Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER, 1000);
  for (const id of claimed) await store.releaseRun(id, 'probe');
  return claimed.includes(runId);
}
