import type { Json } from './model.js';
import type { SecretSource } from './ports.js';

/**
 * Secrets never enter history, logs or the API: every stored string has each configured secret
 * value replaced by a reference, and references are turned back into values only where a
 * workflow is allowed to have them (on delivery into its sandbox, and in the arguments of its calls).
 */
const REFERENCE = /\{\{secret:([A-Za-z0-9_.-]+)\}\}/g;

export function secretReference(name: string): string {
  return `{{secret:${name}}}`;
}

function mapStrings(value: Json, map: (text: string) => string): Json {
  if (typeof value === 'string') return map(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  const out: Record<string, Json> = {};
  for (const [key, item] of Object.entries(value)) out[key] = mapStrings(item, map);
  return out;
}

export function redactText(text: string, secrets: SecretSource): string {
  let out = text;
  for (const { name, value } of secrets.values()) {
    if (value !== '' && out.includes(value)) out = out.split(value).join(secretReference(name));
  }
  return out;
}

export function redactJson<T extends Json>(value: T, secrets: SecretSource): T {
  if (secrets.values().length === 0) return value;
  return mapStrings(value, (text) => redactText(text, secrets)) as T;
}

/** Turns references to secrets the workflow may read back into their values. */
export function revealJson<T extends Json>(value: T, secrets: SecretSource, allowed: readonly string[] | undefined): T {
  if (!allowed || allowed.length === 0) return value;
  return mapStrings(value, (text) =>
    text.includes('{{secret:')
      ? text.replace(REFERENCE, (whole, name: string) => (allowed.includes(name) ? (secrets.get(name) ?? whole) : whole))
      : text,
  ) as T;
}
