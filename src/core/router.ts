import { eventKeyForShape } from './correlation.js';
import { triggerMatches } from './filter.js';
import { stableHash } from './hash.js';
import type { CloudEvent, DeployedDefinition, Json, NewRun, StoredEvent } from './model.js';
import type { EventRouting, RouteResult, Store } from './ports.js';

/** The CloudEvent itself, without the inbox's bookkeeping: what a triggered run receives. */
export function cloudEventOf(stored: StoredEvent): CloudEvent {
  const { seq: _seq, receivedAt: _receivedAt, ...event } = stored;
  return event;
}

/**
 * A triggered run's id is derived from the event, so a redelivered event (or the same event
 * routed again after a crash) never starts a second run.
 */
export function triggeredRunId(workflow: string, event: CloudEvent): string {
  return `${workflow}-${stableHash(`${event.source}\n${event.id}`)}`;
}

/**
 * Whether a routing left work for whoever claims from the store: runs it created without a lease
 * (a node leasing them advances them itself), or waits it satisfied.
 */
export function leftWorkToClaim(routing: EventRouting, result: RouteResult): boolean {
  return (result.createdRunIds.length > 0 && !routing.lease) || result.deliveredRunIds.length > 0;
}

/**
 * Works out where an event goes: which definitions' triggers start a run, and which parked waits
 * it satisfies — for each wait shape parked on its type, one index lookup by correlation key.
 */
export async function planRouting(
  store: Store,
  event: StoredEvent,
  definitions: readonly DeployedDefinition[],
  now: number,
): Promise<EventRouting> {
  const cloudEvent = cloudEventOf(event);
  const newRuns: NewRun[] = [];
  for (const definition of definitions) {
    if (!definition.manifest.triggers.some((trigger) => triggerMatches(trigger, cloudEvent))) continue;
    newRuns.push({
      id: triggeredRunId(definition.name, cloudEvent),
      workflow: definition.name,
      version: definition.version,
      input: cloudEvent as unknown as Json,
      triggerEventSeq: event.seq,
      createdAt: now,
    });
  }
  const deliveries: EventRouting['deliveries'] = [];
  for (const paths of await store.listWaitShapes(event.type)) {
    const key = eventKeyForShape(cloudEvent, paths);
    if (key === undefined) continue;
    // The key holds values only: waits of another shape can share it, so the paths must match too.
    const shape = paths.join('\n');
    for (const wait of await store.findWaits(event.type, key)) {
      if (wait.paths.join('\n') === shape) deliveries.push({ runId: wait.runId, step: wait.step });
    }
  }
  return { eventSeq: event.seq, newRuns, deliveries, markRouted: true };
}
