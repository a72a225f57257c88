import { createSecretSource } from '../capabilities/secrets.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConflictError } from './errors.js';
import { TASK_CLOSED_EVENT } from './human-task.js';
import { childEndError } from './child-failure.js';
import type { Command, ErrorInfo, HistoryEvent, HistoryPayload, RunRecord, RunStatus } from './model.js';
import type { RunRetry } from './ports.js';
import { lastTaskStart, planRetry, type RetryInput } from './run-retry.js';
import { childExistsResolution } from './task.js';

/** A history from payloads, each at the time given (or 100 × its seq). */
function historyOf(...payloads: Array<HistoryPayload | [HistoryPayload, number]>): HistoryEvent[] {
  return payloads.map((item, seq) => {
    const [payload, at] = Array.isArray(item) ? item : [item, 100 * seq];
    return { ...payload, seq, at };
  });
}

const started: HistoryPayload = { type: 'run_started', workflow: 'wf', version: 'v1', input: null };
const task = (time: number): HistoryPayload => ({ type: 'workflow_task', time });
const failed: HistoryPayload = { type: 'run_failed', error: { name: 'Error', message: 'boom' } };

function run(id: string, fields: Partial<RunRecord> = {}): RunRecord {
  return { id, workflow: 'wf', version: 'v1', input: null, createdAt: 0, status: 'failed', updatedAt: 0, historyLength: 0, ...fields };
}

function input(history: HistoryEvent[], commands: Command[], runs: RunRecord[] = []): RetryInput {
  return {
    run: run('r', { historyLength: history.length }),
    history,
    version: 'v2',
    time: 5000,
    secrets: createSecretSource({}),
    versionOf: (workflow) => (workflow === 'child' ? 'c1' : undefined),
    replay: (kept) => {
      const resolvedSteps = new Set<number>();
      for (const event of kept) if (event.type === 'call_completed' || event.type === 'timer_fired') resolvedSteps.add(event.step);
      return Promise.resolve({ commands, resolvedSteps });
    },
    getRun: (id) => Promise.resolve(runs.find((candidate) => candidate.id === id)),
  };
}

describe('lastTaskStart', () => {
  test('is the first resolution of the last task, or its marker when it received none', () => {
    const later = historyOf(
      started,
      task(1),
      { type: 'call_scheduled', step: 0, capability: 'c', method: 'm', args: null },
      { type: 'call_failed', step: 0, error: { name: 'E', message: 'x' }, attempts: 3 },
      task(2),
      failed,
    );
    assert.equal(lastTaskStart(later), 3);
    // A limit hit outside the sandbox: its commit is the marker and the failure.
    const limit = historyOf(started, task(1), { type: 'timer_started', step: 0, fireAt: 9 }, task(2), failed);
    assert.equal(lastTaskStart(limit), 3);
    // After a task that issued nothing, the next task's resolutions begin after that task's marker.
    const quiet = historyOf(
      started,
      task(1),
      { type: 'timer_started', step: 0, fireAt: 9 },
      { type: 'timer_fired', step: 0 },
      task(2),
      { type: 'timer_fired', step: 1 },
      task(3),
      failed,
    );
    assert.equal(lastTaskStart(quiet), 5);
  });

  test('is 0 when the run failed in its first task, whose commit also holds run_started', () => {
    assert.equal(lastTaskStart(historyOf(started, task(1), failed)), 0);
  });
});

