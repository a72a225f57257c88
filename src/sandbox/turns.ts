/**
 * Sandbox work shares its thread's event loop with HTTP requests, lease heartbeats and the store.
 * One activation may take up to `sandbox.cpuMs` (1 s by default), and a run's replay re-executes
 * every task: in one go, many of them held the loop for as long as they took together (40
 * CPU-heavy children of one run kept /livez from answering for 40 s; a replay of 60 tasks of
 * 0.34 s froze /healthz for 18 s). So sandbox work that would start once the loop has not turned
 * for TURN_SLICE_MS waits for the next turn, and the loop's other work goes on in between.
 *
 * Work that waits is served first come, first served, and work that arrives while some waits joins
 * the end of the line. Before, each waiting piece looked again at the next turn and raced what had
 * arrived meanwhile: a run's one activation waited behind every sandbox creation that kept arriving
 * (another workflow's 400 new children all started first).
 */
import { toError } from '../core/errors.js';

const TURN_SLICE_MS = 10;

/** When sandbox work began in this turn of the loop; undefined once the loop has turned. */
let sliceStartedAt: number | undefined;
/** Work waiting for a turn, oldest first. */
const waiting: Array<() => void> = [];
let serveScheduled = false;

function startSlice(): void {
  if (sliceStartedAt !== undefined) return;
  sliceStartedAt = performance.now();
  // Never a reason for the process to stay up.
  setImmediate(() => {
    sliceStartedAt = undefined;
  }).unref();
}

/** Whether sandbox work has held the loop for TURN_SLICE_MS since it last turned. */
function sliceUsed(): boolean {
  return sliceStartedAt !== undefined && performance.now() - sliceStartedAt >= TURN_SLICE_MS;
}

/** Runs waiting work, oldest first, until this turn's slice is used; the rest waits for the next turn. */
function serve(): void {
  serveScheduled = false;
  startSlice();
  while (waiting.length > 0 && !sliceUsed()) waiting.shift()!();
  scheduleServe();
}

function scheduleServe(): void {
  if (serveScheduled || waiting.length === 0) return;
  serveScheduled = true;
  setImmediate(serve);
}

/** `work` now, or in its turn when other work waits or this turn's slice is used; what it throws becomes the rejection. */
export function inTurn<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const run = (): void => {
      try {
        resolve(work());
      } catch (error) {
        reject(toError(error));
      }
    };
    if (waiting.length === 0 && !sliceUsed()) {
      startSlice();
      run();
      return;
    }
    waiting.push(run);
    scheduleServe();
  });
}
