/**
 * Who gets an event delivered to one of the run's waits.
 *
 * The engine delivers an event to every wait of the run parked on it, and a wait stays parked until an
 * event or its timeout comes, whatever the workflow does meanwhile: the wait of a `race` branch that lost
 * is still there. Left alone, such a wait would swallow what a later `signal()` or `waitFor()` needs —
 * the store refuses to bring a run an event it has received once. So the wait's step is only the way in;
 * this module decides, inside the sandbox, who gets the event:
 *
 * - signals of one name form a FIFO channel: each `signal(name)` call takes the next one, in call order;
 *   a signal that reaches a wait whose `signal()` is no longer waiting (it lost a race, or took another
 *   one) goes to the oldest `signal(name)` still waiting, else is kept for the next call, which then
 *   resolves without waiting. A `signal()` whose own wait was used up that way waits again (a new wait).
 * - `waitFor(type, { match })` keeps its broadcast: every waiting `waitFor` gets the events its wait
 *   receives. An event that reaches a wait whose `waitFor` lost a race goes to the `waitFor`s of the
 *   type still waiting whose match it satisfies, else is kept for the next one whose match it satisfies.
 * - a branch that lost an autoflow `race` gives back the event it took in the same workflow task.
 * - a branch that lost is set aside, not dropped: its promise may be used again (a long-lived
 *   `signal('approve')` raced against a reminder timer in a loop). Used again — passed to `race` or
 *   `Promise.all`, awaited, any `.then` — it waits again in its place, and takes what was kept for it
 *   (see `Observed`). An event it gave back that is still kept goes back to it, since its promise has it.
 *
 * Everything here follows from the resolutions, in the order history delivers them: a replay decides
 * the same. Runs recorded by SDKs before this one replay as they ran (`autoflow retry --latest`,
 * `autoflow replay`): where the two differ, the run is asked `patched(CHANNELS_PATCH)`, which is true
 * for a run that goes on live (and records the marker in that task) and false for one whose history has
 * no marker; then each wait keeps what reaches it, as before.
 */
import { eventKeyForShape, waitIndexEntry } from '../core/correlation.js';
import { SIGNAL_EVENT_PREFIX, type CloudEvent, type Json } from '../core/model.js';
import type { WorkflowRuntime } from './runtime.js';

/** Recorded in the first workflow task where the channels decide differently from SDKs without them. */
export const CHANNELS_PATCH = 'autoflow.wait-channels';

type ConsumerState = 'waiting' | 'done' | 'released';

/**
 * The promise of a `signal()`, `waitFor()` or `race`: each `.then` on it — which `await`,
 * `Promise.all` and `race` all make — tells the channels that it is in use (again). Derived promises
 * are plain ones.
 */
export class Observed<T> extends Promise<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  override then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    observers.get(this)?.();
    return super.then(onFulfilled, onRejected);
  }
}

/** What an Observed promise does when it is used; set by WaitChannels. */
const observers = new WeakMap<object, () => void>();

interface Consumer {
  /** Call order: a consumer set aside comes back to its place in its channel. */
  order: number;
  /** `signal` calls share a FIFO channel; `event` calls (waitFor) each get every matching event. */
  kind: 'signal' | 'event';
  /** Which channel: `kind` and the event type. */
  channel: string;
  eventType: string;
  match: Record<string, Json>;
  paths: string[];
  key: string;
  timeoutAt?: number;
  operation: string;
  state: ConsumerState;
  /** Whether a wait of its own is parked: one that brought an event someone else got is used up. */
  armed: boolean;
  /** The event it got, and in which workflow task: a race it loses in that task gives it back (see release). */
  taken?: CloudEvent | null;
  takenInTask?: number;
  resolve(event: CloudEvent | null): void;
  reject(reason: unknown): void;
}

/** An event's identity: CloudEvents' `source` and `id` are unique together. */
function identity(event: CloudEvent): string {
  return `${event.source}\n${event.id}`;
}

export class WaitChannels {
  /** Per channel, the consumers still waiting, in call order. */
  private readonly waiting = new Map<string, Consumer[]>();
  /** Per channel, events that reached no consumer, oldest first. */
  private readonly kept = new Map<string, CloudEvent[]>();
  /** Per kind, the events already handed out or kept: the same event reaching two waits counts once. */
  private readonly seen = new Set<string>();
  /** What releases a promise that lost a race: signal() and waitFor() promises, and races themselves. */
  private readonly releasers = new WeakMap<object, () => void>();
  private opened = 0;