describe('planRetry', () => {
  test('puts back what the failed task received, reopens its failed calls (with their last error) and what was still open, with their options', async () => {
    const history = historyOf(
      started,
      task(100),
      { type: 'call_scheduled', step: 0, capability: 'activities', method: 'a', args: 1 },
      { type: 'timer_started', step: 1, fireAt: 9000 },
      [{ type: 'wait_started', step: 2, eventType: 'go', match: { subject: 'k' }, timeoutAt: 7000 }, 300],
      { type: 'call_scheduled', step: 3, capability: 'activities', method: 'b', args: 2 },
      { type: 'call_scheduled', step: 4, capability: 'activities', method: 'c', args: 3 },
      [{ type: 'call_completed', step: 3, value: 'B', attempts: 2 }, 777],
      { type: 'call_failed', step: 4, error: { name: 'E', message: 'down' }, attempts: 5 },
      task(900),
      failed,
    );
    const commands: Command[] = [
      { kind: 'call', step: 0, capability: 'activities', method: 'a', args: 1, options: { retry: { maxAttempts: 1 } } },
      { kind: 'timer', step: 1, fireAt: 9000 },
      { kind: 'wait', step: 2, eventType: 'go', match: { subject: 'k' }, timeoutAt: 7000 },
      { kind: 'call', step: 3, capability: 'activities', method: 'b', args: 2 },
      { kind: 'call', step: 4, capability: 'activities', method: 'c', args: 3, options: { retry: { maxAttempts: 2 } } },
    ];
    const plan = await planRetry(input(history, commands));
    assert.equal(plan.keepHistoryLength, 7);
    assert.equal(plan.expectedHistoryLength, history.length);
    assert.equal(plan.version, 'v2');
    assert.deepEqual(plan.pending, [{ resolution: { kind: 'call', step: 3, ok: true, value: 'B' }, at: 777, attempts: 2 }]);
    assert.deepEqual(plan.calls, [
      {
        runId: 'r',
        step: 0,
        capability: 'activities',
        method: 'a',
        args: 1,
        options: { retry: { maxAttempts: 1 } },
        attempts: 0,
        nextAt: 5000,
      },
      {
        runId: 'r',
        step: 4,
        capability: 'activities',
        method: 'c',
        args: 3,
        options: { retry: { maxAttempts: 2 } },
        attempts: 0,
        nextAt: 5000,
        // What its last attempt failed with: show tells why it is made again, and its capability that it may have run.
        lastError: { name: 'E', message: 'down' },
      },
    ]);
    assert.deepEqual(plan.timers, [
      { runId: 'r', step: 1, kind: 'sleep', fireAt: 9000 },
      { runId: 'r', step: 2, kind: 'wait_timeout', fireAt: 7000 },
    ]);
    assert.deepEqual(plan.waits, [
      { runId: 'r', step: 2, eventType: 'go', paths: ['subject'], key: '["k"]', registeredAt: 300, timeoutAt: 7000 },
    ]);
  });

  test('asks each child how it ended, following its continue-as-new chain', async () => {
    const ids = ['done', 'failing', 'going', 'chained', 'gone', 'taken'];
    const children = ids.map((childId, step): Command => ({ kind: 'child', step, workflow: 'child', input: null, childId }));
    const history = historyOf(
      started,
      task(1),
      ...ids.map((childId, step): HistoryPayload => ({ type: 'child_started', step, childId, workflow: 'child' })),
      { type: 'child_failed', step: 1, error: { name: 'E', message: 'child broke' } },
      task(2),
      failed,
    );
    const child = (step: number): Partial<RunRecord> => ({ parentId: 'r', parentStep: step });
    const runs = [
      run('done', { ...child(0), status: 'completed', result: 'D' }),
      run('failing', { ...child(1), status: 'failed', error: { name: 'E', message: 'child broke' } }),
      run('going', { ...child(2), status: 'running' }),
      run('chained', { ...child(3), status: 'continued', result: { continuedAs: 'chained~2' } }),
      run('chained~2', { ...child(3), status: 'completed', result: 'C' }),
      // A run with the id the parent gave, which it did not start: the start failed then, and fails again.
      run('taken', { status: 'completed', result: 'not yours' }),
    ];
    const plan = await planRetry(input(history, children, runs));
    assert.deepEqual(
      plan.pending.map((item) => item.resolution),
      [
        { kind: 'child', step: 0, ok: true, value: 'D' },
        {
          kind: 'child',
          step: 1,
          ok: false,
          error: {
            name: 'ChildRunFailedError',
            message: 'child run failing (workflow wf) failed: E: child broke',
            details: { code: 'child_run_failed', childId: 'failing', workflow: 'wf' },
            cause: { name: 'E', message: 'child broke' },
          },
        },
        { kind: 'child', step: 3, ok: true, value: 'C' },
        { kind: 'child', step: 4, ok: false, error: { name: 'NotFoundError', message: 'child run gone no longer exists' } },
        childExistsResolution({ id: 'taken', workflow: 'child', parentStep: 5 }),
      ],
    );
  });

  test('refuses to hand a parent again, on the code it failed on, the failure of a child that is still failed', async () => {
    const kid: Command = { kind: 'child', step: 0, workflow: 'child', input: null, childId: 'r.0' };
    const childError = { name: 'TypeError', message: 'invalid version segment' };
    const received = childEndError({ id: 'r.0', workflow: 'child' }, 'failed', childError);
    const history = historyOf(
      started,
      task(1),
      { type: 'child_started', step: 0, childId: 'r.0', workflow: 'child' },
      { type: 'child_failed', step: 0, error: received },
      task(2),
      { type: 'run_failed', error: received },
    );
    const child = run('r.0', { workflow: 'child', parentId: 'r', parentStep: 0, error: childError });
    const retryOf = (runError: ErrorInfo, version = 'v1', status: RunStatus = 'failed'): Promise<RunRetry> =>
      planRetry({
        ...input(history, [kid], [{ ...child, status }]),
        run: run('r', { historyLength: history.length, error: runError }),
        version,
      });
    const refusal = (error: unknown): boolean => {
      assert.ok(error instanceof ConflictError);
      assert.equal(
        error.message,
        'run r failed because its child run r.0 (workflow child) failed, and that child is still failed: retried now, r would ' +
          'receive the same failure and fail again. Retry the child first (autoflow retry r.0, with --latest once its fix is deployed), then r',
      );
      assert.deepEqual(error.details, { code: 'child_still_failed', childId: 'r.0', workflow: 'child' });
      return true;
    };
    await assert.rejects(retryOf(received), refusal);
    await assert.rejects(retryOf({ name: 'Error', message: 'release failed', cause: received }), refusal, 'wrapped by the workflow');
    await assert.rejects(retryOf(childError), refusal, 'a parent that failed before failures were wrapped: the error as is');

    // Let through: new code may handle the failure; a parent that failed otherwise; a child retried meanwhile.
    const failure = { kind: 'child', step: 0, ok: false, error: received };
    assert.deepEqual(
      (await retryOf(received, 'v2')).pending.map((item) => item.resolution),
      [failure],
    );
    assert.deepEqual(
      (await retryOf({ name: 'Error', message: 'boom' })).pending.map((item) => item.resolution),
      [failure],
    );
    assert.deepEqual((await retryOf(received, 'v1', 'running')).pending, []);
  });

  test('starts again a child whose start was refused, checked as a start is; a child that existed and is gone stays gone', async () => {
    const starts: Array<Extract<Command, { kind: 'child' }>> = [
      { kind: 'child', step: 0, workflow: 'child', input: { n: 1 }, childId: 'r.0' },
      { kind: 'child', step: 1, workflow: 'missing', input: null, childId: 'r.1' },
      { kind: 'child', step: 2, workflow: 'child', input: null, childId: 'r.2' },
    ];
    const refused = (step: number): HistoryPayload => ({
      type: 'child_failed',
      step,
      error: { name: 'NotFoundError', message: 'not deployed' },
      notStarted: true,
    });
    const history = historyOf(
      started,
      task(1),
      ...starts.map(({ step, childId, workflow }): HistoryPayload => ({ type: 'child_started', step, childId, workflow })),
      refused(0),
      refused(1),
      // The outcome of a child that ran: deleted since (retention), it is not started again.
      { type: 'child_failed', step: 2, error: { name: 'NotFoundError', message: 'not deployed' } },
      task(2),
      failed,
    );
    const plan = await planRetry(input(history, starts));
    assert.deepEqual(plan.children, [
      { id: 'r.0', workflow: 'child', version: 'c1', input: { n: 1 }, parentId: 'r', parentStep: 0, createdAt: 5000 },
    ]);
    assert.deepEqual(
      plan.pending.map((item) => item.resolution),
      [
        {
          kind: 'child',
          step: 1,
          ok: false,
          notStarted: true,
          error: { name: 'NotFoundError', message: "workflow 'missing' is not deployed; deploy it before starting it as a child" },
        },
        { kind: 'child', step: 2, ok: false, error: { name: 'NotFoundError', message: 'child run r.2 no longer exists' } },
      ],
    );
  });

  test('starts over when the first task failed, reopens a wait for a form like any wait, and refuses a run that did not fail', async () => {
    const first = await planRetry(input(historyOf(started, task(1), failed), []));
    assert.equal(first.keepHistoryLength, 0);
    assert.deepEqual([first.pending, first.calls, first.timers, first.waits], [[], [], [], []]);

    const waitingForForm = historyOf(
      started,
      task(1),
      { type: 'wait_started', step: 0, eventType: TASK_CLOSED_EVENT, match: { subject: 'tk_1' } },
      { type: 'call_scheduled', step: 1, capability: 'c', method: 'm', args: null },
      { type: 'call_failed', step: 1, error: { name: 'E', message: 'x' }, attempts: 1 },
      task(2),
      failed,
    );
    const waitCommand: Command = { kind: 'wait', step: 0, eventType: TASK_CLOSED_EVENT, match: { subject: 'tk_1' } };
    const form = await planRetry(input(waitingForForm, [waitCommand]));
    assert.deepEqual(form.waits, [
      { runId: 'r', step: 0, eventType: TASK_CLOSED_EVENT, paths: ['subject'], key: '["tk_1"]', registeredAt: 200 },
    ]);

    const completed = historyOf(started, task(1), { type: 'run_completed', result: null });
    await assert.rejects(planRetry(input(completed, [])), ConflictError);
  });
});
