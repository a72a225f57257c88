import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TASK_CLOSED_EVENT } from '../core/human-task.js';
import type { HistoryEvent } from '../core/model.js';
import {
  errorFrames,
  formatCalls,
  formatColumns,
  formatError,
  formatErrorLines,
  formatHistory,
  formatInline,
  formatTaskPeople,
  formatTriggers,
  printable,
} from './format.js';

test('a history reads one line per event: offset, type, key facts', () => {
  const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
  const events: HistoryEvent[] = [
    { seq: 0, at: t0, type: 'run_started', workflow: 'deploy', version: 'abcdef0123456789', input: { env: 'prod' } },
    { seq: 1, at: t0 + 1, type: 'workflow_task', time: t0 + 1 },
    { seq: 2, at: t0 + 12, type: 'call_scheduled', step: 3, capability: 'http', method: 'request', args: {}, site: 'deploy.ts:12:5' },
    { seq: 3, at: t0 + 250, type: 'call_failed', step: 3, error: { name: 'CapabilityError', message: 'HTTP 503' }, attempts: 1 },
    { seq: 4, at: t0 + 300, type: 'wait_started', step: 4, eventType: 'approval', match: { subject: 'r1' }, timeoutAt: t0 + 86_400_000 },
    { seq: 5, at: t0 + 1500, type: 'wait_timed_out', step: 4 },
    { seq: 6, at: t0 + 1501, type: 'run_failed', error: { name: 'Error', message: 'no approval' } },
  ];
  assert.deepEqual(formatHistory(events), [
    '+0.000s  run_started     deploy abcdef012345 input {"env":"prod"}',
    '+0.001s  workflow_task',
    '+0.012s  call_scheduled  #3 http.request  at deploy.ts:12:5',
    '+0.250s  call_failed     #3 CapabilityError: HTTP 503 after 1 attempt',
    '+0.300s  wait_started    #4 approval {"subject":"r1"} until 2026-01-03T03:04:05Z',
    '+1.500s  wait_timed_out  #4',
    '+1.501s  run_failed      Error: no approval',
  ]);
});

test('an event a wait found by looking back, received before the run started, has a negative offset', () => {
  const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
  const event = { specversion: '1.0' as const, id: 'e1', type: 'deployed', source: '/ci' };
  const events: HistoryEvent[] = [
    { seq: 0, at: t0, type: 'run_started', workflow: 'w', version: 'abcdef0123456789', input: null },
    { seq: 1, at: t0 + 2, type: 'wait_started', step: 1, eventType: 'deployed', match: {} },
    { seq: 2, at: t0 - 18_205, type: 'wait_satisfied', step: 1, event },
  ];
  assert.deepEqual(formatHistory(events), [
    '+ 0.000s  run_started     w abcdef012345 input null',
    '+ 0.002s  wait_started    #1 deployed {}',
    '-18.205s  wait_satisfied  #1 deployed e1',
  ]);
});

test('what a person did through the web UI names them: a signal from them, a cancel by them', () => {
  const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
  const signal = { specversion: '1.0' as const, id: 'e1', type: 'autoflow.signal.go', source: 'autoflow:user/alice', subject: 'r1' };
  const events: HistoryEvent[] = [
    { seq: 0, at: t0, type: 'wait_satisfied', step: 2, event: signal },
    { seq: 1, at: t0 + 5, type: 'wait_satisfied', step: 3, event: { ...signal, id: 'e2', source: 'autoflow:api' } },
    { seq: 2, at: t0 + 10, type: 'cancel_requested', reason: 'withdrawn', by: 'bob' },
    { seq: 3, at: t0 + 20, type: 'cancel_requested' },
  ];
  assert.deepEqual(formatHistory(events), [
    '+0.000s  wait_satisfied    #2 autoflow.signal.go e1 from @alice',
    '+0.005s  wait_satisfied    #3 autoflow.signal.go e2',
    '+0.010s  cancel_requested  by @bob: withdrawn',
    '+0.020s  cancel_requested',
  ]);
});

