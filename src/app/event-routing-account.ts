import { CapabilityError, toError } from '../core/errors.js';
import type { CloudEvent } from '../core/model.js';
import type { Capability, CapabilityContext, Clock, Logger } from '../core/ports.js';
import type { OwnAccount, OwnEventSkip } from '../core/router.js';
import { gitlabEventActor } from '../gitlab/event-actor.js';

/** Asks GitLab whose the token is: the username of `GET /api/v4/user`. */
export type AccountLookup = (signal: AbortSignal) => Promise<string>;

export interface GitLabAccountOptions {
  /** `gitlabUsername` of the configuration: the account from the start, until GitLab names the token's user. */
  configured?: string | undefined;
  /** Asks GitLab; absent (no GitLab, no simulator): the configured name only. */
  lookUp?: AccountLookup | undefined;
  clock: Clock;
  logger: Logger;
  /** How long one lookup may take. @default 5000, as the start-up check */
  timeoutMs?: number;
  /** The wait before the first retry, doubled after each failure up to `maxRetryMs`. @default 1000 */
  firstRetryMs?: number;
  /**
   * The longest wait between lookups, and the wait after an answer no retry soon will change (a token refused, a
   * proxy's page). @default 60000: a GitLab that comes back is known within a minute
   */
  maxRetryMs?: number;
}

/**
 * AutoFlow's own GitLab account for the router (core/router.ts, OwnAccount): the user of its token, or of the
 * built-in simulator's bot, whose events start no run. It is looked up when the runtime starts; while GitLab does not
 * answer, the lookup is retried in the background (1 s, doubling, at most a minute apart; a minute apart at once after an
 * answer that someone has to fix, such as a refused token or a proxy's page), and until it answers the
 * configured `gitlabUsername` counts, or — without one — no event counts as AutoFlow's: nothing is skipped that might
 * be a person's, and a loop cannot run anyway while GitLab refuses AutoFlow's calls too.
 */
export class GitLabAccount implements OwnAccount {
  private known: string | undefined;
  private cancelRetry: (() => void) | undefined;
  private stopped = false;
  /** Lookups that failed so far, and the message of the last failure warned of. */
  private failures = 0;
  private lastWarned: string | undefined;

  constructor(private readonly options: GitLabAccountOptions) {
    this.known = options.configured;
  }

  name(): string | undefined {
    return this.known;
  }

  actorOf(event: CloudEvent): string | undefined {
    return gitlabEventActor(event);
  }

  skipped({ definition, trigger, event, actor }: OwnEventSkip): void {
    const spec = definition.manifest.triggers[trigger];
    const on = spec && 'event' in spec ? ` (${spec.event})` : '';
    this.options.logger.info(
      { workflow: definition.name, trigger, actor, event: { seq: event.seq, type: event.type, id: event.id, source: event.source } },
      `trigger ${trigger}${on} of workflow ${definition.name} started no run for event ${event.type} (id ${event.id}): ` +
        `@${actor}, AutoFlow's own GitLab account, caused it, and a workflow must not trigger itself without end; ` +
        'to start runs for such events, give the trigger includeOwnEvents: true and a filter that stops the loop',
    );
  }

  /** Looks the account up once; on a failure GitLab answered (or did not answer at all), goes on in the background. Never throws. */
  async start(): Promise<void> {
    await this.attempt(this.options.firstRetryMs ?? 1000);
  }

  stop(): void {
    this.stopped = true;
    this.cancelRetry?.();
  }

  private async attempt(backoffMs: number): Promise<void> {
    const { lookUp, logger, configured } = this.options;
    if (lookUp === undefined || this.stopped) return;
    let username: string;
    try {
      username = await lookUp(AbortSignal.timeout(this.options.timeoutMs ?? 5000));
    } catch (caught) {
      if (!this.stopped) this.failed(toError(caught), backoffMs);
      return;
    }
    if (this.stopped) return;
    if (configured !== undefined && configured.toLowerCase() !== username.toLowerCase()) {
      logger.warn(
        { configured, username },
        `gitlabUsername is @${configured} but AutoFlow's token belongs to @${username}: triggers skip the events of @${username}, who is the account AutoFlow acts as; correct gitlabUsername (AUTOFLOW_GITLAB_USERNAME)`,
      );
    }
    this.known = username;
    const recovered =
      this.failures === 0 ? '' : `GitLab answered after ${this.failures} failed ${this.failures === 1 ? 'lookup' : 'lookups'}: `;
    logger.info(
      { username, failedLookups: this.failures },
      `${recovered}triggers start no run for the GitLab events that @${username} (AutoFlow's own account) causes, unless they have includeOwnEvents: true`,
    );
  }

  /**
   * Warns of a failed lookup, unless it failed as the one before did (a GitLab down for an hour would otherwise say so
   * sixty times), and asks again when the error came from GitLab.
   */
  private failed(error: Error, backoffMs: number): void {
    const { clock, logger, configured } = this.options;
    const maxRetryMs = this.options.maxRetryMs ?? 60_000;
    this.failures++;
    // Every failure the capability reports may pass: GitLab unreachable or a 5xx soon, so with the backoff; a token
    // refused or a proxy's maintenance page once someone acts, so at the longest interval. An error of another kind (a
    // test's mock that throws, say) is asked once: a retry timer would keep a virtual clock's tests waking up for ever.
    const waitMs = error instanceof CapabilityError ? (error.retryable ? backoffMs : maxRetryMs) : undefined;
    const again = waitMs === undefined ? '' : `; asking again in ${waitMs} ms`;
    if (error.message === this.lastWarned) {
      logger.debug(
        { err: error, failedLookups: this.failures, retryInMs: waitMs },
        `GitLab still did not say which account AutoFlow acts as (${error.message})${again}`,
      );
    } else {
      this.lastWarned = error.message;
      const consequence =
        configured === undefined
          ? 'triggers cannot tell the events AutoFlow causes itself, so a workflow that changes what triggered it may trigger itself again; set gitlabUsername (AUTOFLOW_GITLAB_USERNAME) to the user of its token'
          : `triggers skip the events of the configured gitlabUsername @${configured}`;
      logger.warn(
        { err: error, failedLookups: this.failures, ...(waitMs !== undefined && { retryInMs: waitMs }) },
        `GitLab did not say which account AutoFlow acts as (${error.message})${again}; ${waitMs === undefined ? '' : 'until it does, '}${consequence}`,
      );
    }
    if (waitMs === undefined) return;
    this.cancelRetry = clock.schedule(clock.now() + waitMs, () => {
      void this.attempt(Math.min(backoffMs * 2, maxRetryMs));
    });
  }
}

/**
 * A lookup through the `gitlab` capability, whatever stands behind it — a GitLab instance, the built-in simulator, a
 * test environment's: `users.current` (`GET /user`), which the capability allows with a read-only grant of nothing.
 */
export function lookUpThrough(capability: Capability, clock: Clock): AccountLookup {
  return async (signal) => {
    const context: CapabilityContext = {
      runId: '',
      step: 0,
      attempt: 1,
      idempotencyKey: 'autoflow:own-account',
      workflow: '(AutoFlow, asking for its own GitLab account)',
      permissions: { gitlab: { access: 'read' } },
      now: clock.now(),
      signal,
    };
    const user = await capability.invoke('users.current', {}, context);
    const username = typeof user === 'object' && user !== null && !Array.isArray(user) ? user['username'] : undefined;
    if (typeof username !== 'string' || username === '') {
      throw new CapabilityError('unexpected_response', 'its answer to GET /api/v4/user names no user', { retryable: false });
    }
    return username;
  };
}
