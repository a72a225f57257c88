import { canonicalJson } from './json.js';
import type { CloudEvent, Json } from './model.js';
import { valueAt } from './paths.js';

/**
 * A wait's `match` becomes an index entry: the sorted paths are its shape, the canonical JSON of
 * the values in that order is its key. An event is looked up by computing its key for each shape
 * parked on its type, so delivery never scans parked runs.
 */
export function waitIndexEntry(match: Record<string, Json>): { paths: string[]; key: string } {
  const paths = Object.keys(match).sort();
  return { paths, key: canonicalJson(paths.map((path) => match[path] as Json)) };
}

/** The event's key for one shape, or undefined when a path is missing. */
export function eventKeyForShape(event: CloudEvent, paths: string[]): string | undefined {
  const values: Json[] = [];
  for (const path of paths) {
    const value = valueAt(event, path);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return canonicalJson(values);
}
