import { createHmac } from 'node:crypto';
import { fetchFailure } from '../capabilities/fetch-failure.js';
import { parseRetryAfter } from '../capabilities/http.js';
import { toError } from '../core/errors.js';
import { triggerMatches } from '../core/filter.js';
import type { CloudEvent, StoredEvent } from '../core/model.js';
import type { Clock, Logger, Store } from '../core/ports.js';
import { resolveRetryPolicy, retryDelay } from '../core/retry.js';
import { cloudEventOf } from '../core/router.js';
import { subscriberEndpoint, subscriberName } from './subscriber-name.js';

export interface Subscriber {
  url: string;
  /** What logs and metrics call it (see `subscriberName`). */
  name?: string;
  /** Signs each delivery: `X-Autoflow-Signature: sha256=<hex HMAC of the body>`. */
  secret: string;
  /** Event types to deliver, each exact or a glob as in triggers (`com.example.*`); every emitted event when absent. */
  types?: readonly string[];
  /**
   * How long a delivery waits for its answer before it counts as failed and is retried: a receiver slower than this
   * gets the event again. @default DEFAULT_DELIVERY_TIMEOUT_MS
   */
  timeoutMs?: number;
}

/** One subscriber's backlog, read from the store: the same on every node. */
export interface SubscriberBacklog {
  /** The subscriber's name (see `subscriberName`). */
  subscriber: string;
  /** Inbox events past its mark, of any type: an upper bound of what it still has to receive. */
  events: number;
  /** How long the first event past its mark has waited; 0 when there is none. */
  oldestSeconds: number;
  /** Whether this node holds its lease, and so is the one delivering to it (and logging about it). */
  held: boolean;
}

export interface DispatcherDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  subscribers: readonly Subscriber[];
  /** This node's identity in the subscribers' leases. @default 'local' */
  nodeId?: string;
  /** How long a node that stopped answering keeps a subscriber from the others. @default 30000 */
  leaseMs?: number;
  /**
   * How often a node looks for events other nodes routed and for a lease handed back or lapsed;
   * null: only at heartbeats (a third of the lease). @default 1000
   */
  pollMs?: number | null;
  fetch?: typeof fetch;
  random?: () => number;
  /** Each delivery attempt: `ok`, or why it failed (an HTTP status such as `404`, `timeout`, `network`). */
  onAttempt?: (subscriber: string, status: string) => void;
}

/** Events that workflows emitted (`emit(...)`), as opposed to what came in from outside. */
const EMITTED_SOURCE = 'autoflow:workflow/';
/** Retried until delivered: no attempt limit, backoff capped at five minutes. */
const BACKOFF = resolveRetryPolicy({ initialInterval: 1000, backoffCoefficient: 2, maxInterval: 300_000 });
const BATCH = 100;
/** How long a delivery waits for its answer unless the subscriber says otherwise (`timeoutMs`). */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
/** Characters of a refusal's body kept for the log: receivers often say there why they refused. */
const ANSWER_CHARS = 300;

/** The HMAC a receiver recomputes over the raw body to check a delivery came from this server. */
export function signatureOf(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A grant of a subscriber's lease, as this node knows it. */
interface Lease {
  token: number;
  until: number;
  renewAt: number;
}

interface Feed {
  subscriber: Subscriber;
  endpoint: { url: string; authorization?: string };
  key: string;
  name: string;
  lease?: Lease;
  /** Until when another node holds the lease, as of the last refusal. */
  heldElsewhereUntil: number;
  acquiring?: Promise<Lease | undefined>;
  renewing: boolean;
  running: boolean;
  again: boolean;
  failures: number;
  retry?: () => void;
}

/** The start of a response's body, on one line. */
async function answerOf(response: Response): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
  if (!reader) return '';
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < ANSWER_CHARS) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // What was read so far is all the log gets.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, ANSWER_CHARS);
}

/**
 * What a refusal's log adds for a redirect: where it pointed, named as subscribers are (without credentials, query or
 * fragment, which may carry the subscriber's own secrets along), and that it is not followed.
 */
function redirectNote(response: Response, url: string): string {
  const location = response.headers.get('location');
  if (response.status < 300 || response.status > 399 || location === null) return '';
  let target: string;
  try {
    target = subscriberName({ url: new URL(location, url).href });
  } catch {
    target = '(an invalid URL)';
  }
  return ` redirecting to ${target}: redirects are not followed, set the subscriber's url to where it points`;
}

