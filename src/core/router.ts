import { eventKeyForShape, eventKeyForStoredShape, type Fingerprint } from './correlation.js';
import { withConcurrency } from './concurrency.js';
import { eventChainOf, MAX_EVENT_CHAIN } from './event-chain.js';
import { TASK_CLOSED_EVENT } from './human-task.js';
import { valueAt } from './paths.js';
import { toError } from './errors.js';
import { triggerMatches } from './filter.js';
import { stableHash } from './hash.js';
import { triggeredRunIdOf } from './run-id.js';
import {
  SIGNAL_EVENT_PREFIX,
  type CloudEvent,
  type DeployedDefinition,
  type Json,
  type NewRun,
  type RunRecord,
  type StoredEvent,
  type TriggerSpec,
  type WaitRecord,
} from './model.js';
import type { EventRouting, Logger, RouteResult, Store } from './ports.js';

/** Events of a wait's type read per page when it looks back over the inbox, and at most in all. */
const LOOKBACK_PAGE = 1000;
const LOOKBACK_MAX_EVENTS = 20_000;

/** The CloudEvent itself, without the inbox's bookkeeping: what a triggered run receives. */
export function cloudEventOf(stored: StoredEvent): CloudEvent {
  const { seq: _seq, receivedAt: _receivedAt, ...event } = stored;
  return event;
}

/**
 * A triggered run's id is derived from the event, so a redelivered event (or the same event
 * routed again after a crash) never starts a second run. With the trigger's `runKey`, from the
 * values at those paths instead: two deliveries of one occurrence, under two event ids, start one run.
 */
export function triggeredRunId(workflow: string, event: CloudEvent, runKey?: readonly string[]): string {
  const key = runKey === undefined || runKey.length === 0 ? undefined : eventKeyForShape(event, [...runKey]);
  // A path without a value names no occurrence (a branch deletion's `checkout_sha` is null): the event's own id does,
  // so two deletions are two runs.
  if (key !== undefined && runKey!.some((path) => valueAt(event, path) === null)) return eventRunId(workflow, event);
  // The paths are part of the hash: two keys with equal values on other paths are different keys.
  if (key !== undefined) return triggeredRunIdOf(workflow, stableHash(`runKey\n${runKey?.join('\n') ?? ''}\n${key}`));
  return eventRunId(workflow, event);
}

function eventRunId(workflow: string, event: CloudEvent): string {
  return triggeredRunIdOf(workflow, stableHash(`${event.source}\n${event.id}`));
}

/**
 * Whether a routing left work for whoever claims from the store: runs it created without a lease
 * (a node leasing them advances them itself), or waits it satisfied.
 */
export function leftWorkToClaim(routing: EventRouting, result: RouteResult): boolean {
  return (result.createdRunIds.length > 0 && !routing.lease) || result.deliveredRunIds.length > 0;
}

/** A trigger that threw while it was matched against an event: the router counted it as no match. */
export interface TriggerFailure {
  definition: DeployedDefinition;
  /** Its index in `manifest.triggers`. */
  trigger: number;
  event: StoredEvent;
  error: Error;
}

/**
 * AutoFlow's own account in the system events come from (GitLab), given by the app layer: a trigger starts no run
 * for an event that account caused, since a workflow that edits the issue whose update triggered it would trigger
 * itself without end (GitHub Actions has the same rule for its workflow token). Waits are not affected: a run waits
 * for one answer to what it did (the pipeline it started), it cannot multiply.
 */
export interface OwnAccount {
  /** The account's name (a GitLab username); undefined while it is not known, and then no event counts as its. */
  name(): string | undefined;
  /** Who caused the event, named as `name()` names the account; undefined when the event does not say. */
  actorOf(event: CloudEvent): string | undefined;
  /** Hears of each definition whose trigger matched an event but started no run, because the account caused it. */
  skipped?(skip: OwnEventSkip): void;
}

/** A definition that started no run for an event because AutoFlow's own account caused it. */
export interface OwnEventSkip {
  definition: DeployedDefinition;
  /** The index in `manifest.triggers` of the first trigger that matched. */
  trigger: number;
  event: StoredEvent;
  /** The account, as the event names it. */
  actor: string;
}

/**
 * The actor of the event when it is AutoFlow's own account, else undefined. Names compare without regard to case, as
 * GitLab's usernames do (a configured `AutoFlow-Bot` is the payload's `autoflow-bot`).
 */
