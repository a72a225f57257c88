import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cloudEvent, commit, humanTask, OWNER, startRun } from './fixtures.js';
import type { ConformanceContext } from './store-conformance.js';

export function describeHumanTasks(context: ConformanceContext): void {
  describe('human tasks', () => {
    it('creates a task once by id and reads it back whole', async () => {
      const store = context.store;
      const task = humanTask('tk_1', { dueAt: 5000, eligible: ['alice', 'bob'], kind: 'approval' });
      assert.deepEqual(await store.createHumanTask(task), { created: true, task });
      const again = await store.createHumanTask({ ...task, title: 'changed' });
      assert.deepEqual(again, { created: false, task });
      assert.deepEqual(await store.getHumanTask('tk_1'), task);
      assert.equal(await store.getHumanTask('tk_none'), undefined);
    });

    it('lists newest first by eligible user, run and status, a page at a time', async () => {
      const store = context.store;
      await store.createHumanTask(humanTask('tk_a', { createdAt: 100, eligible: ['alice', 'bob'] }));
      await store.createHumanTask(humanTask('tk_b', { createdAt: 200, eligible: ['bob'], runId: 'r2' }));
      await store.createHumanTask(humanTask('tk_c', { createdAt: 300, eligible: ['alice'], status: 'submitted' }));
      await store.createHumanTask(humanTask('tk_d', { createdAt: 300, eligible: ['alice'] }));
      const ids = async (filter: Parameters<typeof store.listHumanTasks>[0]) => (await store.listHumanTasks(filter)).tasks.map((t) => t.id);
      assert.deepEqual(await ids({}), ['tk_d', 'tk_c', 'tk_b', 'tk_a']);
      assert.deepEqual(await ids({ eligible: 'ALICE' }), ['tk_d', 'tk_c', 'tk_a']);
      assert.deepEqual(await ids({ eligible: 'alice', status: 'open' }), ['tk_d', 'tk_a']);
      assert.deepEqual(await ids({ status: 'closed' }), ['tk_c']);
      assert.deepEqual(await ids({ runId: 'r2' }), ['tk_b']);
      assert.deepEqual(await ids({ eligible: 'carol' }), []);

      const first = await store.listHumanTasks({ eligible: 'alice', limit: 2 });
      assert.deepEqual(first.tasks.map((t) => t.id), ['tk_d', 'tk_c']);
      assert.ok(first.nextCursor);
      const second = await store.listHumanTasks({ eligible: 'alice', limit: 2, cursor: first.nextCursor });
      assert.deepEqual(second.tasks.map((t) => t.id), ['tk_a']);
      assert.equal(second.nextCursor, undefined);
    });

    it('updates by compare-and-set on the revision, storing the event only when the update applies', async () => {
      const store = context.store;
      await store.createHumanTask(humanTask('tk_1'));
      const event = { event: cloudEvent('closed-1', 'autoflow.task.closed'), dedupeKey: 'task:tk_1:closed', receivedAt: 2000 };
      const outcome = { status: 'submitted' as const, values: { x: 'y' }, by: 'alice', at: '1970-01-01T00:00:02.000Z' };
      const update = { id: 'tk_1', expectedRevision: 0, status: 'submitted' as const, decisions: [], outcome, closedAt: 2000, event };
      assert.equal(await store.updateHumanTask(update), true);
      assert.equal(await store.updateHumanTask({ ...update, event: { ...event, dedupeKey: 'second' } }), false, 'the revision moved on');
      const stored = await store.getHumanTask('tk_1');
      assert.deepEqual({ status: stored?.status, outcome: stored?.outcome, closedAt: stored?.closedAt, revision: stored?.revision }, {
        status: 'submitted',
        outcome,
        closedAt: 2000,
        revision: 1,
      });
      const inbox = await store.listEvents({ limit: 10 });
      assert.deepEqual(inbox.map((e) => e.id), ['closed-1']);
      assert.equal(await store.updateHumanTask({ id: 'tk_none', expectedRevision: 0, status: 'cancelled', decisions: [] }), false);
    });

    it('keeps decisions of a task that stays open', async () => {
      const store = context.store;
      await store.createHumanTask(humanTask('tk_1', { kind: 'approval' }));
      const decisions = [{ by: 'alice', decision: 'approve' as const, at: '1970-01-01T00:00:02.000Z' }];
      assert.equal(await store.updateHumanTask({ id: 'tk_1', expectedRevision: 0, status: 'open', decisions }), true);
      const stored = await store.getHumanTask('tk_1');
      assert.deepEqual({ status: stored?.status, decisions: stored?.decisions, outcome: stored?.outcome }, { status: 'open', decisions, outcome: undefined });
    });

    it("cancels a run's open tasks when the run ends, keeping an approval's decisions", async () => {
      const store = context.store;
      await startRun(store, 'r1');
      const decisions = [{ by: 'bob', decision: 'approve' as const, at: '1970-01-01T00:00:02.000Z' }];
      await store.createHumanTask(humanTask('tk_form'));
      await store.createHumanTask(humanTask('tk_vote', { kind: 'approval', decisions }));
      await store.createHumanTask(humanTask('tk_done', { status: 'submitted', outcome: { status: 'timed_out' }, closedAt: 1500 }));
      await store.createHumanTask(humanTask('tk_other', { runId: 'r2' }));
      await store.claimReadyRuns(OWNER, 1000, 10_000, 10);
      const ended = commit('r1', 2, 3000, { status: { status: 'completed', result: null } });
      assert.deepEqual(await store.commitTask(ended), { ok: true, pending: [] });
      const form = await store.getHumanTask('tk_form');
      assert.deepEqual({ status: form?.status, outcome: form?.outcome, closedAt: form?.closedAt }, { status: 'cancelled', outcome: { status: 'cancelled' }, closedAt: 3000 });
      assert.deepEqual((await store.getHumanTask('tk_vote'))?.outcome, { status: 'cancelled', decisions });
      assert.equal((await store.getHumanTask('tk_done'))?.status, 'submitted', 'a closed task keeps its outcome');
      assert.equal((await store.getHumanTask('tk_other'))?.status, 'open', "another run's task stays open");
    });
  });
}