/**
 * Sends the events workflows emit to the operator's subscribers as signed CloudEvents POSTs, in
 * inbox order, each until it is accepted (2xx). Progress is a durable per-subscriber mark, so a
 * restart resumes where delivery stopped: at least once, never skipped.
 *
 * Each subscriber is delivered to by one node at a time, the holder of its lease in the store
 * (renewed at heartbeats, handed back on stop, taken over by another node once it lapses). The
 * mark moves only under the holder's grant: a node that stalled past its lease cannot move it. An
 * event is sent again after an attempt that failed, however far the receiver got with it (one that
 * answers after the subscriber's `timeoutMs`), and when its node stopped between the POST and
 * recording it; receivers drop repeats by the body's `id` and `source`.
 */
export class SubscriberDispatcher {
  private readonly feeds: Feed[];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly nodeId: string;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private stopped = true;
  private cancelHeartbeat?: () => void;

  constructor(private readonly deps: DispatcherDeps) {
    this.nodeId = deps.nodeId ?? 'local';
    this.leaseMs = deps.leaseMs ?? 30_000;
    this.heartbeatMs = Math.min(deps.pollMs === null ? Infinity : (deps.pollMs ?? 1000), this.leaseMs / 3);
    this.feeds = deps.subscribers.map((subscriber) => ({
      subscriber,
      endpoint: subscriberEndpoint(subscriber.url),
      key: `subscriber:${subscriber.url}`,
      name: subscriberName(subscriber),
      heldElsewhereUntil: 0,
      renewing: false,
      running: false,
      again: false,
      failures: 0,
    }));
  }

  async start(): Promise<void> {
    this.stopped = false;
    // Before anything is emitted: the holder of a new subscriber's first lease starts its mark at the inbox's end.
    await Promise.all(this.feeds.map((feed) => this.acquire(feed)));
    this.scheduleHeartbeat();
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

  /** Each subscriber's backlog (for metrics). */
  async backlog(): Promise<SubscriberBacklog[]> {
    const { store, clock } = this.deps;
    const [newest] = await store.listEvents({ limit: 1 });
    return Promise.all(
      this.feeds.map(async (feed) => {
        const mark = await store.getScheduleTick(feed.key);
        const [next] = mark === undefined ? [] : await store.listEventsAfter(mark, 1);
        return {
          subscriber: feed.name,
          events: mark === undefined ? 0 : Math.max(0, (newest?.seq ?? 0) - mark),
          oldestSeconds: next ? Math.max(0, clock.now() - next.receivedAt) / 1000 : 0,
          held: feed.lease !== undefined,
        };
      }),
    );
  }

  /** New events may be there: every feed this node delivers to, or may take over, looks, unless it waits for a retry. */
  notify(): void {
    const now = this.deps.clock.now();
    for (const feed of this.feeds) if (!feed.retry && (feed.lease || feed.heldElsewhereUntil <= now)) this.kick(feed);
  }

  /** Stops delivering and hands the leases back, so that another node takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelHeartbeat?.();
    for (const feed of this.feeds) feed.retry?.();
    await this.whenIdle();
    await Promise.all(
      this.feeds.map(async (feed) => {
        const lease = feed.lease;
        if (!lease) return;
        feed.lease = undefined;
        try {
          await this.deps.store.releaseSubscriberLease(feed.key, lease.token);
        } catch (error) {
          this.deps.logger.warn(
            { err: toError(error), subscriber: feed.name },
            `handing back the lease of subscriber ${feed.name} failed; another node takes it over once it lapses`,
          );
        }
      }),
    );
  }

  /** Resolves when no delivery or heartbeat is in progress (retries waiting on the clock do not count). */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private scheduleHeartbeat(): void {
    if (this.stopped || this.feeds.length === 0) return;
    this.cancelHeartbeat = this.deps.clock.schedule(this.deps.clock.now() + this.heartbeatMs, () => {
      this.scheduleHeartbeat();
      for (const feed of this.feeds) this.heartbeat(feed);
    });
  }

  /** Renews a lease this node holds; finds events other nodes routed, and a lease handed back or lapsed. */
  private heartbeat(feed: Feed): void {
    const lease = feed.lease;
    if (lease && !feed.renewing && this.deps.clock.now() >= lease.renewAt) this.track(this.renew(feed, lease));
    if (!feed.retry) this.kick(feed);
  }

  private async renew(feed: Feed, lease: Lease): Promise<void> {
    feed.renewing = true;
    try {
      const now = this.deps.clock.now();
      if (!(await this.deps.store.renewSubscriberLease(feed.key, lease.token, now + this.leaseMs))) {
        this.lose(feed, lease, 'another node took its lease over');
      } else if (feed.lease === lease) {
        lease.until = now + this.leaseMs;
        lease.renewAt = now + this.leaseMs / 3;
      }
    } catch (error) {
      this.deps.logger.warn(
        { err: toError(error), subscriber: feed.name },
        `renewing the lease of subscriber ${feed.name} failed; trying again at the next heartbeat`,
      );
    } finally {
      feed.renewing = false;
    }
  }

  /** This node no longer delivers to the feed: a retry it waited for is the next holder's. */
  private lose(feed: Feed, lease: Lease, why: string): void {
    if (feed.lease !== lease) return;
    feed.lease = undefined;
    feed.retry?.();
    feed.failures = 0;
    this.deps.logger.warn({ subscriber: feed.name }, `this node stopped delivering to subscriber ${feed.name}: ${why}`);
  }

  /** The feed's lease: the one held, or a new grant; undefined while another node holds it. */
  private acquire(feed: Feed): Promise<Lease | undefined> {
    if (feed.lease) return Promise.resolve(feed.lease);
    feed.acquiring ??= this.grant(feed).finally(() => (feed.acquiring = undefined));
    return feed.acquiring;
  }

  private async grant(feed: Feed): Promise<Lease | undefined> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const grant = await store.acquireSubscriberLease(feed.key, this.nodeId, now, now + this.leaseMs);
    if (!grant.acquired) {
      feed.heldElsewhereUntil = grant.until;
      return undefined;
    }
    const lease: Lease = { token: grant.token, until: now + this.leaseMs, renewAt: now + this.leaseMs / 3 };
    feed.lease = lease;
    feed.heldElsewhereUntil = 0;
    this.deps.logger.info({ subscriber: feed.name }, `this node delivers to subscriber ${feed.name}`);
    // A new subscriber receives what is emitted from the moment it is configured.
    if ((await store.getScheduleTick(feed.key)) === undefined) {
      const [newest] = await store.listEvents({ limit: 1 });
      const start = newest?.seq ?? 0;
      // Said once, when the mark is made: a URL changed in the config makes a new subscriber too, and the operator who
      // changed it would otherwise not know that the old URL's undelivered events stay behind.
      if (await store.advanceSubscriberMark(feed.key, lease.token, start)) {
        this.deps.logger.info(
          { subscriber: feed.name, afterSeq: start },
          `subscriber ${feed.name} is new to this database: it is sent the events emitted from now on, after inbox event ${start}. ` +
            "A subscriber is known by its url: if this one's url was changed, the events its old url had not been sent stay behind " +
            '(docs/deploy.md#outgoing-subscribers says how to carry its place over)',
        );
      }
    }
    return lease;
  }

