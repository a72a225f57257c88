import type { CallAnswer } from './call-executor.js';

/**
 * The calls one advance of a run makes itself right after committing them (the fast path,
 * docs/engine.md), and the mail that reaches the run meanwhile. The advance waits with `next()`,
 * which returns as soon as a call answers, mail arrives or no call is left running: a race of two
 * calls is won by the faster one, and a timer, an event or a cancel is not held up by a slow call.
 *
 * Where an answer goes is decided once, when the call answers: to the advance while it is open;
 * after `close` (the run ended, the engine stops, the advance failed) to `late`, the durable path
 * of claimed calls. So each answer reaches the run exactly once.
 */
export class InlineCalls {
  private answers: CallAnswer[] = [];
  private running = 0;
  private mail = false;
  private closed = false;
  /** Resolves the `next()` in progress. */
  private wake: (() => void) | undefined;
  /** Resolves the promise `close` returned, once no call is running. */
  private drained: (() => void) | undefined;

  /** `late` records an answer that came after `close`. */
  constructor(private readonly late: (answer: CallAnswer) => void) {}

  /**
   * A call started. `answer` resolves with what the workflow receives, or undefined when the call
   * has nothing for it (another attempt is scheduled); it must not reject.
   */
  add(answer: Promise<CallAnswer | undefined>): void {
    this.running++;
    void answer.then((answered) => this.settled(answered));
  }

  /** The store has new mail for the run, which the last commit may not have returned with it. */
  noteMail(): void {
    this.mail = true;
    this.wakeUp();
  }

  /** Returns once there is an answer or mail to take, or no call left to wait for. */
  async next(): Promise<void> {
    if (this.answers.length > 0 || this.mail || this.running === 0) return;
    await new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** The answers that came since the last take, in the order they came. */
  takeAnswers(): CallAnswer[] {
    const answers = this.answers;
    this.answers = [];
    return answers;
  }

  /** Whether mail was noted since the last take. */
  takeMail(): boolean {
    const mail = this.mail;
    this.mail = false;
    return mail;
  }

  get callsRunning(): number {
    return this.running;
  }

  /**
   * The advance is over: the answers it did not take, and those still to come, go to `late`.
   * Returns a promise that resolves once the last call running has answered and `late` has its
   * answer, or undefined when none is running.
   */
  close(): Promise<void> | undefined {
    this.closed = true;
    for (const answer of this.takeAnswers()) this.late(answer);
    if (this.running === 0) return undefined;
    return new Promise<void>((resolve) => (this.drained = resolve));
  }

  private settled(answer: CallAnswer | undefined): void {
    this.running--;
    if (answer && this.closed) this.late(answer);
    else if (answer) this.answers.push(answer);
    if (this.running === 0) this.drained?.();
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