test('a task reads with who answered it, and its wait shows its deadline, not the daily re-check', () => {
  const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
  const closedBy = (id: string, data: Record<string, unknown>) => ({
    specversion: '1.0' as const,
    id: `task-closed:${id}`,
    source: `autoflow:task/${id}`,
    type: TASK_CLOSED_EVENT,
    subject: id,
    data: data as never,
  });
  const events: HistoryEvent[] = [
    {
      seq: 0,
      at: t0,
      type: 'call_scheduled',
      step: 1,
      capability: 'tasks',
      method: 'create',
      args: { kind: 'form', spec: {}, eligible: [] },
    },
    { seq: 1, at: t0, type: 'call_completed', step: 1, value: { id: 'tk_a', url: 'u', eligible: [] }, attempts: 1 },
    { seq: 2, at: t0, type: 'wait_started', step: 2, eventType: TASK_CLOSED_EVENT, match: { subject: 'tk_a' }, timeoutAt: t0 + 86_400_000 },
    {
      seq: 3,
      at: t0 + 10,
      type: 'wait_satisfied',
      step: 2,
      event: closedBy('tk_a', { status: 'submitted', values: {}, by: 'bob', at: 'x' }),
    },
    {
      seq: 4,
      at: t0 + 20,
      type: 'wait_satisfied',
      step: 4,
      event: closedBy('tk_b', { status: 'approved', decisions: [{ by: 'alice', decision: 'approve', at: 'y' }] }),
    },
  ];
  assert.deepEqual(formatHistory(events).slice(2), [
    '+0.000s  wait_started    #2 autoflow.task.closed {"subject":"tk_a"}',
    '+0.010s  wait_satisfied  #2 autoflow.task.closed task-closed:tk_a submitted by @bob',
    '+0.020s  wait_satisfied  #4 autoflow.task.closed task-closed:tk_b approved by @alice',
  ]);
});

test('the offsets are right-aligned, so a history of days keeps its columns', () => {
  const t0 = Date.UTC(2026, 0, 2);
  assert.deepEqual(
    formatHistory([
      { seq: 0, at: t0, type: 'timer_started', step: 1, fireAt: t0 + 86_400_000 },
      { seq: 1, at: t0 + 86_400_000, type: 'timer_fired', step: 1 },
    ]),
    ['+    0.000s  timer_started  #1 until 2026-01-03T00:00:00Z', '+86400.000s  timer_fired    #1'],
  );
});

test('columns line up, trailing blanks trimmed', () => {
  assert.equal(
    formatColumns([
      ['ID', 'STATUS'],
      ['run-1', 'completed'],
      ['a-much-longer-id', ''],
    ]),
    'ID                STATUS\nrun-1             completed\na-much-longer-id',
  );
});

test("a run's open calls read with their attempts, next attempt and last error", () => {
  assert.deepEqual(
    formatCalls([
      {
        step: 1,
        capability: 'gitlab',
        method: 'issues.get',
        attempts: 3,
        nextAt: '2026-01-02T03:04:05.000Z',
        lastError: { name: 'GitLabUnavailableError', message: 'GitLab answered 502 to GET /user: unavailable' },
      },
      { step: 12, capability: 'http', method: 'request', attempts: 0, nextAt: '2026-01-02T03:00:00.000Z' },
    ]),
    [
      '#1 gitlab.issues.get  attempt 3 failed, next attempt 2026-01-02T03:04:05Z: GitLabUnavailableError: GitLab answered 502 to GET /user: unavailable',
      '#12 http.request      first attempt due 2026-01-02T03:00:00Z',
    ],
  );
});

test('an error reads with its causes, outermost first', () => {
  const error = {
    name: 'Error',
    message: 'release blocked',
    cause: { name: 'ActivityError', message: 'ticket refused', cause: { name: 'Error', message: 'quota' } },
  };
  assert.equal(formatError(error), 'Error: release blocked; caused by ActivityError: ticket refused; caused by Error: quota');
  assert.equal(formatError({ name: 'TypeError', message: 'x is undefined' }), 'TypeError: x is undefined');
});