  constructor(private readonly runtime: WorkflowRuntime) {}

  /**
   * A wait for an event of `eventType` matching `match`: a kept event it matches, at once, or the one its
   * wait (issued here, as a durable step) brings. Resolves to the event, or to null on the timeout.
   */
  open(
    kind: Consumer['kind'],
    operation: string,
    eventType: string,
    match: Record<string, Json>,
    timeoutAt: number | undefined,
  ): Promise<CloudEvent | null> {
    this.runtime.requireRunning(operation);
    const { paths, key } = waitIndexEntry(match);
    let consumer: Consumer | undefined;
    const promise = new Observed<CloudEvent | null>((resolve, reject) => {
      consumer = {
        order: this.opened++,
        kind,
        channel: `${kind}:${eventType}`,
        eventType,
        match,
        paths,
        key,
        operation,
        state: 'waiting',
        armed: false,
        resolve,
        reject,
        ...(timeoutAt !== undefined && { timeoutAt }),
      };
    });
    const created = consumer as Consumer;
    this.releasers.set(promise, () => this.releaseConsumer(created));
    observers.set(promise, () => this.reacquireConsumer(created));
    const kept = this.kept.get(created.channel) ?? [];
    const index = kept.findIndex((event) => this.matches(created, event));
    if (index >= 0) {
      const [event] = kept.splice(index, 1);
      this.take(created, event as CloudEvent);
    } else {
      this.queueOf(created.channel).push(created);
      this.arm(created);
    }
    return promise;
  }

  /**
   * Makes `promise` run `release` when it loses a race, and `reacquire` when it is used again: a race's
   * own promise sets aside, and takes back, its branches.
   */
  onRelease(promise: object, release: () => void, reacquire: () => void): void {
    this.releasers.set(promise, release);
    observers.set(promise, reacquire);
  }

  /** `promise` lost a race: a signal() or waitFor() is no longer a consumer, and gives back what it took. */
  release(promise: unknown): void {
    if (typeof promise !== 'object' || promise === null) return;
    this.releasers.get(promise)?.();
  }

  /**
   * The signals the run received that no `signal()` took, in the order the calls would have taken them: a
   * continue-as-new hands them to the next run of its chain.
   */
  unconsumedSignals(): Array<{ source: string; id: string }> {
    return [...this.kept]
      .filter(([channel]) => channel.startsWith('signal:'))
      .flatMap(([, events]) => events.map((event) => ({ source: event.source, id: event.id })));
  }

  /** `promise` is in use again after it lost a race (see Observed). */
  reacquire(promise: unknown): void {
    if (typeof promise !== 'object' || promise === null) return;
    observers.get(promise)?.();
  }

  // -- internals -------------------------------------------------------------------------------

  private arm(consumer: Consumer): void {
    consumer.armed = true;
    this.runtime.scheduleWait(
      consumer.operation,
      () => ({
        kind: 'wait',
        eventType: consumer.eventType,
        match: consumer.match,
        ...(consumer.timeoutAt !== undefined && { timeoutAt: consumer.timeoutAt }),
      }),
      (event) => this.delivered(consumer, event),
      (reason) => {
        // A cancel rejects what is pending: this consumer waits no more.
        this.leave(consumer);
        consumer.state = 'done';
        consumer.reject(reason);
      },
    );
  }

  /** The resolution of `consumer`'s current wait: `event`, or null when its timeout passed. */
  private delivered(consumer: Consumer, event: CloudEvent | null): void {
    consumer.armed = false;
    if (event === null) {
      // A timeout is the consumer's own: the same for every SDK. A released one settles unseen.
      if (consumer.state !== 'done') this.take(consumer, null);
      return;
    }
    const fresh = !this.seen.has(`${consumer.kind}:${identity(event)}`);
    if (consumer.state === 'waiting' && (consumer.kind === 'event' || (fresh && this.queueOf(consumer.channel)[0] === consumer))) {
      // What every SDK did: the wait's own `signal()` / `waitFor()` takes it.
      this.take(consumer, event);
      return;
    }
    if (!this.channels()) {
      // A run recorded before the channels: each wait took what reached it, whoever still listened.
      if (consumer.state !== 'done') this.take(consumer, event);
      return;
    }
    if (fresh) this.handOut(consumer.kind, consumer.channel, event, 'back');
    // Its wait was used up by an event someone else got: it waits again, for the next one.
    if (consumer.state === 'waiting') this.arm(consumer);
  }

