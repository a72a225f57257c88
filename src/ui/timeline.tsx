/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { HistoryEvent } from '../core/model.js';
import { TASK_CLOSED_EVENT } from '../core/human-task.js';

export type BarKind = 'run' | 'call' | 'timer' | 'wait' | 'task' | 'child';

/** One durable step of a run as a span of time. */
export interface TimelineBar {
  kind: BarKind;
  label: string;
  /** History seq of the event that started it (links the bar to its history line). */
  seq: number;
  start: number;
  /** Undefined while it is still going. */
  end?: number;
  error: boolean;
  note?: string;
}

/**
 * Derives the bars of the timeline from a run's history: each call, timer, wait, task and child
 * from the event that started it to the one that resolved it, the run itself on top.
 */
export function timelineBars(history: readonly HistoryEvent[]): TimelineBar[] {
  const bars: TimelineBar[] = [];
  const open = new Map<string, TimelineBar>();
  const close = (key: string, at: number, error = false, note?: string): void => {
    const bar = open.get(key);
    if (!bar) return;
    bar.end = at;
    bar.error ||= error;
    if (note) bar.note = note;
    open.delete(key);
  };
  for (const event of history) {
    switch (event.type) {
      case 'run_started': {
        const bar: TimelineBar = { kind: 'run', label: `run ${event.workflow}`, seq: event.seq, start: event.at, error: false };
        bars.push(bar);
        open.set('run', bar);
        break;
      }
      case 'call_scheduled': {
        const kind: BarKind = event.capability === 'tasks' ? 'task' : 'call';
        const bar: TimelineBar = { kind, label: `${event.capability}.${event.method}`, seq: event.seq, start: event.at, error: false };
        bars.push(bar);
        open.set(`s${event.step}`, bar);
        break;
      }
      case 'timer_started': {
        const bar: TimelineBar = { kind: 'timer', label: 'sleep', seq: event.seq, start: event.at, error: false };
        bars.push(bar);
        open.set(`s${event.step}`, bar);
        break;
      }
      case 'wait_started': {
        const task = event.eventType === TASK_CLOSED_EVENT;
        const bar: TimelineBar = { kind: task ? 'task' : 'wait', label: task ? 'waits for a person' : `wait ${event.eventType}`, seq: event.seq, start: event.at, error: false };
        bars.push(bar);
        open.set(`s${event.step}`, bar);
        break;
      }
      case 'child_started': {
        const bar: TimelineBar = { kind: 'child', label: `child ${event.workflow}`, seq: event.seq, start: event.at, error: false };
        bars.push(bar);
        open.set(`s${event.step}`, bar);
        break;
      }
      case 'call_completed':
      case 'timer_fired':
      case 'wait_satisfied':
      case 'child_completed':
        close(`s${event.step}`, event.at);
        break;
      case 'call_failed':
      case 'child_failed':
        close(`s${event.step}`, event.at, true, event.error.message);
        break;
      case 'wait_timed_out':
        close(`s${event.step}`, event.at, false, 'timed out');
        break;
      case 'run_completed':
      case 'run_continued':
        close('run', event.at);
        break;
      case 'run_failed':
        close('run', event.at, true, event.error.message);
        break;
      case 'run_cancelled':
        close('run', event.at, false, 'cancelled');
        for (const key of open.keys()) close(key, event.at, false, 'cancelled');
        break;
      default:
        break;
    }
  }
  return bars;
}

/** `850 ms`, `12.3 s`, `4 min 5 s`, `2 h 30 min`, `3 d 4 h`: exact to the unit below the largest. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const pair = (total: number, unit: number, big: string, small: string): string => {
    const whole = Math.floor(total / unit);
    const rest = total - whole * unit;
    return rest ? `${whole} ${big} ${rest} ${small}` : `${whole} ${big}`;
  };
  if (ms < 3600_000) return pair(Math.round(ms / 1000), 60, 'min', 's');
  if (ms < 86400_000) return pair(Math.round(ms / 60_000), 60, 'h', 'min');
  return pair(Math.round(ms / 3600_000), 24, 'd', 'h');
}

/** Axis steps people read at a glance; each is a whole number of the unit `formatDuration` shows at that size. */
const STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000]
  .concat([1, 2, 5, 10, 15, 30].map((minutes) => minutes * 60_000))
  .concat([1, 2, 3, 6, 12].map((hours) => hours * 3600_000))
  .concat([1, 2, 7, 14, 30, 90, 365].map((days) => days * 86400_000));

