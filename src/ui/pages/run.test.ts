import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunView } from '../../app/operations.js';
import { TASK_CLOSED_EVENT, taskClosedEvent, type HumanTaskOutcome } from '../../core/human-task.js';
import type { HistoryEvent } from '../../core/model.js';
import { render } from '../static.js';
import { runPage } from './run.js';

const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
const run: RunView = {
  id: 'r1',
  workflow: 'review',
  version: 'abcdef0123456789',
  status: 'cancelled',
  input: null,
  createdAt: new Date(t0).toISOString(),
  updatedAt: new Date(t0 + 5000).toISOString(),
};
/** The page of `shown`, with no history, logs, tasks, calls or retries. */
const pageOf = (shown: RunView): string =>
  render(
    runPage({
      session: { username: 'alice', name: 'A', csrf: 't', expiresAt: 1 },
      run: shown,
      history: [],
      logs: [],
      tasks: [],
      children: [],
      calls: [],
      retries: [],
      now: t0,
    }),
  );
const closed = (step: number, id: string, data: unknown): HistoryEvent => ({
  seq: step + 10,
  at: t0 + 3000,
  type: 'wait_satisfied',
  step,
  event: taskClosedEvent(id, data as HumanTaskOutcome, t0 + 3000).event,
});

test("the run's history says who answered each task and who cancelled; a form's daily re-check is no deadline", () => {
  const history: HistoryEvent[] = [
    { seq: 0, at: t0, type: 'run_started', workflow: 'review', version: 'abcdef0123456789', input: null },
    {
      seq: 1,
      at: t0,
      type: 'call_scheduled',
      step: 1,
      capability: 'tasks',
      method: 'create',
      args: { kind: 'form', spec: {}, eligible: ['bob'] },
    },
    { seq: 2, at: t0, type: 'call_completed', step: 1, value: { id: 'tk_a', url: 'u', eligible: ['bob'] }, attempts: 1 },
    { seq: 3, at: t0, type: 'wait_started', step: 2, eventType: TASK_CLOSED_EVENT, match: { subject: 'tk_a' }, timeoutAt: t0 + 86_400_000 },
    closed(2, 'tk_a', { status: 'submitted', values: {}, by: 'bob', at: 'x' }),
    closed(4, 'tk_b', { status: 'rejected', decisions: [{ by: 'carol', decision: 'reject', at: 'y' }] }),
    { seq: 20, at: t0 + 4000, type: 'cancel_requested', reason: 'not needed', by: 'alice' },
    { seq: 21, at: t0 + 4000, type: 'patch_marker', patchId: 'tasks-cancel-ends-result' },
    { seq: 22, at: t0 + 4000, type: 'patch_marker', patchId: 'skip-draft' },
  ];
  const html = render(
    runPage({
      session: { username: 'alice', name: 'A', csrf: 't', expiresAt: 1 },
      run,
      history,
      logs: [],
      tasks: [],
      children: [],
      calls: [],
      retries: [],
      now: t0,
    }),
  );
  assert.match(html, /wait #2 for an answer to task tk_a \(no deadline\)/);
  assert.doesNotMatch(html, /until 2026-01-03/, 'the re-check a day later reads as no deadline');
  assert.match(html, /wait #2: task tk_a submitted by @bob/);
  assert.match(html, /wait #4: task tk_b rejected by @carol/);
  assert.match(html, /cancellation requested by @alice: not needed/);
  assert.match(
    html,
    /patch tasks-cancel-ends-result \(AutoFlow&#39;s own, for runs that began before a change of its helpers; nothing to do\)/,
  );
  assert.match(html, /patch skip-draft</, "the author's own marker is shown as it is");
});

test("a failed run's error reads with what caused it", () => {
  const failed: RunView = {
    ...run,
    status: 'failed',
    error: {
      name: 'Error',
      message: 'release blocked',
      cause: { name: 'ActivityError', message: 'ticket refused', cause: { name: 'Error', message: 'quota' } },
    },
  };
  const html = pageOf(failed);
  assert.match(html, /caused by <strong>ActivityError<\/strong>: ticket refused/);
  assert.match(html, /caused by <strong>Error<\/strong>: quota/);
});

test('a running or stuck run offers cancel and terminate; an ended one offers neither', () => {
  const page = (status: RunView['status']) => pageOf({ ...run, status });
  for (const status of ['running', 'stuck'] as const) {
    assert.match(page(status), /name="action" value="cancel"/, status);
    assert.match(page(status), /name="action" value="terminate"/, status);
  }
  for (const status of ['completed', 'failed', 'cancelled', 'continued'] as const) {
    assert.doesNotMatch(page(status), /value="cancel"|value="terminate"/, status);
  }
});

test('a failed or stuck run offers a retry on its own version and on the latest; others do not', () => {
  const page = (status: RunView['status']) => pageOf({ ...run, status });
  for (const status of ['failed', 'stuck'] as const) {
    assert.match(page(status), /name="action" value="retry"/, status);
    assert.match(page(status), /name="version" value="same"/, status);
    assert.match(page(status), /name="version" value="latest"/, status);
  }
  assert.match(page('stuck'), /from where it stopped/);
  for (const status of ['running', 'queued', 'completed', 'cancelled', 'continued'] as const) {
    assert.doesNotMatch(page(status), /value="retry"/, status);
  }
});

test("a long run's page lists the latest events it was given, says how many there are in all, and keeps the run's bar", () => {
  const started: HistoryEvent = { seq: 0, at: t0, type: 'run_started', workflow: 'review', version: 'abcdef0123456789', input: null };
  const latest: HistoryEvent[] = Array.from({ length: 3 }, (_, i) => ({
    seq: 5000 + i,
    at: t0 + 1000 + i,
    type: 'timer_fired',
    step: 5000 + i,
  }));
  const html = render(
    runPage({
      session: { username: 'alice', name: 'A', csrf: 't', expiresAt: 1 },
      run: { ...run, status: 'running' },
      history: latest,
      historyLength: 5003,
      firstEvent: started,
      logs: [],
      tasks: [],
      children: [],
      calls: [],
      retries: [],
      now: t0 + 2000,
    }),
  );
  assert.match(html, /The latest 3 of 5003 events; <code>autoflow show r1<\/code> or the API has them all\./);
  assert.equal((html.match(/<li id="h\d+"/g) ?? []).length, 3);
  assert.match(html, /run review/, "the timeline's bar of the run, from its first event");
});

test("a log line's time is a <time> the page's script shows in the browser's zone, as the run's own times are", () => {
  const html = render(
    runPage({
      session: { username: 'alice', name: 'A', csrf: 't', expiresAt: 1 },
      run,
      history: [],
      logs: [{ runId: run.id, index: 0, at: t0 + 1000, level: 'info', message: 'about to fail' }],
      tasks: [],
      children: [],
      calls: [],
      retries: [],
      now: t0,
    }),
  );
  assert.ok(html.includes(`<time datetime="${new Date(t0 + 1000).toISOString()}">`), html);
  assert.match(html, /<\/time> info {2}about to fail/);
});

test('a run with more log lines than the page shows says where to read them all', () => {
  const logs = [{ runId: 'r1', index: 1000, at: t0, level: 'info' as const, message: 'first' }];
  const page = (moreLogs: boolean): string =>
    render(
      runPage({
        session: { username: 'alice', name: 'A', csrf: 't', expiresAt: 1 },
        run,
        history: [],
        logs,
        moreLogs,
        tasks: [],
        children: [],
        calls: [],
        retries: [],
        now: t0,
      }),
    );
  assert.match(page(true), /The first 1 lines; <code>autoflow logs r1<\/code> or the API has them all\./);
  assert.doesNotMatch(page(false), /The first/);
});

test("the children list gives each child run's status, in the order they started; the history names the child that ended", () => {
  const child = (id: string, status: RunView['status'], at: number): RunView => ({
    ...run,
    id,
    workflow: 'deploy',
    status,
    parentId: 'r1',
    createdAt: new Date(t0 + at).toISOString(),
  });
  const history: HistoryEvent[] = [
    { seq: 0, at: t0, type: 'run_started', workflow: 'review', version: 'abcdef0123456789', input: null },
    { seq: 1, at: t0, type: 'child_started', step: 1, childId: 'r1-api', workflow: 'deploy' },
    { seq: 2, at: t0, type: 'child_started', step: 2, childId: 'r1-web', workflow: 'deploy' },
    { seq: 3, at: t0 + 1, type: 'child_started', step: 3, childId: 'r1-db', workflow: 'deploy' },
    { seq: 4, at: t0 + 900, type: 'child_completed', step: 1, value: null },
    { seq: 5, at: t0 + 950, type: 'child_failed', step: 2, error: { name: 'ChildRunFailedError', message: 'refused' } },
    { seq: 6, at: t0 + 990, type: 'child_completed', step: 7, value: null },
    { seq: 7, at: t0 + 1000, type: 'run_cancelled' },
  ];
  // Newest first, as listRuns answers.
  const children = [child('r1-db', 'cancelled', 1), child('r1-web', 'failed', 0), child('r1-api', 'completed', 0)];
  const page = (moreChildren: boolean) =>
    render(
      runPage({
        session: { username: 'alice', name: 'A', csrf: 't', expiresAt: 1 },
        run,
        history,
        logs: [],
        tasks: [],
        children,
        moreChildren,
        calls: [],
        retries: [],
        now: t0,
      }),
    );
  const html = page(false);
  const listed = [...html.matchAll(/<li data-run="([^"]+)"><a href="\/runs\/[^"]+">[^<]+<\/a> \(deploy\) <span class="badge s-(\w+)">/g)];
  assert.deepEqual(
    listed.map((match) => [match[1], match[2]]),
    [
      ['r1-api', 'completed'],
      ['r1-web', 'failed'],
      ['r1-db', 'cancelled'],
    ],
  );
  assert.doesNotMatch(html, /lists them all/);
  assert.match(page(true), /The latest 3 child runs; <code>autoflow runs --parent r1<\/code> lists them all\./);
  const line = (seq: number) => new RegExp(`<li id="h${seq}"[^>]*>.*?</span> ([^<]*)</li>`).exec(html)?.[1];
  assert.deepEqual(
    [line(4), line(5), line(6)],
    ['child #1 r1-api completed', 'child #2 r1-web failed: refused', 'child #7 completed'],
    'a child whose start the history shown does not have is named by its step alone',
  );
});

test("a queued run's page names its concurrency group and why it waits, and offers to cancel it", () => {
  const heldBy = [
    { id: 'deploy #1', workflow: 'deploy', status: 'running' as const, cancelling: false },
    { id: 'deploy #0', workflow: 'deploy', status: 'running' as const, cancelling: true },
  ];
  const queued = pageOf({ ...run, status: 'queued', concurrency: { group: 'environments:production', limit: 1, heldBy } });
  assert.match(
    queued,
    /<dt>concurrency<\/dt>\s*<dd>\s*<span class="mono">environments:production<\/span> \(limit 1; queued: it starts when a run holding a slot of the group ends\)/,
  );
  assert.match(
    queued,
    /<dt>held by<\/dt>\s*<dd>\s*<a href="\/runs\/deploy%20%231">deploy #1<\/a> \(deploy, running\), <a href="\/runs\/deploy%20%230">deploy #0<\/a> \(deploy, running, cancelling\)/,
  );
  // Raised limits: free slots, older queued runs go first.
  const behindQueue = pageOf({ ...run, status: 'queued', concurrency: { group: 'environments:production', limit: 2, heldBy: [] } });
  assert.match(behindQueue, /\(limit 2; queued: it starts after the runs of the group queued before it\)/);
  assert.doesNotMatch(behindQueue, /held by/);
  assert.match(queued, /Cancel run/);
  const ended = pageOf({ ...run, status: 'completed', concurrency: { group: 'environments:production', limit: 1 } });
  assert.match(ended, /environments:production<\/span> \(limit 1\)/);
  const newest = pageOf({
    ...run,
    status: 'running',
    concurrency: { group: 'preview:7', limit: 1, queue: 'latest', cancelInProgress: true },
  });
  assert.match(newest, /preview:7<\/span> \(limit 1; cancelInProgress: a newer run of the group cancels it\)/);
  assert.doesNotMatch(pageOf(run), /<dt>concurrency/);
});
