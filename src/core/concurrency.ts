/**
 * Concurrency groups (`workflow({ concurrency })`): which group a new run joins. The stores hold the limit: a run
 * created while its group's slots are taken is `queued`, and the oldest queued run of a group starts when a slot frees
 * (store/ARCHITECTURE.md, "Concurrency groups").
 */
import { ConflictError } from './errors.js';
import { stableHash } from './hash.js';
import type { CloudEvent, ConcurrencySpec, Json, NewRun, RunConcurrency } from './model.js';
import { valueAt } from './paths.js';
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
function inputValueAt(input: Json, path: string): Json | undefined {
  let current: Json | undefined = input;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) ? current[Number(segment)] : Object.hasOwn(current, segment) ? current[segment] : undefined;
  }
  return current;
}

/**
 * The group a new run of `workflow` joins: the declared `group` (else the workflow's name), followed by `:` and the
 * value of `key` when the workflow splits its runs by key — in the input, or for a run an event started, in `event` as a
 * trigger filter reads it (from its `data` unless the path names an attribute). Undefined when the workflow declares
 * no limit.
 */
function runConcurrency(workflow: string, spec: ConcurrencySpec | undefined, input: Json, event?: CloudEvent): RunConcurrency | undefined {
  if (spec === undefined) return undefined;
  const name = spec.group ?? workflow;
  const value = spec.key === undefined ? undefined : event ? valueAt(event, spec.key) : inputValueAt(input, spec.key);
  const group = spec.key === undefined ? name : `${name}:${keyText(value)}`;
  const stored = group.length <= MAX_GROUP_CHARS ? group : `${wellFormedText(group.slice(0, KEPT_GROUP_CHARS))}…#${stableHash(group)}`;
  return {
    group: stored,
    limit: spec.limit,
    ...(spec.queue !== undefined && { queue: spec.queue }),
    ...(spec.cancelInProgress && { cancelInProgress: true }),
  };
}

/**
 * `run` in its workflow's concurrency group, when the workflow (`spec`, of `run`'s version) declares a limit; `event`:
 * the event that started it (runConcurrency).
 */
export function withConcurrency(run: NewRun, spec: ConcurrencySpec | undefined, event?: CloudEvent): NewRun {
  const concurrency = runConcurrency(run.workflow, spec, run.input, event);
  return concurrency === undefined ? run : { ...run, concurrency };
}

/** The refusal of a retry that would run more runs of a group than its limit (Engine.retry, Store.retryRun). */
export function groupFullError(runId: string, concurrency: RunConcurrency, taken: number): ConflictError {
  return new ConflictError(
    `run ${runId} cannot be retried now: ${taken} run(s) of its concurrency group '${concurrency.group}' are running, ` +
      `its limit is ${concurrency.limit}; retry it once one of them ends (autoflow runs --status running)`,
    { code: 'concurrency_group_full', group: concurrency.group, limit: concurrency.limit, running: taken },
  );
}
