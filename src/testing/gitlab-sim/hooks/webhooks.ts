import { randomUUID } from 'node:crypto';
import type { Clock } from '../../../core/ports.js';
import type { SimGroup, SimProject } from '../model.js';
import type { SimState } from '../state.js';
import type { HookObject } from './attributes.js';

/** GitLab's hook trigger flags (as in its hooks API) and the `X-Gitlab-Event` header each sends. */
export const HOOK_EVENTS = {
  push_events: 'Push Hook',
  tag_push_events: 'Tag Push Hook',
  issues_events: 'Issue Hook',
  confidential_issues_events: 'Confidential Issue Hook',
  merge_requests_events: 'Merge Request Hook',
  note_events: 'Note Hook',
  confidential_note_events: 'Confidential Note Hook',
  pipeline_events: 'Pipeline Hook',
  job_events: 'Job Hook',
  deployment_events: 'Deployment Hook',
  releases_events: 'Release Hook',
  milestone_events: 'Milestone Hook',
  member_events: 'Member Hook',
} as const;
export type HookEventName = keyof typeof HOOK_EVENTS;

export interface WebhookOptions {
  url: string;
  /** Sent as `X-Gitlab-Token`. */
  token?: string;
  /** Project (id or path) whose events the hook receives. Give this or `group`. */
  project?: number | string;
  /** Group (id or path): receives the events of every project in it and its subgroups, and member events. */
  group?: number | string;
  /** @default every event */
  events?: readonly HookEventName[];
}

export interface Webhook {
  id: number;
  uuid: string;
  url: string;
  token: string | null;
  scope: { kind: 'project' | 'group'; id: number };
  events: ReadonlySet<HookEventName>;
  createdAt: number;
}

/** One attempt to deliver one event to one hook. Retries of a delivery share `idempotencyKey`. */
export interface WebhookDelivery {
  hookId: number;
  url: string;
  event: string;
  attempt: number;
  idempotencyKey: string;
  headers: Record<string, string>;
  payload: HookObject;
  /** The receiver's status code, or null when the request failed without one. */
  status: number | null;
  error: string | null;
  at: number;
}

export interface HookEvent {
  name: HookEventName;
  payload: HookObject;
  project?: SimProject;
  group?: SimGroup;
}

export interface WebhooksOptions {
  clock: Clock;
  fetch: typeof fetch;
  /**
   * Waits before each retry of a failed delivery. GitLab sends hooks from a Sidekiq job with
   * `retry: 4`; Sidekiq waits `count⁴ + 15` seconds (plus jitter, left out so tests are exact).
   * @default [15_000, 16_000, 31_000, 96_000]
   */
  retryDelaysMs?: readonly number[];
  /** @default 10_000, GitLab's default webhook timeout */
  timeoutMs?: number;
  /** Makes the hooks' and the deliveries' UUIDs (a test environment derives them from its seed). @default randomUUID */
  uuid?: () => string;
}

export const GITLAB_VERSION = '17.11.0';

/** Registered hooks, delivery with retries, and the record of every attempt. */
export class Webhooks {
  private readonly hooks = new Map<number, Webhook>();
  private readonly log: WebhookDelivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retries = new Set<() => void>();
  private nextId = 1;
  private readonly retryDelays: readonly number[];
  private readonly uuid: () => string;

  constructor(
    private readonly state: SimState,
    private readonly options: WebhooksOptions,
  ) {
    this.retryDelays = options.retryDelaysMs ?? [15_000, 16_000, 31_000, 96_000];
    this.uuid = options.uuid ?? randomUUID;
  }

  add(options: WebhookOptions): Webhook {
    const scope =
      options.project !== undefined
        ? { kind: 'project' as const, id: this.state.requireProject(options.project).id }
        : options.group !== undefined
          ? { kind: 'group' as const, id: this.state.requireGroup(options.group).id }
          : undefined;
    if (!scope) throw new TypeError('webhooks.add needs `project` or `group`: GitLab hooks belong to one of them');
    const hook: Webhook = {
      id: this.nextId++,
      uuid: this.uuid(),
      url: options.url,
      token: options.token ?? null,
      scope,
      events: new Set(options.events ?? (Object.keys(HOOK_EVENTS) as HookEventName[])),
      createdAt: this.options.clock.now(),
    };
    this.hooks.set(hook.id, hook);
    return hook;
  }

  remove(id: number): boolean {
    return this.hooks.delete(id);
  }

  list(): Webhook[] {
    return [...this.hooks.values()];
  }

  /** Every attempt so far, oldest first. */
  deliveries(): WebhookDelivery[] {
    return [...this.log];
  }

  /** Resolves once no delivery is on the wire (retries waiting on the clock do not count). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Cancels the retries waiting on the clock. */
  stop(): void {
    for (const cancel of this.retries) cancel();
    this.retries.clear();
  }

  /** Sends the event to every hook that subscribed to it, project hooks and the hooks of enclosing groups. */
  fire(event: HookEvent): void {
    const groups = new Set(
      [...(event.project ? this.state.projectGroups(event.project) : []), ...(event.group ? this.state.groupChain(event.group) : [])].map(
        (group) => group.id,
      ),
    );
    const eventUuid = this.uuid();
    for (const hook of this.hooks.values()) {
      if (!hook.events.has(event.name)) continue;
      const matches = hook.scope.kind === 'project' ? hook.scope.id === event.project?.id : groups.has(hook.scope.id);
      if (matches) this.attempt(hook, event, eventUuid, this.uuid(), 1);
    }
  }

  private attempt(hook: Webhook, event: HookEvent, eventUuid: string, idempotencyKey: string, attempt: number): void {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': `GitLab/${GITLAB_VERSION}`,
      'X-Gitlab-Event': HOOK_EVENTS[event.name],
      'X-Gitlab-Instance': this.state.baseUrl.replace(/\/+$/, ''),
      'X-Gitlab-Webhook-UUID': hook.uuid,
      'X-Gitlab-Event-UUID': eventUuid,
      'Idempotency-Key': idempotencyKey,
      ...(hook.token === null ? {} : { 'X-Gitlab-Token': hook.token }),
    };
    const delivery: WebhookDelivery = {
      hookId: hook.id,
      url: hook.url,
      event: HOOK_EVENTS[event.name],
      attempt,
      idempotencyKey,
      headers,
      payload: event.payload,
      status: null,
      error: null,
      at: this.options.clock.now(),
    };
    this.log.push(delivery);
    const sending = this.options
      .fetch(hook.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(event.payload),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      })
      .then(async (response) => {
        delivery.status = response.status;
        await response.body?.cancel();
        if (!response.ok) delivery.error = `HTTP ${response.status}`;
      })
      .catch((error: unknown) => {
        delivery.error = error instanceof Error ? error.message : String(error);
      })
      .then(() => {
        const delay = this.retryDelays[attempt - 1];
        if (delivery.error === null || delay === undefined) return;
        const cancel = this.options.clock.schedule(this.options.clock.now() + delay, () => {
          this.retries.delete(cancel);
          this.attempt(hook, event, eventUuid, idempotencyKey, attempt + 1);
        });
        this.retries.add(cancel);
      });
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending));
  }
}
