import assert from 'node:assert/strict';
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
import type { HumanTaskRecord } from '../../core/human-task.js';
import type { RunRetry, Store, TaskCommit } from '../../core/ports.js';

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

/** A run created at `createdAt` that ends with `status` in one task at `endedAt` (its updatedAt). */
export async function endedRun(
  store: Store,
  id: string,
  createdAt: number,
  endedAt: number,
  status: 'completed' | 'failed' | 'cancelled' = 'failed',
  workflow = 'wf',
): Promise<void> {
  await store.createRun(newRun(id, { createdAt, workflow }));
  const ending = status === 'failed' ? { status, error: { name: 'Error', message: `${id} broke` } } : { status };
  const result = await store.commitTask(commit(id, 0, endedAt, { status: ending }));
  if (!result.ok) throw new Error(`could not end run ${id}: ${result.reason}`);
}

/** Whether any node could claim the run now (far in the future, so every lease has expired). */
export async function isReady(store: Store, runId: string): Promise<boolean> {
  const claimed = await store.claimReadyRuns('probe', Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER, 1000);
  for (const id of claimed) await store.releaseRun(id, 'probe');
  return claimed.includes(runId);
}

/** What a stuck run's replay diverged on, as stuckRun records it. */
export const DIVERGENCE = { name: 'NondeterminismError', message: 'replay diverged at step 2' };

/**
 * Makes run `id`, whose history holds `historyLength` events, stuck at `at` (as the engine parks a run whose replay
 * diverged: nothing of its history, calls, timers or waits changes). Returns the retry that takes it back whole, to v2.
 */
export async function stuckRun(store: Store, id: string, historyLength: number, at: number): Promise<RunRetry> {
  const parked = await store.commitTask(commit(id, historyLength, at, { at, history: [], status: { status: 'stuck', error: DIVERGENCE } }));
  if (!parked.ok) throw new Error(`could not park run ${id} as stuck: ${parked.reason}`);
  return {
    runId: id,
    expectedHistoryLength: historyLength,
    expectedUpdatedAt: at,
    keepHistoryLength: historyLength,
    version: 'v2',
    at: 5000,
    pending: [],
    calls: [],
    timers: [],
    waits: [],
  };
}

/**
 * A run that failed in its third workflow task, each task one history row:
 * 1. seq 0–1 at 1000 (startRun);
 * 2. seq 2–3 at 2000: log line 2000, calls 1 and 2, sleeps 3 (until 9000) and 5 (until 2500), a wait (step 4);
 *    call 1 completes (reported at 2600), sleep 5 fires at 2500, and `OTHER` claims the run until 100,000;
 * 3. seq 4–7 at 3000, by `OTHER`: takes both, logs line 4000 and fails the run.
 *
 * Returns the retry that runs task 3 again at 5000 on `v2`: what task 3 took back in the mailbox, in
 * its order (not that of their times), call 2 due at once, sleep 3 and the wait.
 */
export async function failedRun(store: Store, id: string): Promise<RunRetry> {
  await startRun(store, id);
  const second = commit(id, 2, 2000, {
    history: events(
      2,
      2000,
      { type: 'workflow_task', time: 2000 },
      { type: 'call_scheduled', step: 1, capability: 'http', method: 'request', args: { url: 'https://x/1' } },
    ),
    logs: [{ runId: id, index: 2000, at: 2000, level: 'info', message: 'second task' }],
    calls: [call(id, 1, 2000), call(id, 2, 2000)],
    timers: [timer(id, 3, 9000), timer(id, 5, 2500)],
    waits: [wait(id, 4)],
  });
  if (!(await store.commitTask(second)).ok) throw new Error(`could not commit the second task of run ${id}`);
  const completed = { kind: 'call' as const, step: 1, ok: true as const, value: 'one' };
  if (!(await store.resolveCall(id, 1, completed, 1, 2600))) throw new Error(`could not resolve call 1 of run ${id}`);
  await store.fireDueTimers(2500, 1000);
  await store.claimReadyRuns(OTHER, 2600, 100_000, 1000);
  const failing = commit(id, 4, 3000, {
    owner: OTHER,
    consumedPending: (await store.loadPending(id)).map((p) => p.id),
    history: events(
      4,
      3000,
      { type: 'call_completed', step: 1, value: 'one', attempts: 1 },
      { type: 'timer_fired', step: 5 },
      { type: 'workflow_task', time: 3000 },
      { type: 'run_failed', error: { name: 'Error', message: 'boom' } },
    ),
    logs: [{ runId: id, index: 4000, at: 3000, level: 'error', message: 'failing task' }],
    status: { status: 'failed', error: { name: 'Error', message: 'boom' } },
  });
  if (!(await store.commitTask(failing)).ok) throw new Error(`could not fail run ${id}`);
  return {
    runId: id,
    expectedHistoryLength: 8,
    expectedUpdatedAt: 3000,
    keepHistoryLength: 4,
    version: 'v2',
    at: 5000,
    pending: [
      { resolution: completed, at: 2600, attempts: 1 },
      { resolution: { kind: 'timer', step: 5 }, at: 2500 },
    ],
    calls: [call(id, 2, 5000)],
    timers: [timer(id, 3, 9000)],
    waits: [wait(id, 4)],
  };
}

/** A human task of run `r1` unless `overrides` say otherwise: an open form for alice. */
export function humanTask(id: string, overrides: Partial<HumanTaskRecord> = {}): HumanTaskRecord {
  return {
    id,
    runId: 'r1',
    workflow: 'wf',
    kind: 'form',
    title: `task ${id}`,
    spec: { title: `task ${id}`, assignees: ['alice'], fields: [{ name: 'x', label: 'X', type: 'text' }] },
    eligible: ['alice'],
    status: 'open',
    decisions: [],
    createdAt: 1000,
    revision: 0,
    ...overrides,
  };
}

/** What a refused retry of a run must leave as it was. */
export async function runSnapshot(store: Store, id: string) {
  return { run: await store.getRun(id), history: await store.loadHistory(id), logs: await store.listLogs(id) };
}

/**
 * The SQL stores keep a task's history as one row: once retries of the failedRun `retry` from inside
 * a row were refused, the run is as `before`, with nothing opened, and a retry from where its second
 * task begins works, taking that task's log line with it.
 */
export async function assertRetryFromTaskStartOnly(
  store: Store,
  retry: RunRetry,
  before: Awaited<ReturnType<typeof runSnapshot>>,
): Promise<void> {
  assert.deepEqual(await runSnapshot(store, retry.runId), before);
  assert.equal(before.run?.status, 'failed');
  assert.deepEqual(await store.loadPending(retry.runId), []);
  assert.deepEqual(await store.listCalls(retry.runId), []);
  assert.equal(await store.retryRun({ ...retry, keepHistoryLength: 2 }), true);
  assert.deepEqual(await store.loadHistory(retry.runId), before.history.slice(0, 2));
  assert.deepEqual(await store.listLogs(retry.runId), []);
}
