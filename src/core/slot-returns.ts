import { toError } from './errors.js';
import type { Clock, Logger } from './ports.js';

export interface SlotReturnsOptions {
  clock: Clock;
  logger: Logger;
  /** How long a run waits for its own calls before it may be asked to give its slot back. */
  afterMs: number;
  /** Whether the node has no slot free now. */
  isFull: () => boolean;
  /** How many runs wait in the ready queue (Store.queueStats). */
  readyRuns: () => Promise<number>;
  /** Asks the engine to claim work again: called when a run may be asked to give its slot back. */
  pump: () => void;
}

interface WaitingRun {
  since: number;
  giveBack: () => void;
}

/**
 * A run whose calls are made on the fast path keeps its slot while it waits for their answers, so that the answer
 * reaches its sandbox without a trip through the store. When the node has no slot free and runs wait in the ready
 * queue, a run that has waited `afterMs` for its own calls gives its slot back instead (as many as runs wait, those
 * that have waited longest first): its calls go on and their answers reach it through the store, as after a restart.
 * Without it, a workflow whose runs each wait on a slow call held every slot, and another workflow's runs waited for
 * those calls to end (300 runs each waiting 20 s on a call made a bystander's 10-second run take 84 s).
 */
export class SlotReturns {
  private readonly waiting = new Map<string, WaitingRun>();
  /** The next check, when one is due later. */
  private timer: { at: number; cancel: () => void } | undefined;
  /** The queue is read at most once per `afterMs`: a full node pumps on every wake-up. */
  private nextQueueReadAt = Number.NEGATIVE_INFINITY;
  private checking = false;

  constructor(private readonly options: SlotReturnsOptions) {}

  /**
   * Waits until `answered` resolves (false), or until the run is asked to give its slot back (true). `since` is when
   * the run began to wait for its calls.
   */
  async wait(runId: string, since: number, answered: Promise<void>): Promise<boolean> {
    let giveBack = (): void => {};
    const asked = new Promise<true>((resolve) => (giveBack = () => resolve(true)));
    this.waiting.set(runId, { since, giveBack });
    try {
      return await Promise.race([answered.then(() => false), asked]);
    } finally {
      this.waiting.delete(runId);
    }
  }

  /** The node is full and wants a slot: runs that have waited long enough give theirs back if others are ready. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.checkNow();
    } catch (error) {
      // The next wake-up of a full node checks again; meanwhile the runs keep their slots, as they would without this.
      this.options.logger.warn({ err: toError(error) }, 'reading the ready queue failed; runs waiting for their calls keep their slots');
    } finally {
      this.checking = false;
    }
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private async checkNow(): Promise<void> {
    const { clock, afterMs } = this.options;
    if (this.waiting.size === 0 || !this.options.isFull()) return;
    const now = clock.now();
    const longest = [...this.waiting].sort(([, a], [, b]) => a.since - b.since);
    const [, first] = longest[0]!;
    if (now - first.since < afterMs) {
      this.checkAt(first.since + afterMs);
      return;
    }
    if (now < this.nextQueueReadAt) {
      this.checkAt(this.nextQueueReadAt);
      return;
    }
    this.nextQueueReadAt = now + afterMs;
    const ready = await this.options.readyRuns();
    const due = longest.filter(([, run]) => now - run.since >= afterMs).slice(0, ready);
    for (const [runId, run] of due) {
      // Still waiting: its answer may have come while the queue was read.
      if (this.waiting.get(runId) !== run) continue;
      this.options.logger.debug({ runId, waitedMs: now - run.since }, 'run gives its slot back while its calls run: other runs are ready');
      run.giveBack();
    }
  }

  private checkAt(at: number): void {
    if (this.timer && this.timer.at <= at) return;
    this.timer?.cancel();
    const cancel = this.options.clock.schedule(at, () => {
      this.timer = undefined;
      this.options.pump();
    });
    this.timer = { at, cancel };
  }
}
