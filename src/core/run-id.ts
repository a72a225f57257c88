import type { Json } from './model.js';

/**
 * The ids a continue-as-new chain gives its runs (`successorId`: `x~2`, `x~3`…) are reserved: a run given
 * such an id — by an API client, or by a workflow for its child — would silently become the next run of
 * the chain `x`, whose own next run would then never start.
 */
const SUCCESSOR_SUFFIX = /~\d+$/;

/** What an API client may name a run: every run id can then be written in a URL path as it is. */
const CLIENT_RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._:@~-]{0,199}$/;

/** Why `id` may not be given to a run by an API client or a workflow (for its child), or undefined when it may. */
export function reservedRunIdProblem(id: string): string | undefined {
  return SUCCESSOR_SUFFIX.test(id)
    ? 'an id ending in ~ and a number is the one a continue-as-new gives the next run of a chain (x~2, x~3…): end it otherwise'
    : undefined;
}

/** The end of a scheduled run's id: `@` and the tick's ISO time (scheduledRunId). */
const SCHEDULED_SUFFIX = /@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/** The end of a triggered run's id: `-` and a 64-bit hash in hex (triggeredRunIdOf). */
const TRIGGERED_SUFFIX = /-[0-9a-f]{16}$/;

/** The id of the run the `ordinal`-th cron trigger of `workflow` starts at the tick `at`: every node derives the same. */
export function scheduledRunId(workflow: string, ordinal: number, at: number): string {
  const tick = new Date(at).toISOString();
  // Two triggers firing at one tick start two runs.
  return ordinal === 1 ? `${workflow}@${tick}` : `${workflow}:${ordinal}@${tick}`;
}

/** The input of the run a cron trigger starts at the tick `at`: the trigger's `input`, else `{ scheduledAt }`. */
export function scheduledRunInput(input: Json | undefined, at: number): Json {
  return input ?? { scheduledAt: new Date(at).toISOString() };
}

/** The id of the run an event starts through a trigger of `workflow`; `hash` names the occurrence (router.ts). */
export function triggeredRunIdOf(workflow: string, hash: string): string {
  return `${workflow}-${hash}`;
}

/**
 * Why `id` has the shape of the id a schedule or a trigger gives the run it starts, or undefined. A run started
 * under such an id first, by a client or by a workflow for its child, would take that run's place: when the tick comes
 * or the event arrives the id is taken, so the schedule's or the trigger's run never starts, and the run standing in
 * for it ran with the input its starter chose.
 */
function startedRunIdProblem(id: string): string | undefined {
  if (SCHEDULED_SUFFIX.test(id)) {
    return 'an id ending in @ and an ISO time is the one a schedule gives the run it starts at that time: end it otherwise';
  }
  if (TRIGGERED_SUFFIX.test(id)) {
    return 'an id ending in - and 16 hex digits is the one a trigger gives the run an event starts: end it otherwise';
  }
  return undefined;
}

/** The id of the child a run starts at `step` without giving one (the SDK's `startChild`). */
export function defaultChildRunId(parentId: string, step: number): string {
  return `${parentId}.${step}`;
}

const DEFAULT_CHILD_SUFFIX = /\.\d+$/;
/**
 * A child's id, given or made (`<run id>.<step>` of a client's id of up to 200 characters, and of its children): the
 * characters a client may use, which every store keeps and indexes as they are (a lone surrogate was stored mangled
 * on SQLite, and a child nobody could address spun a core), within what PostgreSQL's index entries hold.
 */
const CHILD_RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._:@~-]{0,999}$/;

/**
 * Why a workflow may not give `id` to the child it starts as `ownDefault` would be named, or undefined when it may.
 * Besides the shapes of a schedule's and a trigger's runs, a child may not take the shape of another run's default
 * child id (`release@2026-12-07T15:08:00.000Z.1`): started first, it would make that run's own child start fail.
 */
export function childRunIdProblem(id: string, ownDefault: string): string | undefined {
  if (!CHILD_RUN_ID.test(id)) {
    return 'use 1–1000 letters, digits and . _ : @ ~ -, starting with a letter or digit (as a client may, longer for the ids of children of children)';
  }
  if (id !== ownDefault && DEFAULT_CHILD_SUFFIX.test(id)) {
    return 'an id ending in . and a number is the one a run gives the child it starts without an id (<run id>.<step>): end it otherwise';
  }
  return startedRunIdProblem(id) ?? reservedRunIdProblem(id);
}

/** Why `id` may not be given to a run by an API client (the web UI's start form included), or undefined when it may. */
export function clientRunIdProblem(id: string): string | undefined {
  if (!CLIENT_RUN_ID.test(id)) return 'use 1–200 letters, digits and . _ : @ ~ -, starting with a letter or digit';
  return startedRunIdProblem(id) ?? reservedRunIdProblem(id);
}
