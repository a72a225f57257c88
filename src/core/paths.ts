import type { CloudEvent, Json } from './model.js';

// `webhooksource`: the extension attribute naming the webhook source that let a GitLab event in (gitlab/webhook-event.ts).
const EVENT_ATTRIBUTES = new Set(['id', 'source', 'type', 'subject', 'time', 'specversion', 'datacontenttype', 'webhooksource', 'data']);

/**
 * Resolves a dotted path of a filter or `match` against an event. A path that starts with a
 * CloudEvent attribute is read from the event, any other from `event.data`, so that both
 * `subject` and GitLab's own `object_attributes.iid` read naturally.
 */
export function eventPathRoot(event: CloudEvent, path: string): { root: Json; segments: string[] } {
  const segments = path.split('.');
  if (EVENT_ATTRIBUTES.has(segments[0] ?? '')) return { root: event as unknown as Json, segments };
  return { root: event.data ?? null, segments };
}

/** The single value at `path`, or undefined. Arrays are indexed by number segments only. */
export function valueAt(event: CloudEvent, path: string): Json | undefined {
  const { root, segments } = eventPathRoot(event, path);
  let current: Json | undefined = root;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) ? current[Number(segment)] : Object.hasOwn(current, segment) ? current[segment] : undefined;
  }
  return current;
}

/**
 * Every value reachable at `path`, looking through arrays on the way: `labels.title` on a GitLab
 * payload yields each label's title. Filters match when any of them does. A value that is itself an
 * array is kept whole (`tags` yields `['a', 'b']`, not `'a'` and `'b'`), so that a filter can compare
 * the whole list; looking into its elements is the condition's business (core/filter.ts).
 */
export function valuesAt(event: CloudEvent, path: string): Json[] {
  const { root, segments } = eventPathRoot(event, path);
  let current: Json[] = [root];
  for (const segment of segments) {
    const next: Json[] = [];
    for (const value of current) {
      if (value === null || typeof value !== 'object') continue;
      if (Array.isArray(value)) {
        const index = Number(segment);
        if (Number.isInteger(index) && segment !== '') {
          const item = value[index];
          if (item !== undefined) next.push(item);
        } else {
          for (const item of value) {
            if (item !== null && typeof item === 'object' && !Array.isArray(item) && Object.hasOwn(item, segment)) {
              next.push(item[segment] as Json);
            }
          }
        }
      } else if (Object.hasOwn(value, segment)) {
        next.push(value[segment] as Json);
      }
    }
    current = next;
  }
  return current;
}
