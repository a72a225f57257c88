import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreError } from '../../core/errors.js';
import type { PendingResolution } from '../../core/model.js';
import type { RunRetry, Store } from '../../core/ports.js';
import { childExistsResolution, newRunRecord } from '../../core/task.js';
import {
  call,
  cloudEvent,
  commit,
  DIVERGENCE,
  events,
  failedRun,
  humanTask,
  newRun,
  OWNER,
  startRun,
  stuckRun,
  timer,
  wait,
} from './fixtures.js';
import type { ConformanceContext } from './store-conformance.js';

/** Everything a retry can change about these runs, to show that a refused one changed none of it. */
async function snapshot(store: Store, runIds: string[]) {
  const runs = [];
  for (const runId of runIds) {
    runs.push({
      run: await store.getRun(runId),
      history: await store.loadHistory(runId),
      pending: await store.loadPending(runId),
      calls: await store.listCalls(runId),
      logs: await store.listLogs(runId),
      retries: await store.listRunRetries(runId),
    });
  }
  return {
    runs,
    waits: await store.findWaits('com.example.thing', '["x"]'),
    nextDueAt: await store.nextDueAt(),
    queue: await store.queueStats(),
  };
}

/** A mailbox as a retry gives it: without the ids the store assigned. */
const given = (pending: PendingResolution[]) =>
  pending.map(({ resolution, at, attempts }) => (attempts === undefined ? { resolution, at } : { resolution, at, attempts }));

/** A retry of `runId` that would open a call, a sleep and a wait, from history length 2. */
function retryOf(runId: string, expectedHistoryLength: number, expectedUpdatedAt: number): RunRetry {
  return {
    runId,
    expectedHistoryLength,
    expectedUpdatedAt,
    keepHistoryLength: 2,
    version: 'v2',
    at: 5000,
    pending: [{ resolution: { kind: 'timer', step: 8 }, at: 4000 }],
    calls: [call(runId, 9, 5000)],
    timers: [timer(runId, 10, 6000)],
    waits: [wait(runId, 11)],
  };
}

const notATaskStart = (error: unknown) => error instanceof StoreError && /not where a workflow task begins/.test(error.message);

