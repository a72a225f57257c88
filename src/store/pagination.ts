/**
 * Paging rules shared by every Store implementation, so that a cursor from one page means the same
 * thing whichever store produced it.
 */
import { ValidationError } from '../core/errors.js';
import type { RunStatus } from '../core/model.js';
import type { RunFilter } from '../core/ports.js';

/** The position of a run in `listRuns` order (newest first by createdAt, then id). */
export interface RunCursor {
  createdAt: number;
  id: string;
}

/** What `listRuns` orders by, newest first (RunFilter.order). */
export type RunOrder = NonNullable<RunFilter['order']>;

/**
 * The statuses `listRuns` orders by `updatedAt`: those of runs that no longer advance on their own, whose `updatedAt`
 * is when they ended (or got stuck). A running run's `updatedAt` changes at every step and is not indexed (store/ARCHITECTURE.md).
 */
export const UPDATE_ORDER_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'continued', 'stuck'];

/**
 * The condition of the partial index runs_by_end (SQLite 015, PostgreSQL 021), as a list in the `updated` order
 * repeats it: a planner uses a partial index only for a query whose WHERE implies the index's.
 */
export const UPDATE_ORDER_SQL = `status IN (${UPDATE_ORDER_STATUSES.map((status) => `'${status}'`).join(', ')})`;

/** A ValidationError when `filter` asks for an order the stores do not serve; its order otherwise. */
export function runOrderOf(filter: Pick<RunFilter, 'order' | 'status' | 'updatedFrom'>): RunOrder {
  const order = filter.order ?? 'created';
  if (order === 'updated' && (filter.status === undefined || !UPDATE_ORDER_STATUSES.includes(filter.status))) {
    throw new ValidationError(
      `runs are listed by when they last changed only with a status of runs that no longer advance (${UPDATE_ORDER_STATUSES.join(', ')}): ` +
        `add one, or list ${filter.status ?? 'all'} runs by when they were created`,
    );
  }
  if (filter.updatedFrom !== undefined && order !== 'updated') {
    throw new ValidationError('updatedFrom goes with order updated (and a status of runs that no longer advance)');
  }
  return order;
}

/** @default 50 */
export const DEFAULT_RUN_PAGE = 50;
export const MAX_RUN_PAGE = 500;

/** A run's place in a `listRuns` order: the time it is ordered by (`createdAt`, or `updatedAt` in `updated`) and its id. */
export interface RunPosition {
  at: number;
  id: string;
}

/**
 * Opaque to callers: base64url of `[createdAt, id]` of the last run on the previous page; in the order `updated`,
 * `[updatedAt, id, 'updated']`, so that a cursor of one order is not taken for a place in the other.
 */
function encodePosition(position: RunPosition, order: RunOrder): string {
  const value = order === 'created' ? [position.at, position.id] : [position.at, position.id, order];
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeRunCursor(cursor: string): RunCursor {
  const { at, id } = decodeRunPosition(cursor, 'created');
  return { createdAt: at, id };
}

/** The place a cursor holds; a ValidationError for a cursor that is not one, or that continues a list in another order. */
export function decodeRunPosition(cursor: string, order: RunOrder): RunPosition {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (Array.isArray(value) && Number.isFinite(value[0]) && typeof value[1] === 'string') {
    const madeIn: unknown = value.length === 2 ? 'created' : value.length === 3 ? value[2] : undefined;
    if (madeIn === order) return { at: value[0] as number, id: value[1] };
    if (madeIn === 'created' || madeIn === 'updated') {
      throw new ValidationError(
        `invalid cursor: it continues a list in the order ${madeIn}, not ${order}; keep the order of its first page`,
      );
    }
  }
  throw new ValidationError('invalid cursor: pass the nextCursor of a previous page unchanged, or none for the first page');
}

/**
 * A page from the rows a query returned for `limit + 1`: the extra row only says that another
 * page follows, whose cursor is the position of this page's last item (in `order`, for runs).
 */
export function pageOf<Row, Item extends RunCursor & { updatedAt?: number }>(
  rows: readonly Row[],
  limit: number,
  toItem: (row: Row) => Item,
  order: RunOrder = 'created',
): { items: Item[]; nextCursor?: string } {
  const items = rows.slice(0, limit).map(toItem);
  const last = items.at(-1);
  if (rows.length <= limit || !last) return { items };
  const at = order === 'updated' ? last.updatedAt : last.createdAt;
  if (at === undefined) throw new Error(`pageOf: the items of a list in the order ${order} need their updatedAt`);
  return { items, nextCursor: encodePosition({ at, id: last.id }, order) };
}

/** The page size `listRuns` uses for a requested `limit`: 1 to 500, 50 when absent. */
export function runPageLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_RUN_PAGE;
  return Math.min(MAX_RUN_PAGE, Math.max(1, Math.floor(limit)));
}

/** @default 1000 — log lines per `listLogs` call when no limit is given. */
export const DEFAULT_LOG_PAGE = 1000;

/**
 * Any other `limit`: a non-negative integer. (SQLite reads `LIMIT -1` as "no limit"; an array
 * slice reads it as "all but the last" — neither is what a caller passing a bad number meant.)
 */
export function rowLimit(limit: number): number {
  return Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : 0;
}
