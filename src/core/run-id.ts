/**
 * The ids a continue-as-new chain gives its runs (`successorId`: `x~2`, `x~3`…) are reserved: a run given
 * such an id — by an API client, or by a workflow for its child — would silently become the next run of
 * the chain `x`, whose own next run would then never start.
 */
const SUCCESSOR_SUFFIX = /~\d+$/;

/** What an API client may name a run: every run id can then be written in a URL path as it is. */
const CLIENT_RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._:@~-]{0,199}$/;

/** Why `id` may not be given to a run by a workflow (for its child), or undefined when it may. */
export function reservedRunIdProblem(id: string): string | undefined {
  return SUCCESSOR_SUFFIX.test(id)
    ? 'an id ending in ~ and a number is the one a continue-as-new gives the next run of a chain (x~2, x~3…): end it otherwise'
    : undefined;
}

/** Why `id` may not be given to a run by an API client, or undefined when it may. */
export function clientRunIdProblem(id: string): string | undefined {
  if (!CLIENT_RUN_ID.test(id)) return 'use 1–200 letters, digits and . _ : @ ~ -, starting with a letter or digit';
  return reservedRunIdProblem(id);
}
