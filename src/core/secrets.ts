import { CapabilityError } from './errors.js';
import type { Json, Resolution } from './model.js';
import type { SecretSource } from './ports.js';
import { CUT_NOTE, CUT_NOTE_TAIL } from './text-cut.js';

/**
 * Secrets never enter history, logs or the API: every stored string (and object key) has each
 * configured secret value replaced by a reference, `{{secret:NAME}}`.
 *
 * References are turned back into values in two places only: a call's arguments, just before its
 * capability gets them, and a call's outcome, when it is delivered into the sandbox (that is how
 * `secrets.get` answers). Both are sealed where they enter the engine (`sealJson`): text that
 * already looked like a reference is escaped first, so that a reference typed by an outsider (an
 * issue title, a webhook, a form answer) comes back as the text it was and never as a value.
 * Everything else — the run's input, events, children's results — is delivered as stored.
 */

/** `{{secret` + k `!` + `:`: a reference's opening (k = 0) or an escaped one (k ≥ 1). */
const OPENING = /\{\{secret(!*):/g;
/** What `revealJson` turns back: a canonical reference, or an escaped opening (which loses one `!`). */
const SEALED = /\{\{secret(?:!(!*):|:([A-Za-z0-9_.-]+)\}\})/g;

export function secretReference(name: string): string {
  return `{{secret:${name}}}`;
}

/** Maps every string of `value`, object keys included; what nothing changed in is returned as it is, not copied. */
function mapStrings(value: Json, map: (text: string) => string): Json {
  if (typeof value === 'string') return map(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => mapStrings(item, map));
    return items.some((item, index) => item !== value[index]) ? items : value;
  }
  const entries = Object.entries(value);
  const mapped = entries.map(([key, item]): [string, Json] => [map(key), mapStrings(item, map)]);
  if (mapped.every(([key, item], index) => key === entries[index]![0] && item === entries[index]![1])) return value;
  // fromEntries defines properties: a key `__proto__` stays a key.
  return Object.fromEntries(mapped);
}

/**
 * The shortest start of a secret that is redacted where a cut ends text (text-cut.ts): fewer
 * characters would turn ordinary text into references by coincidence, and tell next to nothing.
 */
const MIN_CUT_SECRET_CHARS = 4;

/** Every configured secret's value: what a cut must not split (cutText's `keepWhole`). */
export function secretValuesOf(secrets: SecretSource): string[] {
  return secrets.values().map(({ value }) => value);
}

/**
 * The text before each cut note with the first part of a secret in `readable` at its end replaced
 * by the secret's reference. Only secrets the workflow may read: a note can be typed by anyone, so
 * for any other secret this would tell a workflow whether its text began that secret's value.
 */
function redactCutSecrets(text: string, secrets: SecretSource, readable: readonly string[]): string {
  let out = '';
  let from = 0;
  for (const note of text.matchAll(CUT_NOTE)) {
    let kept = text.slice(from, note.index);
    for (const { name, value } of secrets.values()) {
      if (!readable.includes(name)) continue;
      for (let chars = value.length - 1; chars >= MIN_CUT_SECRET_CHARS; chars--) {
        if (kept.endsWith(value.slice(0, chars))) {
          kept = kept.slice(0, kept.length - chars) + secretReference(name);
          break;
        }
      }
    }
    out += kept + note[0];
    from = note.index + note[0].length;
  }
  return out + text.slice(from);
}

/**
 * Secret values become references. Where the sandbox cut text (an error's cause), the first part
 * of a secret in `readable` (the workflow's own) left before the cut goes too; the host cuts text
 * only between secrets (cutText's `keepWhole`), so no other secret can be split.
 */
export function redactText(text: string, secrets: SecretSource, readable: readonly string[] = []): string {
  let out = text;
  for (const { name, value } of secrets.values()) {
    if (value !== '' && out.includes(value)) out = out.split(value).join(secretReference(name));
  }
  return readable.length > 0 && out.includes(CUT_NOTE_TAIL) ? redactCutSecrets(out, secrets, readable) : out;
}

/** Secret values become references (see redactText); idempotent, so stored data can be redacted again as it is copied. */
export function redactJson<T extends Json>(value: T, secrets: SecretSource, readable: readonly string[] = []): T {
  if (secrets.values().length === 0) return value;
  return mapStrings(value, (text) => redactText(text, secrets, readable)) as T;
}

/**
 * Whether any string of `value` (or object key) holds a configured secret's value verbatim: what
 * `redactJson` would change. For data that cannot be redacted where it is stored, as a wait's key.
 */
export function holdsSecretValue(value: Json, secrets: SecretSource): boolean {
  // redactJson returns what it changed nothing in as it is (mapStrings).
  return redactJson(value, secrets) !== value;
}

/** `{{secret` + k `!` + `:` becomes `{{secret` + (k+1) `!` + `:`: no text reads as a reference any more. */
function escapeText(text: string): string {
  return text.includes('{{secret') ? text.replace(OPENING, '{{secret!$1:') : text;
}

/**
 * For data that `revealJson` will turn back later (a call's arguments, a call's outcome): escapes
 * what already looks like a reference, then redacts secret values. Apply it once, where the data
 * enters the engine; redacting sealed data again (`redactJson`) leaves it as it is.
 */
export function sealJson<T extends Json>(value: T, secrets: SecretSource): T {
  return mapStrings(value, (text) => redactText(escapeText(text), secrets)) as T;
}

/**
 * A reference to a secret the workflow may read, which is not configured any more (the operator removed or renamed
 * it while runs held it): its value cannot be given back, and the reference's text must not go out in its place (as
 * a credential, or to a workflow that read the value before).
 */
function secretGone(name: string): never {
  throw new CapabilityError(
    'secret_missing',
    `secret '${name}', which this run read before, is not configured any more: configure it again`,
    {
      retryable: false,
      details: { secret: name },
    },
  );
}

/**
 * A reference to a secret the workflow asks for and the operator's `secretAccess` now keeps from it (a run that read it
 * before the rule changed, or on a server whose rule differs): neither its value nor its reference's text may go out.
 */
function secretWithheld(name: string): never {
  throw new CapabilityError(
    'secret_withheld',
    `secret '${name}', which this run read before, is kept from its workflow by the server's secretAccess now: give the workflow access again, or end the run`,
    { retryable: false, details: { secret: name } },
  );
}

/**
 * The inverse of `sealJson`: references to secrets the workflow may read become their values
 * (others stay references), and escaped openings lose one `!` — also when it may read none.
 * Throws a `secret_missing` CapabilityError for a reference to one it may read that is not configured, and a
 * `secret_withheld` one for a reference to one of `withheld` (secret-access.ts).
 */
export function revealJson<T extends Json>(
  value: T,
  secrets: SecretSource,
  allowed: readonly string[] | undefined,
  withheld: readonly string[] = [],
): T {
  return mapStrings(value, (text) =>
    text.includes('{{secret')
      ? text.replace(SEALED, (whole, bangs: string | undefined, name: string | undefined) => {
          if (bangs !== undefined) return `{{secret${bangs}:`;
          if (name !== undefined && allowed?.includes(name)) return secrets.get(name) ?? secretGone(name);
          if (name !== undefined && withheld.includes(name)) secretWithheld(name);
          return whole;
        })
      : text,
  ) as T;
}

/**
 * A resolution as the sandbox receives it: a call's outcome, sealed when it was recorded, is
 * revealed; anything else (an event, a child's result, a cancel reason) is delivered as stored.
 */
export function revealResolution(
  resolution: Resolution,
  secrets: SecretSource,
  allowed: readonly string[] | undefined,
  withheld: readonly string[] = [],
): Resolution {
  return resolution.kind === 'call'
    ? (revealJson(resolution as unknown as Json, secrets, allowed, withheld) as unknown as Resolution)
    : resolution;
}
