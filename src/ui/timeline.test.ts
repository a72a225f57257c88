import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TASK_CLOSED_EVENT } from '../core/human-task.js';
import type { HistoryEvent, HistoryPayload, RunStatus } from '../core/model.js';
import { render } from './static.js';
import { Timeline, formatDuration, timelineBars, type ChildRun } from './timeline.js';

const history = (events: Array<[number, HistoryPayload]>): HistoryEvent[] => events.map(([at, payload], seq) => ({ ...payload, seq, at }));

test('bars span from the event that starts a step to the one that resolves it; failures are errors; open steps have no end', () => {
  const bars = timelineBars(
    history([
      [0, { type: 'run_started', workflow: 'wf', version: 'v', input: null }],
      [1, { type: 'call_scheduled', step: 1, capability: 'gitlab', method: 'issues.create', args: [] }],
      [2, { type: 'call_scheduled', step: 2, capability: 'tasks', method: 'create', args: {} }],
      [50, { type: 'call_failed', step: 1, error: { name: 'Error', message: 'boom' }, attempts: 3 }],
      [60, { type: 'call_completed', step: 2, value: null, attempts: 1 }],
      [61, { type: 'wait_started', step: 3, eventType: TASK_CLOSED_EVENT, match: {} }],
      [62, { type: 'timer_started', step: 4, fireAt: 1000 }],
      [70, { type: 'child_started', step: 5, childId: 'c', workflow: 'child' }],
      [90, { type: 'child_completed', step: 5, value: 1 }],
    ]),
  );
  assert.deepEqual(
    bars.map((bar) => [bar.kind, bar.label, bar.start, bar.end, bar.error]),
    [
      ['run', 'run wf', 0, undefined, false],
      ['call', 'gitlab.issues.create', 1, 50, true],
      ['task', 'tasks.create', 2, 60, false],
      ['task', 'waits for a person', 61, undefined, false],
      ['timer', 'sleep', 62, undefined, false],
      ['child', 'child c (child)', 70, 90, false],
    ],
  );
});

test('a cancelled run closes every open bar; a failed run is red; the SVG names every bar', () => {
  const events = history([
    [0, { type: 'run_started', workflow: 'wf', version: 'v', input: null }],
    [5, { type: 'wait_started', step: 1, eventType: 'x', match: {} }],
    [9, { type: 'run_cancelled' }],
  ]);
  assert.ok(timelineBars(events).every((bar) => bar.end === 9));
  const failed = timelineBars(
    history([
      [0, { type: 'run_started', workflow: 'wf', version: 'v', input: null }],
      [3, { type: 'run_failed', error: { name: 'E', message: 'm' } }],
    ]),
  );
  assert.equal(failed[0]?.error, true);
  const svg = render(Timeline({ history: events, now: 9 }));
  assert.match(svg, /<svg/);
  assert.equal(svg.match(/data-seq=/g)?.length, 2);
  assert.equal(formatDuration(90_000), '1 min 30 s');
  assert.equal(formatDuration(572_000), '9 min 32 s');
});

test('the time axis has distinct labels at round steps', () => {
  for (const span of [7, 950, 4_321, 13_700, 95_000, 190_000, 572_000, 3 * 3600_000 + 17, 4 * 86400_000]) {
    const events = history([
      [0, { type: 'run_started', workflow: 'wf', version: 'v', input: null }],
      [span, { type: 'run_completed', result: null }],
    ]);
    const labels = [...render(Timeline({ history: events, now: span })).matchAll(/<text class="tick"[^>]*>([^<]*)</g)].map(
      (match) => match[1],
    );
    assert.ok(labels.length >= 2, `${span}: ${labels.join(', ')}`);
    assert.equal(new Set(labels).size, labels.length, `${span} ms: ${labels.join(', ')}`);
  }
});

test('a long run draws the run and its latest steps only', () => {
  const events = history([
    [0, { type: 'run_started', workflow: 'wf', version: 'v', input: null }],
    ...Array.from({ length: 30 }, (_, i): [number, HistoryPayload] => [i + 1, { type: 'timer_started', step: i + 1, fireAt: 100 }]),
  ]);
  const svg = render(Timeline({ history: events, now: 50, maxBars: 10 }));
  assert.equal(svg.match(/data-seq=/g)?.length, 10);
  assert.match(svg, /latest 9 of 30 steps/);
  assert.match(svg, /data-seq="0"/);
  assert.match(svg, /data-seq="30"/);
});

