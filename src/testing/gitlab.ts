/**
 * The GitLab of a test environment: the simulator on the environment's virtual clock, reached by
 * the real `gitlab` capability through an in-process `fetch`, its webhooks delivered into the
 * environment through the same intake as `POST /webhooks/gitlab` — no socket anywhere.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { createGitLabCapability } from '../capabilities/gitlab/index.js';
import type { Capability, Clock } from '../core/ports.js';
import { untilAborted } from '../core/call-executor.js';
import type { WebhookSource } from '../gitlab/webhook-auth.js';
import type { Issue, MergeRequest, Note } from '../sdk/gitlab-types.js';
import {
  createGitLabSimulator,
  type GitLabSimulator,
  type NoteTarget,
  type Ref,
  type SeedDescription,
  type SimActions,
} from './gitlab-sim/index.js';
import { issueEntity, mergeRequestEntity, noteEntity } from './gitlab-sim/present/work.js';

/** Where the simulator's webhooks point; the environment's `fetch` for them never opens a socket. */
const HOOK_URL = 'http://autoflow.test/webhooks/gitlab';

/** A webhook request as the server's route would pass it on: header names in lower case. */
export type WebhookDelivery = { headers: Record<string, string>; body: string };

/** What the simulator needs of the environment it belongs to. */
export interface TestGitLabLink {
  /** Puts a webhook delivery into the environment's inbox (the webhook intake). */
  deliver(delivery: WebhookDelivery): Promise<void>;
  /** Lets the environment settle after an action. */
  settle(): Promise<void>;
}

/** `actions.*` of the simulator, each resolving once the webhooks it fired were handled. */
export type TestGitLabActions = {
  [K in keyof SimActions]: (...args: Parameters<SimActions[K]>) => Promise<ReturnType<SimActions[K]>>;
};

/** A REST entity as GitLab's API returns it (`labels` as names, `state`, `iid`…), when no type of `autoflow` names it. */
export type GitLabEntity = Record<string, unknown>;

/**
 * The workflow acts as the seed's first user (root when the seed has none), with their first
 * token, or a token made for them.
 */
function withWorkflowToken(seed: SeedDescription): { seed: SeedDescription; token: string; username: string } {
  const first = seed.users?.[0];
  const username = (typeof first === 'string' ? first : first?.username) ?? 'root';
  const given = seed.tokens?.[username];
  const existing = Array.isArray(given) ? given[0] : given;
  if (existing !== undefined) return { seed, token: existing, username };
  const token = `${username}-autoflow-test-token`;
  return { seed: { ...seed, tokens: { ...seed.tokens, [username]: token } }, token, username };
}

export class TestGitLab {
  /** The whole simulator, for what the helpers do not cover. */
  readonly sim: GitLabSimulator;
  /** The token the workflow's `gitlab` calls use. */
  readonly token: string;
  /** The capability the engine is given. */
  readonly capability: Capability;
  /** The webhook source the environment's intake accepts. */
  readonly webhookSource: WebhookSource;
  /** Things people do in GitLab (they fire real webhooks); each resolves once the environment settled. */
  readonly actions: TestGitLabActions;

  /** Requests of the capability still in flight: a timer they scheduled (a `latency` fault) blocks them. */
  private readonly requests = new AsyncLocalStorage<{ done: boolean }>();
  private readonly clockTimers = new Set<{ done: boolean }>();
  private blocked: { promise: Promise<void>; resolve: () => void } | undefined;
  private delivering = 0;
  private readonly failures: Error[] = [];
  private link: TestGitLabLink | undefined;

  /** `uuid` makes the webhook deliveries' ids, which become the ids of their events, and of the runs those start. */
  constructor(seed: SeedDescription, clock: Clock, uuid?: () => string) {
    const seeded = withWorkflowToken(seed);
    this.token = seeded.token;
    this.webhookSource = { name: 'gitlab', secret: randomBytes(18).toString('base64url') };
    this.sim = createGitLabSimulator({
      clock: this.trackingClock(clock),
      fetch: (_input, init) => this.receiveWebhook(init),
      ...(uuid ? { uuid } : {}),
    });
    this.sim.seed(seeded.seed);
    this.capability = createGitLabCapability({
      baseUrl: this.sim.state.baseUrl,
      token: this.token,
      // Its 30 s per request runs on the time the simulator's latency runs on.
      clock,
      fetch: (input, init) => {
        const request = { done: false };
        const answer = this.requests.run(request, () => this.sim.fetch(input, init));
        // As fetch does, a request the client gave up on (its timeout, its call's) fails then, though the simulator,
        // held by a `latency` fault, answers later.
        return (init?.signal ? untilAborted(answer, init.signal) : answer).finally(() => (request.done = true));
      },
    });
    const actions = this.sim.actions as unknown as Record<string, (this: void, ...args: unknown[]) => unknown>;
    let toldOfOwnActions = false;
    this.actions = Object.fromEntries(
      Object.entries(actions).map(([name, action]) => [
        name,
        async (...args: unknown[]) => {
          // Most actions name who does them first: when that is the account the workflows act as, its events start no
          // runs, as on a server; a seed that lists a person first makes every action of theirs do nothing, unsaid.
          const [actor] = args;
          if (!toldOfOwnActions && typeof actor === 'string' && actor.toLowerCase() === seeded.username.toLowerCase()) {
            toldOfOwnActions = true;
            process.emitWarning(
              `actions.${name}('${actor}', …): ${actor} is the account the workflows act as (the seed's first user), and events of its own actions start no runs, as on a server (a trigger's includeOwnEvents changes that); have another user do it, or list the account AutoFlow acts as first in the seed's users`,
              'AutoFlowTestWarning',
            );
          }
          const result = action(...args);
          await this.link?.settle();
          return result;
        },
      ]),
    ) as TestGitLabActions;
  }

