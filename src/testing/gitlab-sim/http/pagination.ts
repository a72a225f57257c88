import type { Context } from 'hono';
import { badRequest } from '../errors.js';
import type { SimIssue, SimMergeRequest } from '../model.js';
import type { OrderPosition, WorkItemOrder } from './filters.js';

/** GitLab's default and largest page sizes. */
const DEFAULT_PER_PAGE = 20;
const MAX_PER_PAGE = 100;

const positive = (value: string | undefined, fallback: number): number => {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed > 0 ? parsed : fallback;
};

/**
 * One page of `items` with GitLab's offset-pagination headers: `X-Total`, `X-Total-Pages`,
 * `X-Page`, `X-Per-Page`, `X-Next-Page`, `X-Prev-Page` (empty when there is none) and a `Link`
 * header with `prev`/`next`/`first`/`last` built from the request URL, other parameters kept.
 * A page past the end is empty, with neither next nor previous page, as Kaminari answers.
 */
export function paginate<T>(c: Context, items: readonly T[]): T[] {
  const page = positive(c.req.query('page'), 1);
  const perPage = Math.min(positive(c.req.query('per_page'), DEFAULT_PER_PAGE), MAX_PER_PAGE);
  const totalPages = Math.max(1, Math.ceil(items.length / perPage));
  const inRange = page <= totalPages;
  const next = inRange && page < totalPages ? page + 1 : undefined;
  const prev = inRange && page > 1 ? page - 1 : undefined;
  const link = (target: number, rel: string): string => {
    const url = new URL(c.req.url);
    url.searchParams.set('page', String(target));
    url.searchParams.set('per_page', String(perPage));
    return `<${url.toString()}>; rel="${rel}"`;
  };
  c.header('X-Total', String(items.length));
  c.header('X-Total-Pages', String(totalPages));
  c.header('X-Page', String(page));
  c.header('X-Per-Page', String(perPage));
  c.header('X-Next-Page', next === undefined ? '' : String(next));
  c.header('X-Prev-Page', prev === undefined ? '' : String(prev));
  const links = [
    prev === undefined ? '' : link(prev, 'prev'),
    next === undefined ? '' : link(next, 'next'),
    link(1, 'first'),
    link(totalPages, 'last'),
  ];
  c.header('Link', links.filter((item) => item !== '').join(', '));
  return items.slice((page - 1) * perPage, page * perPage);
}

/** The `order_by` values of `/projects/:id/issues` that GitLab (18.3 and later) pages by keyset. */
export const ISSUE_KEYSET_ORDERS: readonly string[] = ['created_at', 'updated_at', 'title', 'due_date', 'weight', 'relative_position'];

function encodeCursor(orderBy: string, position: OrderPosition): string {
  return Buffer.from(JSON.stringify({ [orderBy]: position.value, id: position.id })).toString('base64');
}

function decodeCursor(orderBy: string, cursor: string): OrderPosition {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8'));
  } catch {
    throw badRequest('cursor is invalid');
  }
  const fields = (typeof decoded === 'object' && decoded !== null ? decoded : {}) as Record<string, unknown>;
  const [value, id] = [fields[orderBy], fields['id']];
  // A cursor from another order_by would resume at the wrong place: GitLab refuses it too.
  if (typeof id !== 'number' || !(value === null || typeof value === 'string' || typeof value === 'number')) {
    throw badRequest('cursor is invalid');
  }
  return { value, id };
}

/**
 * One page of `items` (already in `order`) by keyset pagination, as GitLab's cursor-based pager answers: no
 * `X-Page`/`X-Total` headers, only a `Link` `rel="next"` carrying `cursor` (the last item's order value and id),
 * absent on the last page. `cursor` resumes after that item, so items created meanwhile never shift a page.
 */
export function paginateByKeyset<T extends SimIssue | SimMergeRequest>(c: Context, items: readonly T[], order: WorkItemOrder): T[] {
  const perPage = Math.min(positive(c.req.query('per_page'), DEFAULT_PER_PAGE), MAX_PER_PAGE);
  const cursor = c.req.query('cursor');
  const after = cursor === undefined || cursor === '' ? undefined : decodeCursor(order.orderBy, cursor);
  const start = after === undefined ? 0 : items.findIndex((item) => order.compare(order.positionOf(item), after) > 0);
  const page = start === -1 ? [] : items.slice(start, start + perPage);
  const last = page.at(-1);
  if (last !== undefined && start + perPage < items.length) {
    const url = new URL(c.req.url);
    url.searchParams.set('per_page', String(perPage));
    url.searchParams.set('cursor', encodeCursor(order.orderBy, order.positionOf(last)));
    c.header('Link', `<${url.toString()}>; rel="next"`);
  }
  return page;
}
