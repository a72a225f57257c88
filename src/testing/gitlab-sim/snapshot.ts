import type { SimState } from './state.js';

/**
 * The simulator's records as JSON text, and back: what `autoflow server` keeps in its state file so
 * that its built-in GitLab survives a restart. Everything in `SimState` is kept — records, the id
 * sequences (so new objects never reuse an id), per-project iid counters, tokens, audit events.
 * Not kept, because the process that loads the snapshot makes them again: hooks, faults, OAuth
 * applications and codes, webhook deliveries, and `baseUrl`.
 */

/** Says what the file is, so that another JSON file given by mistake is refused rather than loaded. */
export const SNAPSHOT_FORMAT = 'autoflow-gitlab-simulator';
/** Raise it when a record changes shape; a file of another version is refused, never misread. */
export const SNAPSHOT_VERSION = 1;

/** The id-keyed tables of `SimState` (tokens are keyed by their secret, sequences by kind). */
const TABLES = [
  'users',
  'groups',
  'projects',
  'labels',
  'milestones',
  'issues',
  'mergeRequests',
  'notes',
  'pipelines',
  'jobs',
  'environments',
  'deployments',
  'freezePeriods',
] as const;
const LISTS = ['releases', 'auditEvents'] as const;

/** A snapshot that cannot be restored: `message` says what is wrong with it. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

/** Maps become `{ "$map": [[key, value], …] }`, the one JSON shape that records never have. */
function encode(this: unknown, key: string, value: unknown): unknown {
  if (value instanceof Map) return { $map: [...(value as Map<unknown, unknown>)] };
  // A Set would be written as `{}` and lost; the model has none, and a new one must come with its encoding.
  if (value instanceof Set) throw new TypeError(`gitlab-sim snapshot: '${key}' is a Set, which snapshot.ts does not encode yet`);
  return value;
}

function decode(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const entries = (value as { $map?: unknown }).$map;
    if (keys.length === 1 && keys[0] === '$map' && Array.isArray(entries)) {
      if (!entries.every((entry) => Array.isArray(entry) && entry.length === 2))
        throw new SnapshotError('a map entry is not a [key, value] pair');
      return new Map(entries as Array<[unknown, unknown]>);
    }
  }
  return value;
}

/** The whole state as JSON text (one line: the file is for machines; `jq` shows it to people). */
export function snapshotState(state: SimState): string {
  const snapshot: Record<string, unknown> = { format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, sequences: state.sequences };
  for (const table of TABLES) snapshot[table] = state[table];
  snapshot.tokens = state.tokens;
  for (const list of LISTS) snapshot[list] = state[list];
  return JSON.stringify(snapshot, encode);
}

/**
 * Replaces everything in `state` with the snapshot's records. Checks the shape before it changes
 * anything, so a refused snapshot leaves `state` as it was.
 * @throws SnapshotError when the text is not a snapshot of this version
 */
export function restoreState(state: SimState, text: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, decode);
  } catch (caught) {
    if (caught instanceof SnapshotError) throw caught;
    throw new SnapshotError(`it is not valid JSON (${caught instanceof Error ? caught.message : String(caught)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SnapshotError('it is not a JSON object');
  const snapshot = parsed as Record<string, unknown>;
  if (snapshot.format !== SNAPSHOT_FORMAT)
    throw new SnapshotError(`it is not a GitLab simulator state file (no "format": "${SNAPSHOT_FORMAT}")`);
  if (snapshot.version !== SNAPSHOT_VERSION) {
    throw new SnapshotError(`it is of version ${JSON.stringify(snapshot.version)}; this AutoFlow reads version ${SNAPSHOT_VERSION}`);
  }
  const map = (name: string): Map<unknown, unknown> => {
    const value = snapshot[name];
    if (!(value instanceof Map)) throw new SnapshotError(`"${name}" is missing or not a map`);
    return value as Map<unknown, unknown>;
  };
  const sequences = map('sequences');
  for (const [kind, last] of sequences) {
    if (typeof kind !== 'string' || !Number.isSafeInteger(last))
      throw new SnapshotError(`sequence ${JSON.stringify(kind)} is not a whole number`);
  }
  const tables = TABLES.map((name) => {
    const records = map(name);
    for (const [id, record] of records) {
      if (typeof id !== 'number' || (record as { id?: unknown } | null)?.id !== id)
        throw new SnapshotError(`"${name}" holds a record whose id is not its key ${JSON.stringify(id)}`);
    }
    return [name, records] as const;
  });
  const tokens = map('tokens');
  for (const [secret, token] of tokens) {
    if ((token as { token?: unknown } | null)?.token !== secret)
      throw new SnapshotError('"tokens" holds a token whose secret is not its key');
  }
  const lists = LISTS.map((name) => {
    const items = snapshot[name];
    if (!Array.isArray(items)) throw new SnapshotError(`"${name}" is missing or not a list`);
    return [name, items] as const;
  });

  state.sequences.clear();
  for (const [kind, last] of sequences) state.sequences.set(kind as string, last as number);
  const maps: Array<[target: Map<unknown, unknown>, records: Map<unknown, unknown>]> = [
    ...tables.map(([name, records]) => [state[name] as Map<unknown, unknown>, records] as [Map<unknown, unknown>, Map<unknown, unknown>]),
    [state.tokens, tokens],
  ];
  for (const [target, records] of maps) {
    target.clear();
    for (const [key, record] of records) target.set(key, record);
  }
  for (const [name, items] of lists) {
    const target = state[name] as unknown[];
    target.length = 0;
    // One at a time: a spread of a long audit log would exceed the arguments limit.
    for (const item of items) target.push(item);
  }
}
