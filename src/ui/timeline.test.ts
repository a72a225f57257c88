import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TASK_CLOSED_EVENT } from '../core/human-task.js';
import type { HistoryEvent, HistoryPayload } from '../core/model.js';
import { render } from './static.js';
import { Timeline, formatDuration, timelineBars } from './timeline.js';

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
      ['child', 'child child', 70, 90, false],
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
  const failed = timelineBars(history([[0, { type: 'run_started', workflow: 'wf', version: 'v', input: null }], [3, { type: 'run_failed', error: { name: 'E', message: 'm' } }]]));
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
    const labels = [...render(Timeline({ history: events, now: span })).matchAll(/<text class="tick"[^>]*>([^<]*)</g)].map((match) => match[1]);
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
