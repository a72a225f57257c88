import { createHmac } from 'node:crypto';
import { toError } from '../core/errors.js';
import type { CloudEvent, StoredEvent } from '../core/model.js';
import type { Clock, Logger, Store } from '../core/ports.js';
import { resolveRetryPolicy, retryDelay } from '../core/retry.js';
import { cloudEventOf } from '../core/router.js';

export interface Subscriber {
  url: string;
  /** Signs each delivery: `X-Autoflow-Signature: sha256=<hex HMAC of the body>`. */
  secret: string;
  /** Event types to deliver; every emitted event when absent. */
  types?: readonly string[];
}

/** Events that workflows emitted (`emit(...)`), as opposed to what came in from outside. */
const EMITTED_SOURCE = 'autoflow:workflow/';
/** Retried until delivered: no attempt limit, backoff capped at five minutes. */
const BACKOFF = resolveRetryPolicy({ initialInterval: 1000, backoffCoefficient: 2, maxInterval: 300_000 });
const BATCH = 100;

/** The HMAC a receiver recomputes over the raw body to check a delivery came from this server. */
export function signatureOf(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

interface Feed {
  subscriber: Subscriber;
  key: string;
  running: boolean;
  again: boolean;
  failures: number;
  retry?: () => void;
}

/**
 * Sends the events workflows emit to the operator's subscribers as signed CloudEvents POSTs, in
 * inbox order, each until it is accepted (2xx). Progress is a durable per-subscriber mark, so a
 * restart resumes where delivery stopped: at least once, never skipped.
 */
export class SubscriberDispatcher {
  private readonly feeds: Feed[];
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = true;

  constructor(
    private readonly deps: { store: Store; clock: Clock; logger: Logger; subscribers: readonly Subscriber[]; fetch?: typeof fetch; random?: () => number },
  ) {
    this.feeds = deps.subscribers.map((subscriber) => ({ subscriber, key: `subscriber:${subscriber.url}`, running: false, again: false, failures: 0 }));
  }

  async start(): Promise<void> {
    this.stopped = false;
    for (const feed of this.feeds) {
      // A new subscriber starts at the inbox's end: it receives what is emitted from now on.
      if ((await this.deps.store.getScheduleTick(feed.key)) === undefined) {
        const [newest] = await this.deps.store.listEvents({ limit: 1 });
        await this.deps.store.advanceScheduleTick(feed.key, newest?.seq ?? 0);
      }
    }
    this.notify();
  }

  /**
   * The highest inbox seq every subscriber has been given or has no use for: retention keeps the
   * events above it. Undefined without subscribers.
   */
  async deliveredThrough(): Promise<number | undefined> {
    if (this.feeds.length === 0) return undefined;
    const marks = await Promise.all(this.feeds.map((feed) => this.deps.store.getScheduleTick(feed.key)));
    return Math.min(...marks.map((mark) => mark ?? 0));
  }

  /** New events may be there: every feed that is not waiting for a retry looks. */
  notify(): void {
    for (const feed of this.feeds) if (!feed.retry) this.kick(feed);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const feed of this.feeds) feed.retry?.();
    await Promise.all(this.inFlight);
  }

  /** Resolves when no delivery is in progress (retries waiting on the clock do not count). */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private kick(feed: Feed): void {
    if (this.stopped) return;
    if (feed.running) {
      feed.again = true;
      return;
    }
    feed.running = true;
    const work = this.drain(feed)
      .catch((error: unknown) => this.deps.logger.error({ err: toError(error), subscriber: feed.subscriber.url }, 'subscriber delivery failed; retrying on the next event'))
      .finally(() => {
        feed.running = false;
        this.inFlight.delete(work);
        if (feed.again && !feed.retry) {
          feed.again = false;
          this.kick(feed);
        }
      });
    this.inFlight.add(work);
  }

  private async drain(feed: Feed): Promise<void> {
    for (;;) {
      feed.again = false;
      const cursor = (await this.deps.store.getScheduleTick(feed.key)) ?? 0;
      const events = await this.deps.store.listEventsAfter(cursor, BATCH);
      if (events.length === 0) return;
      for (const event of events) {
        if (this.wanted(feed.subscriber, event) && !(await this.deliver(feed, event))) return;
        await this.deps.store.advanceScheduleTick(feed.key, event.seq);
      }
    }
  }

  private wanted(subscriber: Subscriber, event: StoredEvent): boolean {
    return event.source.startsWith(EMITTED_SOURCE) && (!subscriber.types || subscriber.types.includes(event.type));
  }

  /** One attempt; on failure the feed pauses and a retry is scheduled with backoff. */
  private async deliver(feed: Feed, stored: StoredEvent): Promise<boolean> {
    const event: CloudEvent = cloudEventOf(stored);
    const body = JSON.stringify(event);
    let problem: string;
    try {
      const response = await (this.deps.fetch ?? fetch)(feed.subscriber.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/cloudevents+json',
          'x-autoflow-signature': signatureOf(feed.subscriber.secret, body),
          'x-autoflow-delivery': event.id,
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      if (response.ok) {
        feed.failures = 0;
        return true;
      }
      problem = `HTTP ${response.status}`;
    } catch (caught) {
      problem = toError(caught).message;
    }
    feed.failures++;
    const delay = retryDelay(BACKOFF, feed.failures, this.deps.random ?? Math.random);
    this.deps.logger.warn({ subscriber: feed.subscriber.url, event: event.id, attempt: feed.failures, retryInMs: delay }, `subscriber refused an event (${problem})`);
    const cancel = this.deps.clock.schedule(this.deps.clock.now() + delay, () => {
      feed.retry = undefined;
      this.kick(feed);
    });
    feed.retry = () => {
      cancel();
      feed.retry = undefined;
    };
    return false;
  }
}