test('a value cut to fit a line never splits an emoji in two', () => {
  for (let pad = 0; pad < 4; pad++) {
    const cut = formatInline(`${'a'.repeat(55 + pad)}😀😀😀😀`);
    assert.ok(cut.endsWith('…'));
    assert.ok(
      !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(cut),
      `no lone half of an emoji: ${JSON.stringify(cut)}`,
    );
  }
});

test('text from a run is one line of plain text: an escape sequence or a line break in it cannot recolour the terminal or forge a record', () => {
  const forged = '\u001b[31mRED\u001b[0m\n2026-01-01T00:00:00Z  info   forged line\r\u0007';
  assert.equal(printable(forged), '\\x1b[31mRED\\x1b[0m\\n2026-01-01T00:00:00Z  info   forged line\\r\\x07');
  assert.equal(printable('tabs\tand ünïcödé stay'), 'tabs\tand ünïcödé stay');
  assert.equal(
    printable('Deploy \u202eyad\u202c failed'),
    'Deploy \\u202eyad\\u202c failed',
    'a title cannot reverse the rest of the line',
  );
  assert.equal(printable('שלום \u200f ok'), 'שלום \u200f ok', 'right-to-left text and its marks stay');
  assert.equal(formatError({ name: 'Error', message: 'bad\ntitle' }), 'Error: bad\\ntitle');
});

test("an error message of several lines (the rules a triage could not run) keeps its lines under show's error and run's failure", () => {
  const error = {
    name: 'TriageRuleError',
    message: '2 rule(s) could not run; the others did:\np.yml:15: no label ~x\r\np.yml:20: \u001b[31m',
  };
  assert.deepEqual(formatErrorLines(error), [
    'TriageRuleError: 2 rule(s) could not run; the others did:',
    'p.yml:15: no label ~x',
    'p.yml:20: \\x1b[31m',
  ]);
  assert.equal(
    formatError(error, '  '),
    'TriageRuleError: 2 rule(s) could not run; the others did:\n  p.yml:15: no label ~x\n  p.yml:20: \\x1b[31m',
  );
});

test("a workflow's triggers name each schedule's time zone: one pattern in four zones is four schedules", () => {
  assert.equal(formatTriggers([]), 'manual');
  assert.equal(
    formatTriggers([
      { event: 'com.gitlab.events.push' },
      { cron: '0 9 * * MON', timezone: 'Europe/Berlin' },
      { cron: '0 9 * * MON', timezone: 'Asia/Kolkata' },
      { cron: '0 6 * * *' },
    ]),
    'com.gitlab.events.push, cron 0 9 * * MON Europe/Berlin, cron 0 9 * * MON Asia/Kolkata, cron 0 6 * * * UTC',
  );
  // With the server's next fire times, on each zone's clocks: 08:00 UTC is 09:00 in Berlin in winter, 13:30 in Kolkata.
  assert.equal(
    formatTriggers(
      [
        { event: 'com.gitlab.events.push' },
        { cron: '0 9 * * MON', timezone: 'Europe/Berlin' },
        { cron: '30 13 * * MON', timezone: 'Asia/Kolkata' },
      ],
      [
        { cron: '0 9 * * MON', timezone: 'Europe/Berlin', next: '2026-12-07T08:00:00.000Z' },
        { cron: '30 13 * * MON', timezone: 'Asia/Kolkata', next: '2026-12-07T08:00:00.000Z' },
      ],
    ),
    'com.gitlab.events.push, cron 0 9 * * MON Europe/Berlin (next Mon 2026-12-07 09:00), cron 30 13 * * MON Asia/Kolkata (next Mon 2026-12-07 13:30)',
  );
});