/** A child run as the run page lists it. */
const childRun = (id: string, status: RunStatus, endedAt: number, message?: string): ChildRun => ({
  id,
  status,
  updatedAt: new Date(endedAt).toISOString(),
  ...(message === undefined ? {} : { error: { name: 'Error', message } }),
});
const started = (step: number, childId: string): HistoryPayload => ({ type: 'child_started', step, childId, workflow: 'deploy' });

test("a child's bar names the child run and its workflow, in its label and its tooltip", () => {
  const events = history([
    [0, { type: 'run_started', workflow: 'release', version: 'v', input: null }],
    [1, started(1, 'rel1-api')],
    [2, started(2, 'rel1-web')],
  ]);
  const svg = render(Timeline({ history: events, now: 5 }));
  assert.match(svg, /<title>child rel1-api \(deploy\), running — 4 ms so far<\/title><text[^>]*>child rel1-api \(deploy\)<\/text>/);
  assert.match(svg, /aria-label="child rel1-web \(deploy\), running — 3 ms so far: show in history"/);
});

test("a child's bar shows how the child ended: done, failed, or cancelled, by its parent or with it", () => {
  const events = history([
    [0, { type: 'run_started', workflow: 'release', version: 'v', input: null }],
    ...['api', 'web', 'stop', 'db', 'cache', 'queue', 'gone'].map((service, i): [number, HistoryPayload] => [
      1,
      started(i + 1, `rel1-${service}`),
    ]),
    [10, { type: 'child_completed', step: 1, value: null }],
    [11, { type: 'child_failed', step: 2, error: { name: 'ChildRunFailedError', message: 'child run rel1-web failed' } }],
    // The parent cancelled this one itself (handle.cancel): it hands the parent its CancelledError.
    [12, { type: 'child_failed', step: 3, error: { name: 'CancelledError', message: 'The run was cancelled: too slow' } }],
    [20, { type: 'cancel_requested', reason: 'abort the release' }],
    [21, { type: 'run_cancelled' }],
  ]);
  // How the children its cancellation left running ended: as asked, done before they took the cancel, their cleanup
  // failed; one that is not listed (retention deleted it) ended as the parent's history says.
  const children = [
    childRun('rel1-db', 'cancelled', 30),
    childRun('rel1-cache', 'completed', 22),
    childRun('rel1-queue', 'failed', 40, 'cleanup failed'),
  ];
  const bars = timelineBars(events, children);
  const outcome = (bar: (typeof bars)[number]) => (bar.error ? 'failed' : bar.cancelled ? 'cancelled' : 'done');
  assert.deepEqual(
    bars.map((bar) => [bar.label.split(' ')[1], outcome(bar), bar.end, bar.note]),
    [
      ['release', 'cancelled', 21, undefined],
      ['rel1-api', 'done', 10, undefined],
      ['rel1-web', 'failed', 11, 'child run rel1-web failed'],
      ['rel1-stop', 'cancelled', 12, 'The run was cancelled: too slow'],
      ['rel1-db', 'cancelled', 21, undefined],
      ['rel1-cache', 'done', 21, undefined],
      ['rel1-queue', 'failed', 21, 'cleanup failed'],
      ['rel1-gone', 'cancelled', 21, undefined],
    ],
  );
  const svg = render(Timeline({ history: events, now: 21, children }));
  const colourOf = (childId: string) => new RegExp(`>child ${childId} \\(deploy\\)</text><rect class="bar (\\w+)"`).exec(svg)?.[1];
  assert.deepEqual(['rel1-api', 'rel1-web', 'rel1-stop', 'rel1-db', 'rel1-cache', 'rel1-queue'].map(colourOf), [
    'child',
    'error',
    'cancelled',
    'cancelled',
    'child',
    'error',
  ]);
  assert.match(svg, /<title>child rel1-db \(deploy\), cancelled — 20 ms<\/title>/);
});

test('a child that outlived its parent ends where the child run did; one still running stays open', () => {
  const events = history([
    [0, { type: 'run_started', workflow: 'release', version: 'v', input: null }],
    [1, started(1, 'rel1-api')],
    [1, started(2, 'rel1-db')],
    [5, { type: 'run_completed', result: null }],
  ]);
  const bars = timelineBars(events, [childRun('rel1-api', 'completed', 50), childRun('rel1-db', 'running', 5)]);
  assert.deepEqual(
    bars.slice(1).map((bar) => [bar.childId, bar.end, bar.error, bar.cancelled ?? false]),
    [
      ['rel1-api', 50, false, false],
      ['rel1-db', undefined, false, false],
    ],
  );
});