  /** `event` reached no consumer of its own: the oldest waiting signal(), or the matching waitFor()s, get it, else it is kept. */
  private handOut(kind: Consumer['kind'], channel: string, event: CloudEvent, keepAt: 'front' | 'back'): void {
    this.seen.add(`${kind}:${identity(event)}`);
    const queue = this.queueOf(channel);
    const takers = kind === 'signal' ? queue.slice(0, 1) : queue.filter((consumer) => this.matches(consumer, event));
    for (const consumer of takers) this.take(consumer, event);
    if (takers.length > 0) return;
    const kept = this.kept.get(channel) ?? [];
    if (keepAt === 'front') kept.unshift(event);
    else kept.push(event);
    this.kept.set(channel, kept);
  }

  private take(consumer: Consumer, event: CloudEvent | null): void {
    this.leave(consumer);
    consumer.state = 'done';
    consumer.taken = event;
    consumer.takenInTask = this.runtime.task();
    if (event) this.seen.add(`${consumer.kind}:${identity(event)}`);
    consumer.resolve(event);
  }

  /**
   * The consumer lost a race. Waiting, it leaves its channel (its wait, still parked, now only feeds
   * the others). Done with an event in the task that decided the race, it gives the event back,
   * first in line: it came before anything kept.
   */
  private releaseConsumer(consumer: Consumer): void {
    if (consumer.state === 'waiting') {
      this.leave(consumer);
      consumer.state = 'released';
      return;
    }
    const event = consumer.taken;
    // Taken in an earlier task, the event may have been seen by the workflow already: it stays taken.
    if (consumer.state !== 'done' || !event || consumer.takenInTask !== this.runtime.task() || !this.channels()) return;
    consumer.state = 'released';
    this.handOut(consumer.kind, consumer.channel, event, 'front');
  }

  /**
   * A consumer set aside is in use again. One that was waiting waits again in its place and takes what
   * was kept for it; one that gave back the event its promise holds takes it back while it is kept.
   */
  private reacquireConsumer(consumer: Consumer): void {
    if (consumer.state !== 'released') return;
    const kept = this.kept.get(consumer.channel) ?? [];
    if (consumer.taken !== undefined) {
      consumer.state = 'done';
      const index = consumer.taken === null ? -1 : kept.indexOf(consumer.taken);
      if (index >= 0) kept.splice(index, 1);
      return;
    }
    const index = kept.findIndex((event) => this.matches(consumer, event));
    if (index >= 0) {
      const [event] = kept.splice(index, 1);
      this.take(consumer, event as CloudEvent);
      return;
    }
    consumer.state = 'waiting';
    const queue = this.queueOf(consumer.channel);
    const at = queue.findIndex((other) => other.order > consumer.order);
    queue.splice(at < 0 ? queue.length : at, 0, consumer);
    if (!consumer.armed) this.arm(consumer);
  }

  private leave(consumer: Consumer): void {
    const queue = this.queueOf(consumer.channel);
    const index = queue.indexOf(consumer);
    if (index >= 0) queue.splice(index, 1);
  }

  private queueOf(channel: string): Consumer[] {
    let queue = this.waiting.get(channel);
    if (!queue) {
      queue = [];
      this.waiting.set(channel, queue);
    }
    return queue;
  }

  /** A signal() of the run takes any of the run's signals of its name; a waitFor() what its match selects. */
  private matches(consumer: Consumer, event: CloudEvent): boolean {
    return consumer.kind === 'signal' || eventKeyForShape(event, consumer.paths) === consumer.key;
  }

  /** Whether the run decides by channels (see the module's comment); asked only where that changes anything. */
  private channels(): boolean {
    return this.runtime.patched(CHANNELS_PATCH);
  }
}

/** The wait type of the signal `name`. */
export function signalEventType(name: string): string {
  return `${SIGNAL_EVENT_PREFIX}${name}`;
}
