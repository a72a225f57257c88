import type { Context } from 'hono';

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