test("a failed call's answer says why: its body, cut, in the error and in its history lines", () => {
  const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
  const error = {
    name: 'HttpError',
    message: 'HTTP 404 from https://deploy.example.com/targets/prod',
    // Redacted when the call failed: what is stored is what is shown.
    details: {
      status: 404,
      body: { message: 'no such deployment target', token: '{{secret:DEPLOY_TOKEN}}', detail: 'x'.repeat(5000) },
      code: 'http_error',
    },
  };
  const [failed, ended] = formatHistory([
    { seq: 0, at: t0, type: 'call_failed', step: 3, error, attempts: 1 },
    { seq: 1, at: t0, type: 'run_failed', error: { ...error, stack: 'HttpError: HTTP 404' } },
  ]);
  const line =
    '#3 HttpError: HTTP 404 from https://deploy.example.com/targets/prod (body {"message":"no such deployment target","token":"{{secret:DE…)';
  assert.equal(failed, `+0.000s  call_failed  ${line} after 1 attempt`);
  assert.equal(ended, `+0.000s  run_failed   ${line.slice(3)}`);
  assert.deepEqual(formatErrorLines(error), [
    `HttpError: HTTP 404 from https://deploy.example.com/targets/prod (body ${formatInline(error.details.body, 200)})`,
  ]);
  assert.match(formatErrorLines(error)[0] ?? '', /"token":"\{\{secret:DEPLOY_TOKEN\}\}","detail":"x+…\)$/);
  // A body that says nothing adds nothing.
  assert.deepEqual(formatErrorLines({ ...error, details: { status: 404, body: '', code: 'http_error' } }), [`HttpError: ${error.message}`]);
});

test('a huge error is cut, in the history as its other lines are, and its causes stay in sight, each on a line of its own', () => {
  const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
  const error = {
    name: 'Error',
    message: `sync failed: ${JSON.stringify({ items: Array.from({ length: 200 }, (_, id) => ({ id, title: 'an issue' })) })}`,
    stack: 'Error: sync failed: …\n    at run (sync.ts:13:17)',
    cause: { name: 'GitLabError', message: `GitLab answered 404 to PUT /projects/demo%2Fapp/issues/999: ${'y'.repeat(3000)}` },
  };
  assert.ok(error.message.length > 3000);
  const [line] = formatHistory([{ seq: 0, at: t0, type: 'run_failed', error }]);
  assert.ok((line ?? '').length < 500, `${line?.length} characters: ${line}`);
  assert.match(
    line ?? '',
    /^\+0\.000s {2}run_failed {2}Error: sync failed: \{"items":\[.{100,}…; caused by GitLabError: GitLab answered 404 to PUT \/projects\/demo%2Fapp\/issues\/999: y+…$/,
  );
  const lines = formatErrorLines(error);
  assert.equal(lines.length, 3);
  assert.match(lines[0] ?? '', /^Error: sync failed: \{"items":\[.{400,}…$/);
  assert.ok((lines[0] ?? '').length <= 510);
  assert.equal(lines[1], 'at run (sync.ts:13:17)');
  assert.match(lines[2] ?? '', /^caused by GitLabError: GitLab answered 404 to PUT \/projects\/demo%2Fapp\/issues\/999: y{400,}…$/);
});

test("an error's frames are the author's, the host's and the bundle's left out, the deepest cut and counted", () => {
  const stack = [
    'TypeError: bad',
    '    at <anonymous> (lib/parse.ts:6:36)',
    '    at Object.invoke (/srv/autoflow/src/capabilities/http.ts:12:3)',
    '    at parseRelease (lib/parse.ts:14:26)',
    '    at f (workflow.js:1:200)',
    '    at run (release-notes.ts:11:17)',
  ].join('\n');
  assert.deepEqual(errorFrames({ name: 'TypeError', message: 'bad', stack }), [
    'at <anonymous> (lib/parse.ts:6:36)',
    'at parseRelease (lib/parse.ts:14:26)',
    'at run (release-notes.ts:11:17)',
  ]);
  const deep = ['RangeError: deep', ...Array.from({ length: 40 }, (_, i) => `    at down (deep.ts:${i + 1}:3)`)].join('\n');
  const frames = errorFrames({ name: 'RangeError', message: 'deep', stack: deep });
  assert.deepEqual(frames.slice(-2), ['at down (deep.ts:6:3)', '… 34 more frames']);
  assert.equal(frames.length, 7);
});

test("a failed child's error is printed once: the parent's error quotes it, and its cause is not repeated", () => {
  const child = { name: 'TypeError', message: "invalid version segment 'x'" };
  const parent = {
    name: 'ChildRunFailedError',
    message: "child run rt-1.1 (workflow release-notes) failed: TypeError: invalid version segment 'x'",
    cause: { ...child, cause: { name: 'Error', message: 'root' } },
  };
  assert.equal(
    formatError(parent),
    "ChildRunFailedError: child run rt-1.1 (workflow release-notes) failed: TypeError: invalid version segment 'x'; caused by Error: root",
  );
  assert.equal(
    formatError({ name: 'Error', message: 'outer', cause: child }),
    "Error: outer; caused by TypeError: invalid version segment 'x'",
  );
});

test("a trigger's filter is shown with its event type: two triggers of one type are told apart", () => {
  assert.equal(
    formatTriggers([
      { event: 'com.gitlab.events.merge_request_created', filter: { 'object_attributes.target_branch': 'main' } },
      { event: 'com.gitlab.events.merge_request_created', filter: { 'project.path_with_namespace': { in: ['a/b', 'a/c'] } } },
    ]),
    'com.gitlab.events.merge_request_created if {"object_attributes.target_branch":"main"}, ' +
      'com.gitlab.events.merge_request_created if {"project.path_with_namespace":{"in":["a/b","a/c"]}}',
  );
});

test("a task's people: who may answer while it is open, who answered once it closed, none when nobody did", () => {
  const eligible = ['alice', 'bob', 'carol'];
  const at = '2026-12-07T08:00:00.000Z';
  assert.equal(formatTaskPeople({ status: 'open', eligible, decisions: [] }), 'alice,bob,carol');
  assert.equal(
    formatTaskPeople({ status: 'submitted', eligible, decisions: [], outcome: { status: 'submitted', values: {}, by: 'bob', at } }),
    'bob',
  );
  const decisions = [
    { by: 'alice', decision: 'approve' as const, at },
    { by: 'carol', decision: 'reject' as const, at },
  ];
  assert.equal(
    formatTaskPeople({ status: 'rejected', eligible, decisions, outcome: { status: 'rejected', decisions } }),
    'alice (approve),carol (reject)',
  );
  assert.equal(formatTaskPeople({ status: 'timed_out', eligible, decisions: [], outcome: { status: 'timed_out' } }), 'none');
});

test("a patch marker of AutoFlow's own helpers says it asks nothing of the author; the author's own shows its line", () => {
  const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
  const events: HistoryEvent[] = [
    { seq: 0, at: t0, type: 'patch_marker', patchId: 'tasks-groups-without-bot', site: 'review.ts:9:20' },
    { seq: 1, at: t0 + 1, type: 'patch_marker', patchId: 'autoflow.wait-channels' },
    { seq: 2, at: t0 + 2, type: 'patch_marker', patchId: 'dedupe-comments', site: 'review.ts:12:9' },
  ];
  assert.deepEqual(formatHistory(events), [
    "+0.000s  patch_marker  tasks-groups-without-bot (AutoFlow's own, for runs that began before a change of its helpers; nothing to do)",
    "+0.001s  patch_marker  autoflow.wait-channels (AutoFlow's own, for runs that began before a change of its helpers; nothing to do)",
    '+0.002s  patch_marker  dedupe-comments  at review.ts:12:9',
  ]);
});

test("a child's completion and failure name the child run its step started, as its start does", () => {
  const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
  const events: HistoryEvent[] = [
    { seq: 0, at: t0, type: 'child_started', step: 1, childId: 'rel1-api', workflow: 'deploy' },
    { seq: 1, at: t0, type: 'child_started', step: 2, childId: 'rel1-web', workflow: 'deploy' },
    { seq: 2, at: t0 + 10, type: 'child_completed', step: 1, value: { deployed: 'api' } },
    { seq: 3, at: t0 + 20, type: 'child_failed', step: 2, error: { name: 'Error', message: 'refused' } },
    { seq: 4, at: t0 + 30, type: 'child_completed', step: 9, value: null },
  ];
  assert.deepEqual(formatHistory(events).slice(2), [
    '+0.010s  child_completed  #1 rel1-api {"deployed":"api"}',
    '+0.020s  child_failed     #2 rel1-web Error: refused',
    '+0.030s  child_completed  #9 null',
  ]);
});
