import { closestWord } from '../core/filter.js';
import { CONFIG_FILE_VARIABLE, SECRET_PREFIX, SETTINGS } from './settings.js';

const PREFIX = 'AUTOFLOW_';

/**
 * Every `AUTOFLOW_*` variable with a fixed name that AutoFlow reads: the settings, the config file's, and the client
 * commands' server (src/cli/options.ts; their token is AUTOFLOW_API_TOKEN, a setting). A shell that runs both the
 * server and the client commands has them all, and none of them is a typo.
 */
export const KNOWN_VARIABLES: readonly string[] = [...SETTINGS.map((setting) => setting.env), CONFIG_FILE_VARIABLE, 'AUTOFLOW_URL'];

/** An `AUTOFLOW_*` variable that is set but read by nothing, and so changes nothing. */
export interface UnknownVariable {
  name: string;
  /** The known variable it is likely a misspelling of, if one is near enough. */
  meant?: string;
  /** What the start-up log says of it. */
  message: string;
}

/** Each known name without its prefix, as a typo is compared with it. */
const KNOWN_SUFFIXES = KNOWN_VARIABLES.map((name) => name.slice(PREFIX.length));

/** The known variable `name` was meant to be: one a few letters away, else one that has its words and more. */
function meantVariable(name: string): string | undefined {
  const suffix = name.slice(PREFIX.length);
  // A secret's name is free, so the one meant keeps it and only the word before it was mistyped (AUTOFLOW_SECRETS_FOO).
  const secretName = /^[^_]+_(.+)$/.exec(suffix)?.[1];
  const candidates = secretName === undefined ? KNOWN_SUFFIXES : [...KNOWN_SUFFIXES, `${SECRET_PREFIX.slice(PREFIX.length)}${secretName}`];
  // Near: a letter or two for a short name (PROT), up to a third of a long one.
  const typo = closestWord(suffix, candidates, Math.max(2, Math.floor(suffix.length / 3)));
  if (typo !== undefined) return `${PREFIX}${typo}`;
  // A name with a qualifier left out (WEBHOOK_SECRET for GITLAB_WEBHOOK_SECRET) is too far in letters; the shortest
  // known name that holds all its words, in order, is the likeliest.
  const words = `_${suffix.toUpperCase()}_`;
  const wider = KNOWN_SUFFIXES.filter((known) => `_${known}_`.includes(words)).sort((a, b) => a.length - b.length)[0];
  return wider === undefined ? undefined : `${PREFIX}${wider}`;
}

/**
 * The `AUTOFLOW_*` variables of `env` that AutoFlow does not read, each with the known one likely meant. A misspelt
 * flag stops the CLI; a variable cannot: one set for another tool, or for a newer version of AutoFlow (a rollback
 * in a shared environment), must not stop a server, so these are for a warning. The prefix is matched in any case,
 * since `autoflow_port` is a typo too. Empty ones are left out: empty, even a known variable counts as unset.
 */
export function unknownVariables(env: Readonly<Record<string, string | undefined>>): UnknownVariable[] {
  return Object.keys(env)
    .filter((name) => name.toUpperCase().startsWith(PREFIX) && env[name] !== undefined && env[name] !== '')
    .filter((name) => !KNOWN_VARIABLES.includes(name) && !name.startsWith(SECRET_PREFIX))
    .sort()
    .map((name) => {
      const meant = meantVariable(name);
      const ignored = `environment variable ${name} is set, but AutoFlow reads no variable of that name, so it changes nothing`;
      return meant === undefined
        ? { name, message: `${ignored} (README.md, "Configuration", lists those it reads)` }
        : { name, meant, message: `${ignored}; did you mean ${meant}?` };
    });
}
