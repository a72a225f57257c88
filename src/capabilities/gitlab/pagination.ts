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

/** `url` at offset page `page`. */
function atPage(url: URL, page: number): URL {
  const target = new URL(url);
  target.searchParams.set('page', String(page));
  return target;
}

/**
 * The `Link` header's `rel="next"`. Only the link's query is taken: its origin and path could differ from the
 * request's, which permissions were checked on.
 */
function linkedNext(url: URL, headers: Headers): URL | undefined {
  const link = /<([^>]+)>\s*;\s*rel="next"/.exec(headers.get('link') ?? '')?.[1];
  if (link === undefined) return undefined;
  const target = new URL(url);
  target.search = new URL(link, url).search;
  return target;
}

/** The next page: `X-Next-Page` for offset pagination, else the `Link` header's `rel="next"` (keyset pagination sends only that). */
export function nextPageUrl(url: URL, headers: Headers): URL | undefined {
  const next = header(headers, 'x-next-page');
  return next !== null ? atPage(url, next) : linkedNext(url, headers);
}

/**
 * Where `all: true` goes after the page `url` answered with `count` items. GitLab's headers lead, checked against the
 * page itself, because a proxy may strip them (a full page would end the list half read) or repeat stale ones (an
 * onward or backward `X-Next-Page` would walk empty or the same pages up to `maxPages`).
 */
function pageAfter(url: URL, headers: Headers, count: number, call: string): URL | undefined {
  if (count === 0) return undefined;
  // The page asked for, not X-Page: a header that cannot be trusted to point on cannot be trusted to say where it is.
  const current = Number(url.searchParams.get('page') ?? 1);
  const next = header(headers, 'x-next-page');
  if (next !== null && next > current) return atPage(url, next);
  const linked = linkedNext(url, headers);
  if (linked !== undefined) return linked;
  // GitLab's last page: an X-Next-Page that is there and empty, full as that page may be.
  if (headers.get('x-next-page') === '') return undefined;
  const perPage = header(headers, 'x-per-page') ?? Number(url.searchParams.get('per_page'));
  if (count < perPage) return undefined;
  // A full page and nothing that says where the next one is: offset pages are numbered, keyset pages are not.
  if (url.searchParams.get('pagination') !== 'keyset') return atPage(url, current + 1);
  const request = `GET ${url.pathname}${url.search}`;
  throw new CapabilityError(
    'unexpected_response',
    `${call} with all: true: GitLab's answer to ${request} is a full page (${count} items) without a Link header, and with ` +
      'keyset pagination only that header says where the next page starts (a proxy between AutoFlow and GitLab may strip it): ' +
      'let the proxy pass the Link header, or page by offset',
    { retryable: false, details: { request, items: count } },
  );
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
 * the next-page headers as `pageAfter` checks them, at most `maxPages` requests).
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
    const page = itemsOf(response, call);
    items.push(...page);
    next = pageAfter(next, response.headers, page.length, call);
  }
  return items;
}