  private kick(feed: Feed): void {
    if (this.stopped) return;
    if (feed.running) {
      feed.again = true;
      return;
    }
    feed.running = true;
    const work = this.drain(feed)
      .catch((error: unknown) =>
        this.deps.logger.error(
          { err: toError(error), subscriber: feed.name },
          `delivering to subscriber ${feed.name} failed; trying again at the next heartbeat`,
        ),
      )
      .finally(() => {
        feed.running = false;
        if (feed.again && !feed.retry) {
          feed.again = false;
          this.kick(feed);
        }
      });
    this.track(work);
  }

  private async drain(feed: Feed): Promise<void> {
    const { store, clock } = this.deps;
    for (;;) {
      feed.again = false;
      const lease = await this.acquire(feed);
      if (!lease || feed.retry || this.stopped) return;
      const cursor = (await store.getScheduleTick(feed.key)) ?? 0;
      const events = await store.listEventsAfter(cursor, BATCH);
      if (events.length === 0) return;
      // Events the subscriber has no use for are passed with one move of the mark, not one each.
      let passed: number | undefined;
      for (const event of events) {
        if (!this.wanted(feed.subscriber, event)) {
          passed = event.seq;
          continue;
        }
        if (this.stopped) return;
        if (clock.now() >= lease.until) {
          // Stalled past its own lease: another node may be delivering already. A new grant re-reads the mark.
          this.lose(feed, lease, 'its lease ran out before the next delivery (this node or its store was too slow to renew it)');
          feed.again = true;
          return;
        }
        if (!(await this.deliver(feed, event))) return;
        if (!(await this.advance(feed, lease, event.seq))) return;
        passed = undefined;
      }
      if (passed !== undefined && !(await this.advance(feed, lease, passed))) return;
    }
  }

