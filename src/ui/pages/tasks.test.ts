import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskView } from '../../app/operations.js';
import type { Session } from '../auth/session.js';
import { MAX_DECISION_COMMENT } from '../../core/human-task-rules.js';
import { render } from '../static.js';
import { allowedActions, inboxPage, taskPage, waitsFor } from './tasks.js';

const session: Session = { username: 'carol', name: 'Carol', csrf: 'token', expiresAt: Number.MAX_SAFE_INTEGER };

function task(overrides: Partial<TaskView>): TaskView {
  return {
    id: 'tk_1',
    runId: 'r1',
    workflow: 'w',
    kind: 'form',
    title: 'Review',
    status: 'open',
    spec: {
      title: 'Review',
      assignees: ['bob', 'carol'],
      fields: [
        { name: 'notes', label: 'Notes', type: 'textarea' },
        { name: 'ok', label: 'OK', type: 'boolean' },
      ],
    },
    eligible: ['bob', 'carol'],
    decisions: [],
    path: '/tasks/tk_1',
    createdAt: '2026-01-02T03:04:05.000Z',
    ...overrides,
  };
}

test('the initiator is recognised however the workflow wrote the name: no Approve for @Alice', () => {
  for (const initiator of ['@alice', ' Alice ', 'ALICE']) {
    const approval = task({
      kind: 'approval',
      spec: { title: 'Deploy', approvers: ['alice', 'bob'], initiator },
      eligible: ['alice', 'bob'],
    });
    assert.deepEqual(allowedActions(approval, 'alice'), { submit: false, approve: false, reject: true, initiator: true }, initiator);
    assert.match(render(taskPage({ session: { ...session, username: 'bob' }, task: approval })), /\(not @alice, who asked for it\)/);
  }
});

test('a post that found the form answered by someone else shows what was typed, read-only, to copy', () => {
  const closed = task({
    status: 'submitted',
    outcome: { status: 'submitted', values: { notes: 'theirs' }, by: 'bob', at: '2026-01-02T03:05:00.000Z' },
    closedAt: '2026-01-02T03:05:00.000Z',
  });
  const html = render(
    taskPage({
      session,
      task: closed,
      values: { notes: 'my long\ncareful answer', ok: 'true' },
      notice: { kind: 'error', text: 'not saved' },
    }),
  );
  assert.match(html, /<h2>Your answer \(not saved\)<\/h2>/);
  assert.match(html, /<dd class="multiline" data-unsaved="notes">my long\ncareful answer<\/dd>/);
  assert.match(html, /<dd data-unsaved="ok">yes<\/dd>/);
  assert.match(html, /<dd class="multiline" data-answer="notes">theirs<\/dd>/, 'beside the recorded answer');
  assert.doesNotMatch(html, /id="task-form"/, 'no form to submit again');
  assert.doesNotMatch(render(taskPage({ session, task: closed })), /not saved/, 'nothing of the kind on a plain visit');
});

test('a task past its deadline takes no answer on its page, keeps what was typed, and waits for nobody, though its run has not closed it', () => {
  const overdue = task({ dueAt: '2026-01-03T08:03:34.000Z', overdue: true });
  assert.deepEqual(allowedActions(overdue, 'carol'), { submit: false, approve: false, reject: false, initiator: false });
  const html = render(
    taskPage({ session, task: overdue, values: { notes: 'typed late', ok: 'true' }, notice: { kind: 'error', text: 'x' } }),
  );
  assert.match(html, /The deadline passed at <time[^>]*>2026-01-03 08:03:34 UTC<\/time>: this task takes no more answers/);
  assert.doesNotMatch(html, /id="task-form"/, 'no form to submit');
  assert.match(html, /<dd class="multiline" data-unsaved="notes">typed late<\/dd>/, 'what was typed stays, to copy');
  const approval = task({
    kind: 'approval',
    spec: { title: 'Deploy', approvers: ['carol'] },
    eligible: ['carol'],
    dueAt: overdue.dueAt,
    overdue: true,
  });
  assert.doesNotMatch(render(taskPage({ session, task: approval })), /id="decision-form"/);
  assert.equal(waitsFor(overdue, 'carol'), false, 'My tasks leaves it out');
  assert.equal(waitsFor({ ...overdue, overdue: undefined }, 'carol'), true);
});

test('a decision that came too late keeps its comment on the page', () => {
  const approved = task({
    kind: 'approval',
    status: 'approved',
    spec: { title: 'Deploy', approvers: ['bob', 'carol'] },
    decisions: [{ by: 'bob', decision: 'approve', at: '2026-01-02T03:05:00.000Z' }],
  });
  assert.match(
    render(taskPage({ session, task: approved, values: { comment: 'careful: <b>db</b>' } })),
    /<h2>Your comment \(not saved\)<\/h2>\s*<blockquote class="multiline">careful: &lt;b&gt;db&lt;\/b&gt;<\/blockquote>/,
  );
});

test('times carry their zone (UTC, in <time> for the browser to show in its own); statuses read as words', () => {
  const timedOut = task({ status: 'timed_out', closedAt: '2026-01-03T03:04:05.000Z' });
  const html = render(taskPage({ session, task: timedOut }));
  assert.match(html, /<time datetime="2026-01-02T03:04:05.000Z">2026-01-02 03:04:05 UTC<\/time>/);
  assert.match(html, /<span class="badge s-timed_out">timed out<\/span>/);
  const inbox = render(inboxPage({ session, open: [task({})], count: { count: 1, more: false }, query: {}, closed: [] }));
  assert.match(inbox, /<table class="tasks stack">/);
  assert.match(inbox, /<td data-label="Due"><span class="muted">no deadline<\/span><\/td>/);
});

test('the comment box takes as long a comment as the server records', () => {
  const approval = task({ kind: 'approval', spec: { title: 'Deploy', approvers: ['carol'] }, eligible: ['carol'] });
  assert.match(
    render(taskPage({ session, task: approval })),
    new RegExp(`<textarea id="comment" name="comment" maxlength="${MAX_DECISION_COMMENT}">`),
  );
});