export function ownActorOf(event: CloudEvent, account: OwnAccount | undefined): string | undefined {
  const name = account?.name();
  if (account === undefined || name === undefined || name === '') return undefined;
  const actor = account.actorOf(event);
  return actor !== undefined && actor.toLowerCase() === name.toLowerCase() ? actor : undefined;
}

/** Whether a trigger starts runs for the events AutoFlow's own account caused (`includeOwnEvents`): by default not. */
export function takesOwnEvents(trigger: TriggerSpec): boolean {
  return 'event' in trigger && trigger.includeOwnEvents === true;
}

/** Which trigger of a definition starts a run for an event, and the first one that matched but did not (`skipped`). */
export interface Triggering {
  trigger: TriggerSpec | undefined;
  skipped: number | undefined;
}

/**
 * The first of the definition's triggers that matches and takes the event: when AutoFlow's own account caused it
 * (`ownActor`), only a trigger with `includeOwnEvents` does. A trigger that throws (a filter deployed before
 * filters were checked at deploy) is reported and counts as no match: routing plans a batch of
 * events at once, and one bad trigger must not hold up every other workflow's events, waits and signals.
 */
export function triggerFor(
  definition: DeployedDefinition,
  event: StoredEvent,
  cloudEvent: CloudEvent,
  ownActor: string | undefined,
  onFailure: (failure: TriggerFailure) => void = () => {},
): Triggering {
  let skipped: number | undefined;
  const trigger = definition.manifest.triggers.find((trigger, index) => {
    try {
      if (!triggerMatches(trigger, cloudEvent)) return false;
    } catch (caught) {
      onFailure({ definition, trigger: index, event, error: toError(caught) });
      return false;
    }
    if (ownActor === undefined || takesOwnEvents(trigger)) return true;
    skipped ??= index;
    return false;
  });
  return { trigger, skipped: trigger === undefined ? skipped : undefined };
}

/**
 * Whether an event is addressed to one run, so that no trigger starts a run for it: a signal (its subject names the
 * run) and a task's answer (for the run that opened the task). A catch-all trigger (`*`, `autoflow.*`) would otherwise
 * start a run with someone's answer as its input. The task's other events are for the outside and start runs.
 */
export function addressedToOneRun(type: string): boolean {
  return type.startsWith(SIGNAL_EVENT_PREFIX) || type === TASK_CLOSED_EVENT;
}

/**
 * Whether a trigger's `event` (a type, or a glob where `*` matches any characters) matches only types addressed to
 * one run, and so never starts a run: `autoflow.signal.approve`, `autoflow.signal.*`, `autoflow.task.closed`.
 */
export function matchesOnlyAddressedTypes(pattern: string): boolean {
  const star = pattern.indexOf('*');
  return star === -1 ? addressedToOneRun(pattern) : pattern.slice(0, star).startsWith(SIGNAL_EVENT_PREFIX);
}

/** A definition that started no run for an event because a chain of more than MAX_EVENT_CHAIN emits led to it. */
export interface ChainLimitSkip {
  definition: DeployedDefinition;
  /** The index in `manifest.triggers` of the trigger that matched. */
  trigger: number;
  event: StoredEvent;
  /** How many emits led to the event (event-chain.ts). */
  chain: number;
}

/** What routing is told besides the event and the definitions. */
export interface RoutingOptions {
  /** Hears of each trigger that threw instead of answering (it counted as no match). */
  onTriggerFailure?: (failure: TriggerFailure) => void;
  /**
   * Hears of each definition whose trigger matched an event but started no run, as a chain of more than
   * MAX_EVENT_CHAIN emits led to the event (a loop between workflows); once per definition and routing of the event.
   */
  onChainLimit?: ((skip: ChainLimitSkip) => void) | undefined;
  /** AutoFlow's own account, whose events start no run (see OwnAccount); absent: every event may. */
  ownAccount?: OwnAccount | undefined;
  /** Hashes an event's key for the waits on a secret (correlation.ts); absent: no event reaches such a wait. */
  fingerprint?: Fingerprint | undefined;
}

/**
 * Works out where an event goes: which definitions' triggers start a run, and which parked waits
 * it satisfies — for each wait shape parked on its type, one index lookup by correlation key. An event
 * addressed to one run starts none, and neither does one at the end of too long a chain of emits; waits
 * receive both.
 */
