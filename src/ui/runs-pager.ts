/**
 * The runs list's way back. A keyset cursor only leads forwards (to the runs after a position), so
 * the pages before this one travel in the address: `back` lists their cursors, oldest first, joined
 * by `.` (cursors are base64url, which has no `.`), the first page written `~` (it has no cursor).
 */

/** Cursors kept in `back`: about 70 characters each, so the address stays under 2 kB. */
export const BACK_KEPT = 20;

const FIRST = '~';
const CURSOR = /^[A-Za-z0-9_-]+$/;

/** Where a pager link leads: the query parameters besides the filter; none for the first page. */
export interface PageLink {
  cursor?: string;
  back?: string;
}

export interface RunsPager {
  /** Set when this is not the first page. */
  first?: PageLink;
  /** Set when the address says which page came before: not when it was opened without `back`, or after more than BACK_KEPT pages. */
  previous?: PageLink;
  next?: PageLink;
}

/** The pages before the current one, from its `back` parameter; none when it is not what this module writes. */
function trailOf(back: string | undefined): string[] {
  if (!back) return [];
  const trail = back.split('.').slice(-BACK_KEPT);
  return trail.every((entry) => entry === FIRST || CURSOR.test(entry)) ? trail : [];
}

function link(cursor: string | undefined, trail: string[]): PageLink {
  if (cursor === undefined || cursor === FIRST) return {};
  return trail.length > 0 ? { cursor, back: trail.join('.') } : { cursor };
}

/**
 * The runs list's first, previous and next links, from the page's `cursor` and `back` parameters
 * and the list's `nextCursor`.
 *
 * @example
 * runsPager({ cursor: 'c2', back: '~.c1' }, 'c3');
 * // { first: {}, previous: { cursor: 'c1', back: '~' }, next: { cursor: 'c3', back: '~.c1.c2' } }
 */
export function runsPager(current: PageLink, nextCursor: string | undefined): RunsPager {
  const trail = current.cursor ? trailOf(current.back) : [];
  const pager: RunsPager = {};
  if (current.cursor) pager.first = {};
  if (trail.length > 0) pager.previous = link(trail.at(-1), trail.slice(0, -1));
  if (nextCursor) pager.next = link(nextCursor, [...trail, current.cursor ?? FIRST].slice(-BACK_KEPT));
  return pager;
}
