import { toError } from '../core/errors.js';
import type { Json } from '../core/model.js';
import type { Capability, CapabilityContext } from '../core/ports.js';

/** One attempt answered by test code, still waiting for its answer. */
interface InFlightCall {
  readonly runId: string;
  readonly step: number;
  readonly attempt: number;
  readonly name: string;
  /** Rejects the attempt: the environment closes while its answer never came. */
  readonly abandon: (error: Error) => void;
}

/**
 * The attempts that test code answers (mocks, the activities given to createTestEnv) while they wait for it.
 *
 * Test code answers in no virtual time: the clock moves only when the environment says so. An attempt still unanswered
 * once nothing else happens — a mock that never resolves, or one that waits on real time — is, as far as the run can
 * tell, a service that has not answered yet, like a GitLab call held by a `latency` fault: the environment counts it as
 * settled and moves time on, so that its `timeoutMs` strikes on the virtual clock as it would on a server. `generation`
 * changes whenever such an attempt starts or ends, which is how settle() tells a stalled attempt from a busy one.
 */
export class CallsInFlight {
  private readonly calls = new Set<InFlightCall>();
  private changes = 0;
  private waiters: Array<() => void> = [];

  /** Changes whenever an attempt starts or ends. */
  get generation(): number {
    return this.changes;
  }

  /** Whether an attempt waits for test code. */
  pending(): boolean {
    return this.calls.size > 0;
  }

  /** Resolves once an attempt waits for test code (at once if one does). */
  whenPending(): Promise<void> {
    if (this.pending()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The attempts of `runId` still unanswered: `activities.slowok (step 1, attempt 2)`. */
  unanswered(runId: string): string[] {
    return [...this.calls]
      .filter((call) => call.runId === runId)
      .map((call) => `${call.name} (step ${call.step}, attempt ${call.attempt})`);
  }

  /** Fails every attempt still waiting with `error`: the environment closes, and a mock that never answers must not hold it. */
  abandonAll(error: Error): void {
    for (const call of this.calls) call.abandon(error);
  }

  /** `capability`, its attempts tracked while they wait for it. */
  track(capability: Capability): Capability['invoke'] {
    return (method, args, context) => this.answer(`${capability.name}.${method}`, context, () => capability.invoke(method, args, context));
  }

  private answer(name: string, context: CapabilityContext, work: () => Promise<Json>): Promise<Json> {
    return new Promise<Json>((resolve, reject) => {
      const call: InFlightCall = { runId: context.runId, step: context.step, attempt: context.attempt, name, abandon: reject };
      const end = (): void => {
        context.signal.removeEventListener('abort', end);
        if (this.calls.delete(call)) this.changes++;
      };
      this.calls.add(call);
      this.changes++;
      for (const wake of this.waiters.splice(0)) wake();
      // An attempt given up (its timeoutMs passed, its run ended) waits no more, though its mock may never answer.
      context.signal.addEventListener('abort', end, { once: true });
      let answered: Promise<Json>;
      try {
        answered = work();
      } catch (caught) {
        answered = Promise.reject(toError(caught));
      }
      answered.then(resolve, reject).finally(end);
    });
  }
}