export async function planRouting(
  store: Store,
  event: StoredEvent,
  definitions: readonly DeployedDefinition[],
  now: number,
  options: RoutingOptions = {},
): Promise<EventRouting> {
  const cloudEvent = cloudEventOf(event);
  const ownActor = ownActorOf(cloudEvent, options.ownAccount);
  const chain = eventChainOf(cloudEvent);
  const newRuns: NewRun[] = [];
  for (const definition of addressedToOneRun(event.type) ? [] : definitions) {
    const { trigger, skipped } = triggerFor(definition, event, cloudEvent, ownActor, options.onTriggerFailure);
    if (skipped !== undefined) options.ownAccount?.skipped?.({ definition, trigger: skipped, event, actor: ownActor! });
    if (trigger === undefined) continue;
    if (chain > MAX_EVENT_CHAIN) {
      options.onChainLimit?.({ definition, trigger: definition.manifest.triggers.indexOf(trigger), event, chain });
      continue;
    }
    const run: NewRun = {
      id: triggeredRunId(definition.name, cloudEvent, 'event' in trigger ? trigger.runKey : undefined),
      workflow: definition.name,
      version: definition.version,
      input: cloudEvent as unknown as Json,
      triggerEventSeq: event.seq,
      createdAt: now,
    };
    newRuns.push(withConcurrency(run, definition.manifest.concurrency, cloudEvent));
  }
  const deliveries: EventRouting['deliveries'] = [];
  for (const paths of await store.listWaitShapes(event.type)) {
    const key = eventKeyForStoredShape(cloudEvent, paths, options.fingerprint);
    if (key === undefined) continue;
    // The key holds values only: waits of another shape can share it, so the paths must match too.
    const shape = paths.join('\n');
    for (const wait of await store.findWaits(event.type, key)) {
      if (wait.paths.join('\n') === shape) deliveries.push({ runId: wait.runId, step: wait.step });
    }
  }
  return { eventSeq: event.seq, newRuns, deliveries, markRouted: true };
}

/** A wait a workflow task registered, and the time from which events that arrived before it count. */
export interface LookbackWait {
  wait: WaitRecord;
  from: number;
}

/**
 * Brings the waits that one workflow task registered the inbox's events that arrived before them, as
 * if those events arrived just then: oldest first, each to every one of these waits it matches, in
 * one routing. So, as when an event arrives while waits are parked, one event satisfies all the
 * run's waits pending together (`Promise.all` of two `waitFor`s). The store refuses an event the run
 * received in an earlier routing: a wait registered after its run got the event does not get it
 * again. True when anything was delivered.
 */
export async function lookBack(
  store: Store,
  logger: Logger,
  run: RunRecord,
  waits: readonly LookbackWait[],
  fingerprint?: Fingerprint,
): Promise<boolean> {
  const byType = new Map<string, LookbackWait[]>();
  for (const item of waits) byType.set(item.wait.eventType, [...(byType.get(item.wait.eventType) ?? []), item]);
  let delivered = false;
  for (const [type, ofType] of byType) if (await lookBackOnType(store, logger, run, type, ofType, fingerprint)) delivered = true;
  return delivered;
}

async function lookBackOnType(
  store: Store,
  logger: Logger,
  run: RunRecord,
  type: string,
  waits: LookbackWait[],
  fingerprint: Fingerprint | undefined,
): Promise<boolean> {
  let open = waits;
  let delivered = false;
  const since = Math.min(...waits.map((item) => item.from));
  let after: StoredEvent | undefined;
  for (let read = 0; read < LOOKBACK_MAX_EVENTS; read += LOOKBACK_PAGE) {
    const page = await store.listRecentEvents(type, since, LOOKBACK_PAGE, after);
    for (const event of page) {
      if (event.seq === run.triggerEventSeq) continue;
      const cloudEvent = cloudEventOf(event);
      const matching = open.filter(
        ({ wait, from }) => event.receivedAt >= from && eventKeyForStoredShape(cloudEvent, wait.paths, fingerprint) === wait.key,
      );
      if (matching.length === 0) continue;
      const deliveries = matching.map(({ wait }) => ({ runId: run.id, step: wait.step }));
      const result = await store.routeEvent({ eventSeq: event.seq, newRuns: [], deliveries, markRouted: false });
      // Refused: the run received this event before these waits were registered; a later one may still do.
      if (result.deliveredRunIds.length === 0) continue;
      delivered = true;
      open = open.filter((item) => !matching.includes(item));
      if (open.length === 0) return true;
    }
    after = page.at(-1);
    if (page.length < LOOKBACK_PAGE) return delivered;
  }
  logger.warn(
    { runId: run.id, steps: open.map(({ wait }) => wait.step), eventType: type, read: LOOKBACK_MAX_EVENTS },
    `a wait's look back over the inbox stopped after ${LOOKBACK_MAX_EVENTS} events of its type; the events after those were not looked at`,
  );
  return delivered;
}