/** Offsets of the axis ticks: 0 and every round step up to `span`, at most six, so no two labels read the same. */
export function axisTicks(span: number): number[] {
  const step = STEPS.find((candidate) => span / candidate <= 5) ?? Math.ceil(span / 5);
  return Array.from({ length: Math.floor(span / step) + 1 }, (_, index) => index * step);
}

const WIDTH = 960;
const LABEL = 230;
const ROW = 22;
const TOP = 24;
const MAX_BARS = 200;

/** The timeline picture: one row per bar on a shared time axis; running bars are hatched, failed ones red. */
export function Timeline(props: { history: readonly HistoryEvent[]; now: number; maxBars?: number }) {
  const all = timelineBars(props.history);
  if (all.length === 0) return <p class="muted">No history yet.</p>;
  // A run of thousands of steps would draw a picture thousands of rows tall: the run and its latest steps.
  const max = props.maxBars ?? MAX_BARS;
  const hidden = Math.max(0, all.length - max);
  const bars = hidden ? [all[0]!, ...all.slice(all.length - max + 1)] : all;
  const start = Math.min(...bars.map((bar) => bar.start));
  const end = Math.max(props.now, ...bars.map((bar) => bar.end ?? bar.start));
  const span = Math.max(end - start, 1);
  const x = (at: number): number => LABEL + ((at - start) / span) * (WIDTH - LABEL - 10);
  const height = TOP + bars.length * ROW + 6;
  const ticks = axisTicks(span).map((offset) => start + offset);
  const picture = (
    <svg viewBox={`0 0 ${WIDTH} ${height}`} role="group" aria-label={`timeline of ${bars.length} steps over ${formatDuration(span)}`}>
      {ticks.map((tick) => (
        <g>
          <line class="axis" x1={x(tick)} x2={x(tick)} y1={TOP - 6} y2={height} />
          <text class="tick" x={Math.min(x(tick), WIDTH - 60)} y={12}>
            +{formatDuration(tick - start)}
          </text>
        </g>
      ))}
      {bars.map((bar, index) => {
        const y = TOP + index * ROW;
        const x1 = x(bar.start);
        const x2 = Math.max(x(bar.end ?? end), x1 + 3);
        const classes = `bar ${bar.error ? 'error' : bar.kind === 'run' ? 'child' : bar.kind}${bar.end === undefined ? ' open' : ''}`;
        const duration = formatDuration((bar.end ?? end) - bar.start);
        const name = `${bar.label}${bar.error ? ', failed' : bar.end === undefined ? ', running' : ''} — ${duration}${bar.end === undefined ? ' so far' : ''}${bar.note ? ` — ${bar.note}` : ''}`;
        // A button for the keyboard too: Tab reaches it, Enter or Space does what a click does (app.js).
        return (
          <g
            data-seq={String(bar.seq)}
            data-kind={bar.kind}
            data-state={bar.error ? 'error' : bar.end === undefined ? 'open' : 'done'}
            tabindex={0}
            role="button"
            aria-label={`${name}: show in history`}
          >
            <title>{name}</title>
            <text x={4} y={y + 14}>
              {bar.label.length > 30 ? `${bar.label.slice(0, 29)}…` : bar.label}
            </text>
            <rect class={classes} x={x1} y={y + 3} width={x2 - x1} height={ROW - 7} rx={3} />
          </g>
        );
      })}
    </svg>
  );
  if (!hidden) return picture;
  return (
    <>
      <p class="muted">{`The run and its latest ${max - 1} of ${all.length - 1} steps; the history beside lists them all.`}</p>
      {picture}
    </>
  );
}
