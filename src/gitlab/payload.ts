import type { Json, JsonObject } from '../core/model.js';

/**
 * Defensive readers over a webhook payload. GitLab's payloads differ between releases (fields are
 * added, renamed, sent as null), so every read may find nothing or the wrong type and must answer
 * undefined rather than throw. Only own properties are read: a payload key like `constructor` or
 * `__proto__` must never reach `Object.prototype`.
 */

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a dotted path (`object_attributes.iid`), or undefined. */
export function at(value: Json | undefined, path: string): Json | undefined {
  let current = value;
  for (const key of path.split('.')) {
    if (!isObject(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/** A string at `path` that is not blank. */
export function str(value: Json | undefined, path: string): string | undefined {
  const found = at(value, path);
  return typeof found === 'string' && found.trim() !== '' ? found : undefined;
}

/** Like `str`, but a finite number counts too, as a string: ids and iids come as either. */
export function text(value: Json | undefined, path: string): string | undefined {
  const found = at(value, path);
  return typeof found === 'number' && Number.isFinite(found) ? String(found) : str(value, path);
}

/** The first of `paths` that holds text. */
export function firstText(value: Json | undefined, paths: readonly string[]): string | undefined {
  for (const path of paths) {
    const found = text(value, path);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A value from a lookup table, ignoring inherited keys (`toString`, `constructor`…). */
export function lookup<T>(table: Readonly<Record<string, T>>, key: string | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

// Long enough for any name GitLab uses; bounds what a hostile payload can put into an event type.
const MAX_NAME = 64;

/** `Confidential Issue` → `confidential_issue`: lower case, runs of other characters as one `_`. */
export function snakeCase(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const name = value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, MAX_NAME)
    .replace(/^_+|_+$/g, '');
  return name === '' ? undefined : name;
}

// GitLab writes times as `2013-12-03T17:23:34Z`, `2015-05-17 18:08:09 UTC`, `2021-04-28 21:50:00 +0200`
// or `2021-02-23T02:41:37.886Z`, depending on the hook and the release.
const GITLAB_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) ?(Z|UTC|[+-]\d{2}:?\d{2})?$/i;

/**
 * A GitLab timestamp as ISO 8601 in UTC (`2015-05-17T18:08:09.000Z`), or undefined when it is not
 * one. A time without a zone is taken as UTC, which is how GitLab stores times.
 */
export function isoTime(value: string | undefined): string | undefined {
  const match = value === undefined ? null : GITLAB_TIME.exec(value.trim());
  if (!match) return undefined;
  const [, date, clock, zone] = match;
  const offset = zone === undefined || /^(z|utc)$/i.test(zone) ? 'Z' : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(`${date}T${clock}${offset}`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
