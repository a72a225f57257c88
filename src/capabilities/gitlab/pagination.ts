import { CapabilityError } from '../../core/errors.js';
import type { Json } from '../../core/model.js';
import type { GitLabResponse } from './client.js';

/** How a list call pages: one page (GitLab's default 20 items, or `page`/`perPage`), or `all` of them. */
export interface Paging {
  all?: boolean | undefined;
  page?: number | undefined;
  /** GitLab allows at most 100. @default 20, or 100 with `all` */
  perPage?: number | undefined;
  /** With `all`: more pages than this fail the call instead of filling the run's history. @default 50 */
  maxPages?: number | undefined;
  /** One page: the `nextCursor` of the page before, which continues keyset pagination too. */
  cursor?: string | undefined;
}

/** What one page says about the others, from GitLab's `X-*` headers (`total` is null where GitLab omits it on large lists). */
// A type, not an interface: it goes into Json, which needs an implicit index signature.
export type PageInfo = {
  page: number;
  perPage: number;
  nextPage: number | null;
  prevPage: number | null;
  total: number | null;
  totalPages: number | null;
  /**
   * Where the next page starts, or null on the last page: the parameters of GitLab's next page
   * (`page=3`, or keyset's `id_after=50` / `cursor=…`, which come only in the `Link` header, with
   * `nextPage` null). Passed back as the `cursor` paging option, it reads that page.
   */
  nextCursor: string | null;
};

export const DEFAULT_MAX_PAGES = 50;

const header = (headers: Headers, name: string): number | null => {
  const value = headers.get(name);
  return value === null || value === '' || !Number.isFinite(Number(value)) ? null : Number(value);
};

/**
 * The next page: `X-Next-Page` for offset pagination, else the `Link` header's `rel="next"`
 * (keyset pagination sends only that). Only the link's query is taken: its origin and path could
 * differ from the request's, which permissions were checked on.
 */
export function nextPageUrl(url: URL, headers: Headers): URL | undefined {
  const next = header(headers, 'x-next-page');
  if (next !== null) {
    const target = new URL(url);
    target.searchParams.set('page', String(next));
    return target;
  }
  const link = /<([^>]+)>\s*;\s*rel="next"/.exec(headers.get('link') ?? '')?.[1];
  if (link === undefined) return undefined;
  const target = new URL(url);
  target.search = new URL(link, url).search;
  return target;
}

/** The parameters in which `next` differs from `url`: what a workflow passes back as `cursor`. */
function cursorOf(url: URL, next: URL | undefined): string | null {
  if (next === undefined) return null;
  const changed = new URLSearchParams();
  for (const key of new Set(next.searchParams.keys())) {
    const values = next.searchParams.getAll(key);
    if (values.join('\u0000') !== url.searchParams.getAll(key).join('\u0000')) for (const value of values) changed.append(key, value);
  }
  return changed.toString();
}

/** Applies a cursor: each of its parameters replaces the request's. */
function applyCursor(url: URL, cursor: string): void {
  const params = new URLSearchParams(cursor);
  for (const key of new Set(params.keys())) {
    url.searchParams.delete(key);
    for (const value of params.getAll(key)) url.searchParams.append(key, value);
  }
}

function itemsOf(response: GitLabResponse, call: string): Json[] {
  if (Array.isArray(response.body)) return response.body;
  throw new CapabilityError('unexpected_response', `${call}: GitLab answered with ${typeof response.body}, not a list`, {
    retryable: false,
    details: { body: response.body },
  });
}

/**
 * Reads a list endpoint: `{ items, pagination }` for one page, or every item when `all` (following
 * the next-page headers, at most `maxPages` requests).
 */
export async function readList(fetchPage: (url: URL) => Promise<GitLabResponse>, first: URL, paging: Paging, call: string): Promise<Json> {
  const url = new URL(first);
  if (!paging.all) {
    if (paging.page !== undefined) url.searchParams.set('page', String(paging.page));
    if (paging.perPage !== undefined) url.searchParams.set('per_page', String(paging.perPage));
    if (paging.cursor !== undefined) applyCursor(url, paging.cursor);
    const response = await fetchPage(url);
    const { headers } = response;
    const pagination: PageInfo = {
      page: header(headers, 'x-page') ?? paging.page ?? 1,
      perPage: header(headers, 'x-per-page') ?? paging.perPage ?? 20,
      nextPage: header(headers, 'x-next-page'),
      prevPage: header(headers, 'x-prev-page'),
      total: header(headers, 'x-total'),
      totalPages: header(headers, 'x-total-pages'),
      nextCursor: cursorOf(url, nextPageUrl(url, headers)),
    };
    return { items: itemsOf(response, call), pagination };
  }
  const maxPages = paging.maxPages ?? DEFAULT_MAX_PAGES;
  url.searchParams.set('per_page', String(paging.perPage ?? 100));
  const items: Json[] = [];
  let next: URL | undefined = url;
  for (let pages = 0; next; pages++) {
    if (pages === maxPages) {
      throw new CapabilityError(
        'too_many_pages',
        `${call} with all: true read ${maxPages} pages and more remain; narrow it with filters, or raise maxPages`,
        {
          retryable: false,
          details: { maxPages, items: items.length },
        },
      );
    }
    const response = await fetchPage(next);
    items.push(...itemsOf(response, call));
    next = nextPageUrl(next, response.headers);
  }
  return items;
}
