/**
 * Paging rules shared by every Store implementation, so that a cursor from one page means the same
 * thing whichever store produced it.
 */
import { ValidationError } from '../core/errors.js';

/** The position of a run in `listRuns` order (newest first by createdAt, then id). */
export interface RunCursor {
  createdAt: number;
  id: string;
}

/** @default 50 */
export const DEFAULT_RUN_PAGE = 50;
export const MAX_RUN_PAGE = 500;

/** Opaque to callers: base64url of `[createdAt, id]` of the last run on the previous page. */
export function encodeRunCursor(cursor: RunCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');
}

export function decodeRunCursor(cursor: string): RunCursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (Array.isArray(value) && value.length === 2 && Number.isFinite(value[0]) && typeof value[1] === 'string') {
    return { createdAt: value[0] as number, id: value[1] };
  }
  throw new ValidationError('invalid cursor: pass the nextCursor of a previous page unchanged, or none for the first page');
}

/**
 * A page from the rows a query returned for `limit + 1`: the extra row only says that another
 * page follows, whose cursor is the position of this page's last item.
 */
export function pageOf<Row, Item extends RunCursor>(rows: readonly Row[], limit: number, toItem: (row: Row) => Item): { items: Item[]; nextCursor?: string } {
  const items = rows.slice(0, limit).map(toItem);
  const last = items.at(-1);
  return rows.length > limit && last ? { items, nextCursor: encodeRunCursor(last) } : { items };
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
