/**
 * Concurrency groups (`workflow({ concurrency })`): which group a new run joins. The stores hold the limit: a run
 * created while its group's slots are taken is `queued`, and the oldest queued run of a group starts when a slot frees
 * (store/ARCHITECTURE.md, "Concurrency groups").
 */
import { stableHash } from './hash.js';
import type { ConcurrencySpec, Json, NewRun, RunConcurrency } from './model.js';
import { wellFormedText } from './storable-json.js';

/** Longest group text stored as it is; a longer one keeps its start (a pair cut in two mended) and a hash of the whole. */
const MAX_GROUP_CHARS = 300;
const KEPT_GROUP_CHARS = 200;

/** How a key's value names its group: strings as they are, anything else (numbers, null when missing) as JSON. */
function keyText(value: Json | undefined): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value ?? null);
}

/** The value at a dot path of a run's input (array items by number), or undefined. */
export function inputValueAt(input: Json, path: string): Json | undefined {
  let current: Json | undefined = input;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) ? current[Number(segment)] : Object.hasOwn(current, segment) ? current[segment] : undefined;
  }
  return current;
}

/**
 * The group a new run of `workflow` joins: the declared `group` (else the workflow's name), followed by `:` and the
 * value of `key` in the input when the workflow splits its runs by key. Undefined when the workflow declares no limit.
 */
export function runConcurrency(workflow: string, spec: ConcurrencySpec | undefined, input: Json): RunConcurrency | undefined {
  if (spec === undefined) return undefined;
  const name = spec.group ?? workflow;
  const group = spec.key === undefined ? name : `${name}:${keyText(inputValueAt(input, spec.key))}`;
  const stored = group.length <= MAX_GROUP_CHARS ? group : `${wellFormedText(group.slice(0, KEPT_GROUP_CHARS))}…#${stableHash(group)}`;
  return { group: stored, limit: spec.limit };
}

/** `run` in its workflow's concurrency group, when the workflow (`spec`, of `run`'s version) declares a limit. */
export function withConcurrency(run: NewRun, spec: ConcurrencySpec | undefined): NewRun {
  const concurrency = runConcurrency(run.workflow, spec, run.input);
  return concurrency === undefined ? run : { ...run, concurrency };
}
