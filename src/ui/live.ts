import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { LiveChange } from '../app/operations.js';
import type { UiEnv, UiSettings } from './env.js';

/** Pages that watch everything (overview, inbox) hear at most one change per this many ms. */
const GLOBAL_THROTTLE_MS = 500;
const KEEPALIVE_MS = 20_000;

/**
 * `GET /live?run=<id>`: a server-sent `change` whenever that run changes; `GET /live`: whenever any
 * run does; `GET /live?events=1`: whenever an event is routed. The page then fetches itself again
 * (see static/app.js), so the stream carries no data a page would not show anyway.
 */
export function liveStream(c: Context<UiEnv>, settings: UiSettings): Response {
  const runId = c.req.query('run');
  const events = c.req.query('events') !== undefined;
  const relevant = (change: LiveChange): boolean => {
    if (events) return change.kind === 'event';
    if (runId === undefined) return change.kind === 'run';
    return change.kind === 'run' ? change.runId === runId : change.deliveredRunIds.includes(runId);
  };
  // A proxy that buffers (nginx does by default) would hold the events back.
  c.header('x-accel-buffering', 'no');
  return streamSSE(c, async (stream) => {
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    const send = (): void => {
      timer = undefined;
      last = settings.now();
      stream.writeSSE({ event: 'change', data: String(last) }).catch(() => wake?.());
    };
    const stop = settings.operations.watch((change) => {
      if (!relevant(change) || timer) return;
      const throttle = runId === undefined ? GLOBAL_THROTTLE_MS : 0;
      timer = setTimeout(send, Math.max(0, last + throttle - settings.now()));
    });
    const keepalive = setInterval(() => {
      stream.write(': keepalive\n\n').catch(() => wake?.());
    }, KEEPALIVE_MS);
    await stream.writeSSE({ event: 'ready', data: '' });
    await new Promise<void>((resolve) => {
      wake = resolve;
      stream.onAbort(resolve);
    });
    stop();
    clearInterval(keepalive);
    if (timer) clearTimeout(timer);
  });
}
