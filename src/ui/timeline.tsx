/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { RunView } from '../app/operations.js';
import type { HistoryEvent } from '../core/model.js';
import { TASK_CLOSED_EVENT } from '../core/human-task.js';
import { cutText } from '../core/text-cut.js';

/** Longest error message a bar's note shows (the run page's error section shows more). */
const MAX_NOTE_CHARS = 500;

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
  /** The run, or a child run, ended cancelled: neither done nor failed. */
  cancelled?: boolean;
  note?: string;
  /** The run a child's bar stands for. */
  childId?: string;
}

/** A child run as the run page lists it: how it ended, where the parent's history does not say. */
export type ChildRun = Pick<RunView, 'id' | 'status' | 'updatedAt' | 'error'>;

type Ending = Partial<Pick<TimelineBar, 'error' | 'cancelled' | 'note'>>;

/**
 * A child's bar whose end the parent's history does not record, ended as the child run did: the parent was cancelled
 * first (and asked the child to cancel, which it may not have done: it had completed, or its cleanup failed), or the
 * parent did not await it.
 */
function endAsChildRun(bar: TimelineBar, child: ChildRun | undefined): void {
  switch (child?.status) {
    case 'completed':
      bar.cancelled = false;
      break;
    case 'failed':
    case 'stuck':
      Object.assign(bar, { error: true, cancelled: false, note: child.error?.message ?? child.status });
      break;
    case 'cancelled':
      bar.cancelled = true;
      break;
    default:
      return; // not listed, running, or continued as another run, whose end the chain's last run has
  }
  bar.end ??= Date.parse(child.updatedAt);
}

/**
 * Derives the bars of the timeline from a run's history: each call, timer, wait, task and child
 * from the event that started it to the one that resolved it, the run itself on top. A child's bar
 * that the history does not end ends as `children` say that child did.
 */
export function timelineBars(history: readonly HistoryEvent[], children: readonly ChildRun[] = []): TimelineBar[] {
  const bars: TimelineBar[] = [];
  const open = new Map<string, TimelineBar>();
  /** Child bars by step key, until the history records how the child ended. */
  const untoldChildren = new Map<string, TimelineBar>();
  const close = (key: string, at: number, ending: Ending = {}): void => {
    const bar = open.get(key);
    if (!bar) return;
    bar.end = at;
    Object.assign(bar, ending);
    open.delete(key);
  };
  /**
   * What an ended run still waited for (the sleep a race lost, a timed-out run's wait) is given up, not running on.
   * Children outlive a parent that completes or fails: their bars stay as their runs say.
   */
  const giveUp = (at: number): void => {
    for (const [key, bar] of open) if (bar.kind !== 'child') close(key, at, { note: 'given up' });
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
        const bar: TimelineBar = {
          kind: 'timer',
          label: event.timeout ? 'timeout' : 'sleep',
          seq: event.seq,
          start: event.at,
          error: false,
        };
        bars.push(bar);
        open.set(`s${event.step}`, bar);
        break;
      }
      case 'wait_started': {
        const task = event.eventType === TASK_CLOSED_EVENT;
        const bar: TimelineBar = {
          kind: task ? 'task' : 'wait',
          label: task ? 'waits for a person' : `wait ${event.eventType}`,
          seq: event.seq,
          start: event.at,
          error: false,
        };
        bars.push(bar);
        open.set(`s${event.step}`, bar);
        break;
      }
      case 'child_started': {
        const label = `child ${event.childId} (${event.workflow})`;
        const bar: TimelineBar = { kind: 'child', label, childId: event.childId, seq: event.seq, start: event.at, error: false };
        bars.push(bar);
        open.set(`s${event.step}`, bar);
        untoldChildren.set(`s${event.step}`, bar);
        break;
      }
      case 'child_completed':
        untoldChildren.delete(`s${event.step}`);
        close(`s${event.step}`, event.at);
        break;
      case 'child_failed': {
        untoldChildren.delete(`s${event.step}`);
        // A child that was cancelled hands its parent its CancelledError (core/child-failure.ts): no failure of its own.
        const cancelled = event.error.name === 'CancelledError';
        close(`s${event.step}`, event.at, { error: !cancelled, cancelled, note: cutText(event.error.message, MAX_NOTE_CHARS) });
        break;
      }
      case 'call_completed':
      case 'timer_fired':
      case 'wait_satisfied':
        close(`s${event.step}`, event.at);
        break;
      case 'call_failed':
        close(`s${event.step}`, event.at, { error: true, note: cutText(event.error.message, MAX_NOTE_CHARS) });
        break;
      case 'wait_timed_out':
        close(`s${event.step}`, event.at, { note: 'timed out' });
        break;
      case 'run_completed':
      case 'run_continued':
        close('run', event.at);
        giveUp(event.at);
        break;
      case 'run_failed':
        close('run', event.at, { error: true, note: cutText(event.error.message, MAX_NOTE_CHARS) });
        giveUp(event.at);
        break;
      case 'run_cancelled':
        // The run and the children it asks to cancel with it end cancelled; the steps it gives up say so.
        for (const [key, bar] of open)
          close(key, event.at, bar.kind === 'run' || bar.kind === 'child' ? { cancelled: true } : { note: 'cancelled' });
        break;
      default:
        break;
    }
  }
  const childRuns = new Map(children.map((child) => [child.id, child]));
  for (const bar of untoldChildren.values()) endAsChildRun(bar, childRuns.get(bar.childId ?? ''));
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

/**
 * The timeline picture: one row per bar on a shared time axis; running bars are hatched, failed ones red, cancelled ones
 * grey. `children`: the run's child runs, whose own status tells how a child the history does not end ended.
 */
export function Timeline(props: { history: readonly HistoryEvent[]; now: number; maxBars?: number; children?: readonly ChildRun[] }) {
  const all = timelineBars(props.history, props.children);
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
        const colour = bar.error ? 'error' : bar.cancelled ? 'cancelled' : bar.kind === 'run' ? 'child' : bar.kind;
        const classes = `bar ${colour}${bar.end === undefined ? ' open' : ''}`;
        const duration = formatDuration((bar.end ?? end) - bar.start);
        const state = bar.error ? ', failed' : bar.cancelled ? ', cancelled' : bar.end === undefined ? ', running' : '';
        const name = `${bar.label}${state} — ${duration}${bar.end === undefined ? ' so far' : ''}${bar.note ? ` — ${bar.note}` : ''}`;
        // A button for the keyboard too: Tab reaches it, Enter or Space does what a click does (app.js).
        return (
          <g
            data-seq={String(bar.seq)}
            data-kind={bar.kind}
            data-state={bar.error ? 'error' : bar.cancelled ? 'cancelled' : bar.end === undefined ? 'open' : 'done'}
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
