import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTaskSpec, decideApproval, describeOutcome, normaliseUsername, pendingPeople, waitDeadlines } from './human-task-rules.js';
import { TASK_CLOSED_EVENT, type HumanTaskRecord } from './human-task.js';
import type { HistoryEvent } from './model.js';

function approval(spec: Record<string, string>, eligible: string[]): HumanTaskRecord {
  return {
    id: 'tk_1',
    runId: 'r1',
    workflow: 'w',
    kind: 'approval',
    title: 'Deploy',
    spec: { title: 'Deploy', approvers: eligible, ...spec },
    eligible,
    status: 'open',
    decisions: [],
    createdAt: 0,
    revision: 1,
  };
}

describe('task rules', () => {
  test('a username is compared without @, blanks or case', () => {
    for (const name of ['alice', '@alice', ' @Alice ', 'ALICE', '@ alice']) assert.equal(normaliseUsername(name), 'alice', name);
  });

  test('an initiator written @alice (or with blanks) still may not approve their own change, but may reject it', () => {
    for (const initiator of ['@alice', ' Alice ', '@ALICE']) {
      const task = approval({ initiator }, ['alice', 'bob']);
      const refused = decideApproval(task, { by: 'alice', decision: 'approve' }, 1);
      assert.equal(refused.ok, false, initiator);
      assert.equal(!refused.ok && refused.refusal.code, 'not_eligible');
      assert.equal(decideApproval(task, { by: 'alice', decision: 'reject' }, 1).ok, true);
    }
  });

  test('the initiator, who may not approve, is not among those an approval waits for (its reminders leave them out)', () => {
    assert.deepEqual(pendingPeople(approval({ initiator: '@Alice' }, ['alice', 'bob', 'carol'])), ['bob', 'carol']);
    assert.deepEqual(pendingPeople(approval({}, ['alice', 'bob'])), ['alice', 'bob']);
    const selfApproved = {
      ...approval({ initiator: 'alice' }, ['alice', 'bob']),
      spec: { title: 'Deploy', initiator: 'alice', allowSelfApproval: true },
    };
    assert.deepEqual(pendingPeople(selfApproved), ['alice', 'bob'], 'unless self-approval is allowed');
  });

  test('an approval that needs more approvers than may approve is refused at once, every problem named', () => {
    const spec = (extra: Record<string, unknown>) => ({ title: 'Deploy', approvers: ['alice', '@Bob'], ...extra });
    assert.deepEqual(checkTaskSpec('approval', spec({ required: 2 })), []);
    assert.deepEqual(checkTaskSpec('approval', spec({ required: 2, initiator: '@alice', allowSelfApproval: true })), []);
    assert.deepEqual(checkTaskSpec('approval', spec({ required: 2, initiator: '@alice' })), [
      'required is 2 but only 1 may approve: @bob (not the initiator @alice); lower required, add approvers or set allowSelfApproval',
    ]);
    assert.deepEqual(checkTaskSpec('approval', spec({ required: 3, title: '' })), [
      'title must be a non-empty string',
      'required is 3 but only 2 may approve: @alice, @bob; lower required, add approvers or set allowSelfApproval',
    ]);
    assert.deepEqual(
      checkTaskSpec('approval', { title: 'x', approvers: ['alice', 'ALICE'], required: 2 }).length,
      1,
      'one person named twice counts once',
    );
    assert.deepEqual(checkTaskSpec('approval', spec({ approvers: ['group:demo'], required: 5 })), [], 'groups are counted once expanded');
    assert.deepEqual(checkTaskSpec('approval', { title: 'x', approvers: ['alice'], initiator: 7 }), [
      'initiator must be a GitLab username',
    ]);
  });

  test('who closed a task reads from its outcome', () => {
    assert.equal(describeOutcome({ status: 'submitted', values: {}, by: 'bob', at: 'x' }), 'submitted by @bob');
    const decisions = [
      { by: 'alice', decision: 'approve', at: 'x' },
      { by: 'carol', decision: 'approve', at: 'y' },
    ];
    assert.equal(describeOutcome({ status: 'approved', decisions }), 'approved by @alice, @carol');
    assert.equal(
      describeOutcome({ status: 'rejected', decisions: [...decisions.slice(0, 1), { by: 'bob', decision: 'reject', at: 'z' }] }),
      'rejected by @bob',
    );
    assert.equal(describeOutcome({ status: 'timed_out' }), 'timed out');
    assert.equal(describeOutcome('nonsense'), undefined);
  });

  test("a task's wait has its task's deadline, not the daily re-check it wakes for; other waits keep their timeout", () => {
    const wait = (step: number, subject: string, timeoutAt: number): Extract<HistoryEvent, { type: 'wait_started' }> => ({
      seq: step,
      at: 0,
      type: 'wait_started',
      step,
      eventType: TASK_CLOSED_EVENT,
      match: { subject },
      timeoutAt,
    });
    const history: HistoryEvent[] = [
      {
        seq: 0,
        at: 0,
        type: 'call_scheduled',
        step: 1,
        capability: 'tasks',
        method: 'create',
        args: { kind: 'form', spec: {}, eligible: [] },
      },
      { seq: 1, at: 0, type: 'call_completed', step: 1, value: { id: 'tk_open', url: 'u', eligible: [] }, attempts: 1 },
      {
        seq: 2,
        at: 0,
        type: 'call_scheduled',
        step: 3,
        capability: 'tasks',
        method: 'create',
        args: { kind: 'form', spec: {}, eligible: [], dueAt: 500 },
      },
      { seq: 3, at: 0, type: 'call_completed', step: 3, value: { id: 'tk_due', url: 'u', eligible: [] }, attempts: 1 },
    ];
    const deadlineOf = waitDeadlines(history);
    assert.equal(deadlineOf(wait(2, 'tk_open', 86_400_000)), undefined, 'no timeout: the re-check is no deadline');
    assert.equal(deadlineOf(wait(4, 'tk_due', 200)), 500, 'a reminder wake-up is not the deadline either');
    assert.equal(deadlineOf(wait(5, 'tk_elsewhere', 300)), 300, 'a task this run did not open is an ordinary wait');
    assert.equal(deadlineOf({ ...wait(6, 'x', 700), eventType: 'deploy.done' }), 700);
  });
});
