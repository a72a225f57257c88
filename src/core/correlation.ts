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

/**
 * The last path of a hashed shape (`hashedWaitIndexEntry`). A plain shape is sorted and has no path twice, and ''
 * sorts before every other path, so no plain shape ends in '' after another path: none reads as a hashed one.
 */
const HASHED_SHAPE_MARK = '';
const HASHED_KEY_PREFIX = 'sha256:';

/** A one-way SHA-256 of text (SecretSource.fingerprint): the core computes no digest itself. */
export type Fingerprint = (text: string) => string;

/**
 * The index entry of a wait whose match holds a secret's value (task.ts decides): the key is the
 * fingerprint of the plain key, `sha256:<hex>`, so the stored row holds no value, and the shape ends in
 * a mark that tells the router to hash an event's key for it (`eventKeyForStoredShape`). Equal keys
 * hash equally, so the wait matches exactly the events its plain entry would; waits of every other
 * shape keep readable keys and cost routing nothing more.
 */
export function hashedWaitIndexEntry(match: Record<string, Json>, fingerprint: Fingerprint): { paths: string[]; key: string } {
  const { paths, key } = waitIndexEntry(match);
  return { paths: [...paths, HASHED_SHAPE_MARK], key: HASHED_KEY_PREFIX + fingerprint(key) };
}

/** Whether a stored shape is a hashed one (`hashedWaitIndexEntry`'s). */
export function isHashedShape(paths: readonly string[]): boolean {
  return paths.length >= 2 && paths[paths.length - 1] === HASHED_SHAPE_MARK;
}

/** The event's key for one shape, or undefined when a path is missing. */
export function eventKeyForShape(event: CloudEvent, paths: readonly string[]): string | undefined {
  const values: Json[] = [];
  for (const path of paths) {
    const value = valueAt(event, path);
    if (value === undefined) return undefined;
    values.push(value);
  }
  return canonicalJson(values);
}

/**
 * The event's key for a shape as the store holds it, hashed or plain; undefined when a path is missing, or for a
 * hashed shape when there is no `fingerprint` to hash with (no event matches it then).
 */
export function eventKeyForStoredShape(event: CloudEvent, paths: readonly string[], fingerprint?: Fingerprint): string | undefined {
  if (!isHashedShape(paths)) return eventKeyForShape(event, paths);
  if (fingerprint === undefined) return undefined;
  const key = eventKeyForShape(event, paths.slice(0, -1));
  return key === undefined ? undefined : HASHED_KEY_PREFIX + fingerprint(key);
}
