/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { Session } from '../auth/session.js';
import type { PageLink, RunsPager } from '../runs-pager.js';
import { ASSET_VERSION } from '../static.js';
import { cutText } from '../../core/text-cut.js';

export interface PageProps {
  title: string;
  session?: Session | undefined;
  /** Which nav entry is current. */
  section?: 'overview' | 'workflows' | 'runs' | 'tasks' | 'events';
  /** Server-sent events URL: the page refreshes its `data-live-region`s when it reports a change. */
  live?: string;
  children?: Child;
}

const NAV: Array<[NonNullable<PageProps['section']>, string, string]> = [
  ['overview', '/', 'Overview'],
  ['tasks', '/tasks', 'My tasks'],
  ['runs', '/runs', 'Runs'],
  ['workflows', '/workflows', 'Workflows'],
  ['events', '/events', 'Events'],
];

/** The page frame: header with navigation and the signed-in user, then the page. No third-party asset. */
export function Layout(props: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · AutoFlow</title>
        <link rel="icon" href="/ui/icon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href={`/ui/app.css?v=${ASSET_VERSION}`} />
        <script src={`/ui/app.js?v=${ASSET_VERSION}`} defer></script>
      </head>
      <body data-live={props.live}>
        <a class="skip" href="#main">
          Skip to main content
        </a>
        <header class="top">
          <a class="brand" href="/">
            AutoFlow
          </a>
          {props.session && (
            <nav>
              {NAV.map(([key, href, label]) => (
                <a href={href} aria-current={props.section === key ? 'page' : undefined}>
                  {label}
                </a>
              ))}
            </nav>
          )}
          {props.session && (
            <form class="user" method="post" action="/auth/logout">
              <span title={`@${props.session.username}`}>{props.session.name}</span>
              <input type="hidden" name="_csrf" value={props.session.csrf} />
              <button type="submit" class="link">
                Sign out
              </button>
            </form>
          )}
        </header>
        <main id="main" tabindex={-1}>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** Statuses as a person writes them; the others (`running`, `approved`…) already read as words. */
const STATUS_LABELS: Record<string, string> = { timed_out: 'timed out', approve: 'approved', reject: 'rejected' };

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}

/** A run's, task's or decision's status as a coloured badge (the class keeps the raw status). */
export function StatusBadge(props: { status: string }) {
  return <span class={`badge s-${props.status}`}>{statusLabel(props.status)}</span>;
}

/** `2026-11-23 14:05:09 UTC`: unambiguous, sortable, short, and says its zone. */
export function formatTime(iso: string | number | undefined): string {
  if (iso === undefined) return '';
  return `${new Date(iso).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

/**
 * A moment on a page: `<time datetime>` with the UTC text, which app.js rewrites into the
 * browser's own zone (named); without the script the UTC text stays, and says so.
 */
export function Time(props: { at: string | number | undefined }) {
  if (props.at === undefined) return null;
  return <time datetime={new Date(props.at).toISOString()}>{formatTime(props.at)}</time>;
}

/** A link to a run, its id cut to 24 characters (the whole id in its tooltip), so that a table stays narrow. */
export function RunLink(props: { id: string }) {
  const { id } = props;
  return (
    <a href={`/runs/${encodeURIComponent(id)}`} class="mono" title={id.length > 24 ? id : undefined}>
      {id.length > 24 ? `${id.slice(0, 23)}…` : id}
    </a>
  );
}

/**
 * The most of a value a page shows: a run's input or result may be megabytes (2 MiB each, more from a webhook), and the
 * run page is sent again at each live update. The whole value is a command away: `more` says which.
 */
const MAX_SHOWN_JSON_CHARS = 64 * 1024;

/**
 * An error's message or stack as a page shows it: at most `max` characters. Errors are stored up to 2 MiB, and a run's
 * page shows its error in the notice, the timeline and the history: a 200,000-character message made a 1 MB page.
 */
export function shownText(text: string, max = 4096): string {
  return cutText(text, max);
}

export function Json(props: { value: unknown; more?: string }) {
  const text = JSON.stringify(props.value, null, 2);
  if (text.length <= MAX_SHOWN_JSON_CHARS) return <pre class="json">{text}</pre>;
  return (
    <>
      <pre class="json">{cutText(text, MAX_SHOWN_JSON_CHARS)}</pre>
      {props.more && <p class="muted">The whole value: {props.more}</p>}
    </>
  );
}

/** A simple error or notice box. */
export function Notice(props: { kind: 'error' | 'info' | 'ok'; children?: Child }) {
  return (
    <div class={`notice ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

/**
 * The links between the pages of a list (see runs-pager.ts): `href` makes a page's address, `words` name the first,
 * previous and next pages as the list reads (`« first page`, `‹ newer tasks`…).
 */
export function PagerNav(props: {
  label: string;
  pager: RunsPager;
  href: (link: PageLink) => string;
  words: { first: string; previous: string; next: string };
}) {
  const { pager, href, words } = props;
  return (
    <nav class="pager" aria-label={props.label}>
      {pager.first && <a href={href(pager.first)}>« {words.first}</a>}
      {pager.previous && (
        <a href={href(pager.previous)} rel="prev">
          ‹ {words.previous}
        </a>
      )}
      {pager.next && (
        <a href={href(pager.next)} rel="next">
          {words.next} »
        </a>
      )}
    </nav>
  );
}
