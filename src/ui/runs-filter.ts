import { RUN_STATUSES, type RunStatus } from '../core/model.js';

/** The runs page's filter as the query string gave it: each part is optional. */
export interface RunsFilterQuery {
  workflow?: string | undefined;
  status?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export interface RunsFilter {
  workflow?: string;
  status?: RunStatus;
  /** `YYYY-MM-DD`, UTC, included. */
  from?: string;
  to?: string;
  /** The range in epoch ms: `createdBefore` is the midnight after `to`. */
  createdFrom?: number;
  createdBefore?: number;
  /** What was left out of the filter or changed, and why, as sentences for the page. */
  ignored: string[];
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Epoch ms of a day's midnight in UTC, or undefined when it is no calendar day (`2026-02-30` too). */
function midnight(day: string): number | undefined {
  const match = DAY.exec(day);
  if (!match) return undefined;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const at = Date.UTC(year, month - 1, date);
  const check = new Date(at);
  return check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === date ? at : undefined;
}

/**
 * The runs filter from the query string. A part that makes no sense (an unknown status, a day
 * that is no date) is left out and said so, the rest kept; a reversed day range is turned round
 * and said so, rather than showing an empty table.
 */
export function parseRunsFilter(query: RunsFilterQuery): RunsFilter {
  const filter: RunsFilter = { ignored: [] };
  const workflow = query.workflow?.trim();
  if (workflow) filter.workflow = workflow;
  const status = query.status?.trim();
  if (status) {
    if ((RUN_STATUSES as readonly string[]).includes(status)) filter.status = status as RunStatus;
    else filter.ignored.push(`Status “${status}” is not a run status (${RUN_STATUSES.join(', ')}), so runs of every status are shown.`);
  }
  const days: Array<['from' | 'to', string]> = [];
  for (const [name, label] of [
    ['from', 'Started from'],
    ['to', 'to'],
  ] as const) {
    const day = query[name]?.trim();
    if (!day) continue;
    if (midnight(day) === undefined) filter.ignored.push(`“${label}” day “${day}” is not a date written YYYY-MM-DD, so it was left out.`);
    else days.push([name, day]);
  }
  let from = days.find(([name]) => name === 'from')?.[1];
  let to = days.find(([name]) => name === 'to')?.[1];
  if (from && to && from > to) {
    filter.ignored.push(`The days were the wrong way round (from ${from} to ${to}), so runs from ${to} to ${from} are shown.`);
    [from, to] = [to, from];
  }
  if (from) {
    filter.from = from;
    filter.createdFrom = midnight(from)!;
  }
  if (to) {
    filter.to = to;
    // Both ends are included: `to` becomes "before the next midnight".
    filter.createdBefore = midnight(to)! + 86400_000;
  }
  return filter;
}
