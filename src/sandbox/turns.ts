/**
 * Sandbox work shares its thread's event loop with HTTP requests, lease heartbeats and the store.
 * One activation may take up to `sandbox.cpuMs` (1 s by default), and a run's replay re-executes
 * every task: in one go, many of them held the loop for as long as they took together (40
 * CPU-heavy children of one run kept /livez from answering for 40 s; a replay of 60 tasks of
 * 0.34 s froze /healthz for 18 s). So sandbox work that would start once the loop has not turned
 * for TURN_SLICE_MS waits for the next turn, and the loop's other work goes on in between.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

const TURN_SLICE_MS = 10;

/** When the marker that notes the loop's next turn was set; undefined once the loop has turned. */
let turnAwaitedSince: number | undefined;

function awaitTurn(): void {
  if (turnAwaitedSince !== undefined) return;
  turnAwaitedSince = performance.now();
  // Never a reason for the process to stay up.
  setImmediate(() => {
    turnAwaitedSince = undefined;
  }).unref();
}

/** Whether sandbox work has held the loop for TURN_SLICE_MS since it last turned. */
function turnDue(): boolean {
  return turnAwaitedSince !== undefined && performance.now() - turnAwaitedSince >= TURN_SLICE_MS;
}

/** Waits for the loop's next turn when one is due; notes that sandbox work starts now. */
export async function yieldWhenDue(): Promise<void> {
  while (turnDue()) await nextTurn();
  awaitTurn();
}

/** `work` now, or on the next turn when one is due; what it throws becomes the rejection. */
export function inTurn<T>(work: () => T): Promise<T> {
  if (turnDue()) return yieldWhenDue().then(work);
  awaitTurn();
  return new Promise((resolve) => resolve(work()));
}