  private async advance(feed: Feed, lease: Lease, seq: number): Promise<boolean> {
    if (await this.deps.store.advanceSubscriberMark(feed.key, lease.token, seq)) return true;
    this.lose(
      feed,
      lease,
      `its mark could not be moved to event ${seq}: another node took its lease over, or the mark was moved on by hand`,
    );
    feed.again = true;
    return false;
  }

  private wanted(subscriber: Subscriber, event: StoredEvent): boolean {
    if (!event.source.startsWith(EMITTED_SOURCE)) return false;
    // The trigger rule itself, so that `types` reads as a trigger's `event` does: exact, or a glob with `*`.
    return !subscriber.types || subscriber.types.some((type) => triggerMatches({ event: type }, event));
  }

  /** One attempt; on failure the feed pauses and a retry is scheduled with backoff. */
  private async deliver(feed: Feed, stored: StoredEvent): Promise<boolean> {
    const { clock } = this.deps;
    const event: CloudEvent = cloudEventOf(stored);
    const body = JSON.stringify(event);
    const timeoutMs = feed.subscriber.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    // On the dispatcher's clock, as its retries are: the same TimeoutError as AbortSignal.timeout's.
    const timeout = new AbortController();
    const cancelTimeout = clock.schedule(clock.now() + timeoutMs, () =>
      timeout.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    );
    let status: string;
    let problem: string;
    let err: Error | undefined;
    let retryAfterMs: number | undefined;
    try {
      const response = await (this.deps.fetch ?? fetch)(feed.endpoint.url, {
        method: 'POST',
        headers: {
          ...(feed.endpoint.authorization !== undefined && { authorization: feed.endpoint.authorization }),
          'content-type': 'application/cloudevents+json',
          'x-autoflow-signature': signatureOf(feed.subscriber.secret, body),
          'x-autoflow-delivery': event.id,
        },
        body,
        // Followed, a redirect would send the delivery's headers on to wherever it points (as a GET without the body
        // after a 301, 302 or 303), and its answer would count the event delivered.
        redirect: 'manual',
        signal: timeout.signal,
      });
      if (response.ok) {
        await response.body?.cancel();
        feed.failures = 0;
        this.deps.onAttempt?.(feed.name, 'ok');
        return true;
      }
      const answer = await answerOf(response);
      // A receiver that is busy or rate-limited says when to come back; sooner would only be refused again.
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), clock.now());
      status = String(response.status);
      problem = `HTTP ${response.status}${answer ? ` ${JSON.stringify(answer)}` : ''}${redirectNote(response, feed.endpoint.url)}`;
    } catch (caught) {
      const failure = fetchFailure(caught);
      status = failure.timedOut ? 'timeout' : 'network';
      problem = failure.timedOut
        ? `no answer within ${timeoutMs / 1000} s (its timeoutMs), so it is sent again: a receiver that accepted it late gets it twice`
        : failure.description;
      err = failure.error;
    } finally {
      cancelTimeout();
    }
    this.scheduleRetry(feed, stored, { status, problem, err, retryAfterMs });
    return false;
  }

  private scheduleRetry(
    feed: Feed,
    event: StoredEvent,
    { status, problem, err, retryAfterMs }: { status: string; problem: string; err: Error | undefined; retryAfterMs: number | undefined },
  ): void {
    const { clock, logger } = this.deps;
    feed.failures++;
    this.deps.onAttempt?.(feed.name, status);
    const nextAt = clock.now() + retryDelay(BACKOFF, feed.failures, this.deps.random ?? Math.random, retryAfterMs);
    const next = new Date(nextAt).toISOString();
    logger.warn(
      {
        subscriber: feed.name,
        event: { seq: event.seq, type: event.type, id: event.id },
        // Not `status`, which the request lines give as a number: one field name, one type, for log stores.
        failure: status,
        attempt: feed.failures,
        nextAttemptAt: next,
        ...(err ? { err } : {}),
      },
      `subscriber ${feed.name} did not accept event ${event.seq} (${event.type}, id ${event.id}): ${problem}; attempt ${feed.failures}, ` +
        `next at ${next}. Its later events wait until this one is accepted (docs/deploy.md#outgoing-subscribers)`,
    );
    const cancel = clock.schedule(nextAt, () => {
      feed.retry = undefined;
      this.kick(feed);
    });
    feed.retry = () => {
      cancel();
      feed.retry = undefined;
    };
  }
}