export function describeRetryRun(context: ConformanceContext): void {
  describe('retryRun', () => {
    it('runs a failed run again from where its failing task began, with its mailbox and outstanding work back', async () => {
      const store = context.store;
      const retry = await failedRun(store, 'r1');
      const kept = (await store.loadHistory('r1')).slice(0, 4);
      assert.equal(kept.length, 4);

      assert.equal(await store.retryRun(retry), true);
      assert.deepEqual(await store.loadHistory('r1'), kept, 'the history before the failing task, and nothing after');
      assert.deepEqual(
        (await store.listLogs('r1')).map((l) => l.index),
        [2000],
        'the failing task’s log line is gone',
      );
      assert.deepEqual(await store.getRun('r1'), { ...newRun('r1'), version: 'v2', status: 'running', updatedAt: 5000, historyLength: 4 });
      assert.deepEqual(given(await store.loadPending('r1')), retry.pending, 'in the order given, with their times and attempts');
      assert.deepEqual(
        await store.queueStats(),
        { readyRuns: 1, oldestReadyAt: 5000, byWorkflow: [{ workflow: 'wf', readyRuns: 1, oldestReadyAt: 5000 }] },
        'ready since the retry',
      );
      assert.deepEqual(await store.claimReadyRuns(OWNER, 5000, 60_000, 10), ['r1'], 'the lease of the node that failed it is gone');

      assert.equal(await store.nextDueAt(), 5000);
      assert.deepEqual(await store.listCalls('r1'), [call('r1', 2, 5000)]);
      assert.deepEqual(await store.claimDueCalls(OWNER, 5000, 60_000, 10), [call('r1', 2, 5000)], 'unleased, due at once');
      assert.deepEqual(await store.findWaits('com.example.thing', '["x"]'), [wait('r1', 4)]);
      assert.deepEqual(await store.fireDueTimers(8999, 10), []);
      assert.deepEqual(await store.fireDueTimers(9000, 10), ['r1']);
      const pending = await store.loadPending('r1');
      assert.deepEqual(given(pending), [...retry.pending, { resolution: { kind: 'timer', step: 3 }, at: 9000 }]);

      // The next task continues the kept history under the lease claimed above.
      const next = commit('r1', 4, 9500, { consumedPending: pending.map((p) => p.id) });
      assert.deepEqual(await store.commitTask(next), { ok: true, pending: [] });
      assert.deepEqual(await store.loadHistory('r1'), [...kept, ...next.history]);
      assert.equal((await store.getRun('r1'))?.historyLength, 5);
    });

    it('keeps what a failed run received: once retried, a lookback never brings it an event it received before', async () => {
      const store = context.store;
      await startRun(store, 'r1', { waits: [wait('r1', 1)] });
      const { seq } = await store.insertEvent(cloudEvent('x1'), 'k1', 1500);
      await store.routeEvent({ eventSeq: seq, newRuns: [], deliveries: [{ runId: 'r1', step: 1 }], markRouted: true });
      const [received] = await store.loadPending('r1');
      assert.ok(received);
      const error = { name: 'Error', message: 'boom' };
      const failing = commit('r1', 2, 2000, {
        consumedPending: [received.id],
        history: events(
          2,
          2000,
          { type: 'wait_satisfied', step: 1, event: cloudEvent('x1') },
          { type: 'workflow_task', time: 2000 },
          { type: 'run_failed', error },
        ),
        status: { status: 'failed', error },
      });
      assert.equal((await store.commitTask(failing)).ok, true);
      const retry: RunRetry = {
        runId: 'r1',
        expectedHistoryLength: 5,
        expectedUpdatedAt: 2000,
        keepHistoryLength: 2,
        version: 'v1',
        at: 3000,
        pending: [{ resolution: received.resolution, at: received.at }],
        calls: [],
        timers: [],
        // Say the retried code goes on to wait for such an event again: registered after it, a lookback's.
        waits: [wait('r1', 3)],
      };
      assert.equal(await store.retryRun(retry), true);
      const lookback = await store.routeEvent({ eventSeq: seq, newRuns: [], deliveries: [{ runId: 'r1', step: 3 }], markRouted: false });
      assert.deepEqual(lookback.deliveredRunIds, [], 'x1 reached the run before it failed');
      assert.deepEqual(given(await store.loadPending('r1')), retry.pending, 'only what the retry put back');
    });

    it('leaves a retried run without resolutions unready: what it opened again makes it ready', async () => {
      const store = context.store;
      const retry: RunRetry = { ...(await failedRun(store, 'r1')), pending: [] };
      assert.equal(await store.retryRun(retry), true);
      assert.deepEqual(await store.queueStats(), { readyRuns: 0, oldestReadyAt: undefined, byWorkflow: [] });
      assert.deepEqual(await store.claimReadyRuns(OWNER, 5000, 60_000, 10), [], 'nothing for a workflow task to do yet');
      const [reopened] = await store.claimDueCalls(OWNER, 5000, 60_000, 10);
      assert.ok(reopened);
      assert.equal(
        await store.resolveCall('r1', reopened.step, { kind: 'call', step: reopened.step, ok: true, value: 2 }, 1, 5100, OWNER),
        true,
      );
      assert.deepEqual(await store.claimReadyRuns(OWNER, 5100, 60_000, 10), ['r1']);
    });

    it('starts the children it gives as a task does, ready; an id another run holds refuses that start in the run’s mailbox', async () => {
      const store = context.store;
      await startRun(store, 'holder');
      const holder = await store.getRun('holder');
      const retry: RunRetry = { ...(await failedRun(store, 'r1')), pending: [] };
      const kid = newRun('r1.6', { workflow: 'kid', parentId: 'r1', parentStep: 6, createdAt: 5000 });
      const taken = newRun('holder', { workflow: 'kid', parentId: 'r1', parentStep: 7, createdAt: 5000 });
      assert.equal(await store.retryRun({ ...retry, children: [kid, taken] }), true);
      assert.deepEqual(await store.getRun('r1.6'), newRunRecord(kid));
      assert.deepEqual(await store.getRun('holder'), holder, 'the run that holds the id is left alone');
      assert.deepEqual(given(await store.loadPending('r1')), [{ resolution: childExistsResolution(taken), at: 5000 }]);
      assert.deepEqual((await store.claimReadyRuns(OWNER, 5000, 60_000, 10)).sort(), ['r1', 'r1.6']);
    });

    it('opens again the forms and approvals its failure cancelled, with their decisions, and no others', async () => {
      const store = context.store;
      const decisions = [{ by: 'bob', decision: 'approve' as const, at: '1970-01-01T00:00:02.000Z' }];
      await store.createHumanTask(humanTask('tk_form'));
      await store.createHumanTask(humanTask('tk_vote', { kind: 'approval', decisions }));
      await store.createHumanTask(humanTask('tk_earlier', { status: 'cancelled', outcome: { status: 'cancelled' }, closedAt: 2500 }));
      await store.createHumanTask(humanTask('tk_other', { runId: 'r2' }));
      const retry = await failedRun(store, 'r1');
      const cancelled = await store.getHumanTask('tk_vote');
      assert.equal(cancelled?.status, 'cancelled');

      assert.equal(await store.retryRun(retry), true);
      const vote = await store.getHumanTask('tk_vote');
      assert.deepEqual(vote, { ...humanTask('tk_vote', { kind: 'approval', decisions }), revision: cancelled.revision + 1 });
      assert.equal((await store.getHumanTask('tk_form'))?.status, 'open');
      assert.deepEqual(
        (await store.listHumanTasks({ eligible: 'alice', status: 'open' })).tasks.map((task) => task.id).sort(),
        ['tk_form', 'tk_other', 'tk_vote'],
        'back in the inbox',
      );
      const earlier = await store.getHumanTask('tk_earlier');
      assert.deepEqual([earlier?.status, earlier?.closedAt], ['cancelled', 2500], 'closed before the failure: it stays closed');
    });

    it('starts a failed run over from 0: its whole history and every log line go', async () => {
      const store = context.store;
      const retry = await failedRun(store, 'r1');
      const over: RunRetry = { ...retry, keepHistoryLength: 0, pending: [], calls: [], timers: [], waits: [] };
      assert.equal(await store.retryRun(over), true);
      assert.deepEqual(await store.loadHistory('r1'), []);
      assert.deepEqual(await store.listLogs('r1'), []);
      assert.deepEqual(await store.getRun('r1'), { ...newRun('r1'), version: 'v2', status: 'running', updatedAt: 5000, historyLength: 0 });
      assert.deepEqual(await store.loadPending('r1'), []);
      assert.deepEqual(await store.listCalls('r1'), []);
      assert.deepEqual(await store.claimReadyRuns(OWNER, 5000, 60_000, 10), ['r1']);
      const first = commit('r1', 0, 6000, {
        history: events(
          0,
          6000,
          { type: 'run_started', workflow: 'wf', version: 'v2', input: { id: 'r1' } },
          { type: 'workflow_task', time: 6000 },
        ),
      });
      assert.deepEqual(await store.commitTask(first), { ok: true, pending: [] });
      assert.deepEqual(await store.loadHistory('r1'), first.history);
    });

    it('records each retry with who asked, the version, where the history was cut and the failure it answered', async () => {
      const store = context.store;
      await startRun(store, 'never');
      const retry = await failedRun(store, 'r1');
      assert.deepEqual(await store.listRunRetries('r1'), [], 'not retried yet');
      assert.equal(await store.retryRun({ ...retry, by: 'alice' }), true);
      const first = { at: 5000, by: 'alice', version: 'v2', keptHistoryLength: 4, previousError: { name: 'Error', message: 'boom' } };
      assert.deepEqual(await store.listRunRetries('r1'), [first]);

      // It fails again at the very time of the retry (a virtual clock), and is retried again, through the API.
      assert.deepEqual(await store.claimReadyRuns(OWNER, 5000, 60_000, 10), ['r1']);
      const failing = commit('r1', 4, 5000, {
        consumedPending: (await store.loadPending('r1')).map((p) => p.id),
        history: events(
          4,
          5000,
          { type: 'workflow_task', time: 5000 },
          { type: 'run_failed', error: { name: 'TypeError', message: 'again' } },
        ),
        status: { status: 'failed', error: { name: 'TypeError', message: 'again' } },
      });
      assert.equal((await store.commitTask(failing)).ok, true);
      const again: RunRetry = {
        ...retry,
        expectedHistoryLength: 6,
        expectedUpdatedAt: 5000,
        version: 'v3',
        pending: [],
        calls: [],
        timers: [],
        waits: [],
      };
      assert.equal(await store.retryRun(again), true);
      assert.equal(await store.retryRun(again), false, 'refused: it is running');
      assert.deepEqual(await store.listRunRetries('r1'), [
        first,
        { at: 5000, version: 'v3', keptHistoryLength: 4, previousError: { name: 'TypeError', message: 'again' } },
      ]);
      assert.deepEqual(await store.listRunRetries('never'), []);
    });

    it('refuses, changing nothing, a run that is running or completed, failed at another length or time, or unknown', async () => {
      const store = context.store;
      await startRun(store, 'running');
      await startRun(store, 'completed');
      assert.equal((await store.commitTask(commit('completed', 2, 2000, { status: { status: 'completed', result: 1 } }))).ok, true);
      await failedRun(store, 'failed');
      const ids = ['running', 'completed', 'failed'];
      const before = await snapshot(store, ids);

      assert.equal(await store.retryRun(retryOf('running', 2, 1000)), false);
      assert.equal(await store.retryRun(retryOf('completed', 3, 2000)), false);
      assert.equal(await store.retryRun(retryOf('failed', 7, 3000)), false);
      assert.equal(await store.retryRun(retryOf('failed', 9, 3000)), false);
      assert.equal(await store.retryRun(retryOf('failed', 8, 2999)), false, 'an earlier failure at the same length');
      assert.equal(await store.retryRun({ ...retryOf('nope', 0, 0), keepHistoryLength: 0 }), false);

      assert.deepEqual(await snapshot(store, ids), before);
      assert.equal(await store.getRun('nope'), undefined);
      assert.deepEqual(await store.countRunsByStatus(), { running: 1, completed: 1, failed: 1 });
    });

    it('retries a run once: a second retry finds it running and changes nothing', async () => {
      const store = context.store;
      const retry = await failedRun(store, 'r1');
      assert.equal(await store.retryRun(retry), true);
      const after = await snapshot(store, ['r1']);
      assert.equal(await store.retryRun(retry), false);
      assert.equal(await store.retryRun({ ...retry, expectedHistoryLength: 4 }), false);
      assert.deepEqual(await snapshot(store, ['r1']), after);
    });

    it('takes a stuck run back to running whole: its history, calls, timers, waits and mailbox stay, and it is ready at once', async () => {
      const store = context.store;
      await startRun(store, 's1', {
        calls: [call('s1', 2, 900_000)],
        timers: [timer('s1', 3, 1500), timer('s1', 5, 9000)],
        waits: [wait('s1', 4)],
      });
      assert.deepEqual(await store.fireDueTimers(1500, 10), ['s1']);
      const retry = await stuckRun(store, 's1', 2, 2000);
      assert.deepEqual(await store.claimReadyRuns(OWNER, 2500, 60_000, 10), [], 'a stuck run waits for a fix');
      const before = await snapshot(store, ['s1']);

      assert.equal(await store.retryRun({ ...retry, expectedUpdatedAt: 1999 }), false, 'stuck at another time');
      const cuts = (error: unknown) => error instanceof StoreError && /goes on from where it stopped/.test(error.message);
      await assert.rejects(store.retryRun({ ...retry, keepHistoryLength: 0 }), cuts);
      await assert.rejects(store.retryRun({ ...retry, timers: [timer('s1', 6, 7000)] }), cuts);
      assert.deepEqual(await snapshot(store, ['s1']), before, 'refused retries changed nothing');

      assert.equal(await store.retryRun(retry), true);
      const [run] = before.runs;
      const { error: _divergence, ...stuck } = run!.run!;
      assert.deepEqual(await store.getRun('s1'), { ...stuck, status: 'running', version: 'v2', updatedAt: 5000 });
      const after = await snapshot(store, ['s1']);
      assert.deepEqual(
        [after.runs[0]?.history, after.runs[0]?.pending, after.runs[0]?.calls, after.waits],
        [run?.history, run?.pending, run?.calls, before.waits],
      );
      assert.deepEqual(await store.listRunRetries('s1'), [{ at: 5000, version: 'v2', keptHistoryLength: 2, previousError: DIVERGENCE }]);
      assert.deepEqual(await store.claimReadyRuns(OWNER, 5000, 60_000, 10), ['s1'], 'ready at once, for what reached it');
      assert.equal(await store.retryRun(retry), false, 'retried once');
    });

    it('throws a StoreError, changing nothing, for a retry point outside the history or a row of another run', async () => {
      const store = context.store;
      await startRun(store, 'other');
      const retry = await failedRun(store, 'r1');
      const before = await snapshot(store, ['r1', 'other']);
      await assert.rejects(store.retryRun({ ...retry, keepHistoryLength: 9 }), notATaskStart);
      await assert.rejects(store.retryRun({ ...retry, keepHistoryLength: -1 }), notATaskStart);
      await assert.rejects(
        store.retryRun({ ...retry, calls: [call('other', 2, 5000)] }),
        (error: unknown) => error instanceof StoreError && /of its own run/.test(error.message),
      );
      assert.deepEqual(await snapshot(store, ['r1', 'other']), before);
      assert.equal(await store.retryRun(retry), true, 'the run can still be retried');
    });
  });
}