  /**
   * Connects the simulator to its environment, once the environment exists: from now on, what
   * happens in a project is posted to the environment's webhook intake.
   */
  attach(link: TestGitLabLink): void {
    this.link = link;
    for (const project of this.sim.state.projects.values()) {
      this.sim.webhooks.add({ project: project.id, url: HOOK_URL, token: this.webhookSource.secret });
    }
  }

  get state(): GitLabSimulator['state'] {
    return this.sim.state;
  }

  /** Failures to inject: `faults.add({ kind: 'status', status: 503, times: 2 })`… */
  get faults(): GitLabSimulator['faults'] {
    return this.sim.faults;
  }

  get webhooks(): GitLabSimulator['webhooks'] {
    return this.sim.webhooks;
  }

  // The reads below are typed as the workflow's own `gitlab` calls see the same objects (`Issue`, `MergeRequest`, `Note`
  // of `autoflow`): the simulator builds them as GitLab's API does, its schema tests check them against GitLab's schemas.

  /**
   * An issue as `GET /projects/:id/issues/:iid` returns it.
   * @example assert.ok(env.gitlab.issue('demo/app', 1).labels.includes('workflow::backlog'));
   */
  issue(project: Ref, iid: number): Issue {
    return issueEntity(this.state, this.state.requireIssue(this.state.requireProject(project), iid)) as Issue;
  }

  /** A project's issues as the API returns them, oldest first. */
  issues(project: Ref): Issue[] {
    const where = this.state.requireProject(project);
    return [...this.state.issues.values()]
      .filter((issue) => issue.projectId === where.id)
      .sort((a, b) => a.iid - b.iid)
      .map((issue) => issueEntity(this.state, issue) as Issue);
  }

  /** A merge request as `GET /projects/:id/merge_requests/:iid` returns it. */
  mergeRequest(project: Ref, iid: number): MergeRequest {
    return mergeRequestEntity(this.state, this.state.requireMergeRequest(this.state.requireProject(project), iid)) as MergeRequest;
  }

  /** The notes (comments) on an issue or a merge request, oldest first. */
  notes(project: Ref, on: NoteTarget): Note[] {
    const where = this.state.requireProject(project);
    const noteable = 'issue' in on ? this.state.requireIssue(where, on.issue) : this.state.requireMergeRequest(where, on.mergeRequest);
    const type = 'issue' in on ? 'Issue' : 'MergeRequest';
    return [...this.state.notes.values()]
      .filter((note) => note.noteableType === type && note.noteableId === noteable.id)
      .map((note) => noteEntity(this.state, note) as Note);
  }

  /** True while a webhook is being delivered into the environment. */
  isDelivering(): boolean {
    return this.delivering > 0;
  }

  /** True when a call to GitLab is in flight and can only finish once virtual time passes. */
  isWaitingOnClock(): boolean {
    return [...this.clockTimers].some((request) => !request.done);
  }

  /** Resolves once a call to GitLab waits on virtual time (at once if one does). */
  whenWaitingOnClock(): Promise<void> {
    if (this.isWaitingOnClock()) return Promise.resolve();
    this.blocked ??= (() => {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      return { promise, resolve };
    })();
    return this.blocked.promise;
  }

  /** Throws the first delivery that the intake refused: a test must not pass on events that never arrived. */
  throwDeliveryFailure(): void {
    const failure = this.failures.shift();
    if (failure) throw failure;
  }

  /**
   * The simulator's clock: the environment's, noting the timers that calls in flight schedule,
   * so that the environment knows such a call waits for virtual time, not for work.
   */
  private trackingClock(clock: Clock): Clock {
    return {
      now: () => clock.now(),
      schedule: (at, callback) => {
        const request = this.requests.getStore();
        if (!request) return clock.schedule(at, callback);
        this.clockTimers.add(request);
        const blocked = this.blocked;
        this.blocked = undefined;
        blocked?.resolve();
        const cancel = clock.schedule(at, () => {
          this.clockTimers.delete(request);
          callback();
        });
        return () => {
          this.clockTimers.delete(request);
          cancel();
        };
      },
    };
  }

  /** The `fetch` the simulator posts webhooks with: straight into the environment's intake. */
  private async receiveWebhook(init: RequestInit | undefined): Promise<Response> {
    this.delivering++;
    try {
      if (!this.link) throw new Error('the simulator is not attached to an environment');
      await this.link.deliver({ headers: Object.fromEntries(new Headers(init?.headers)), body: init?.body as string });
      return new Response(null, { status: 202 });
    } catch (caught) {
      const error = new Error(`a GitLab webhook could not be delivered into the test environment: ${String(caught)}`, { cause: caught });
      this.failures.push(error);
      return new Response(error.message, { status: 500 });
    } finally {
      this.delivering--;
    }
  }
}
