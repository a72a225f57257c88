import type { Context } from 'hono';
import { html, raw } from 'hono/html';
import type { SimProject } from '../model.js';
import type { SimState } from '../state.js';
import type { Links } from './links.js';

/*
 * Templates are `hono/html`, not JSX: `autoflow/testing` is type-checked as source in the repositories
 * of workflow authors, whose tsconfig has no JSX settings. `html` escapes every interpolated string
 * and keeps what `html` made.
 */

/** Markup made with `html`. */
export type Html = ReturnType<typeof html>;
/** What a template may hold: markup, text (escaped), numbers; `false`, `null` and `undefined` leave nothing. */
export type Content = Html | string | number | boolean | null | undefined | readonly Content[];

/** What every page reads: the state, and where to link. */
export interface View {
  state: SimState;
  to: Links;
}

// Everything shown comes from the simulator's data, which tests and workflows fill with anything:
// `html` escapes it, and the policy stops whatever might slip through from running or loading.
const HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;max-width:62rem;margin:0 auto;padding:0 1rem 3rem;color:#222}
a{color:#1f75cb}
.banner{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;background:#fc6d26;color:#fff;margin:0 -1rem 1rem;padding:.5rem 1rem}
.banner a{color:#fff}
h1{font-size:1.5rem;margin:.5rem 0}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem;border-bottom:1px solid #ddd}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dt{color:#666}
dd{margin:0}
ul{padding-left:1.2rem}
table{border-collapse:collapse}
th,td{text-align:left;padding:.2rem .8rem .2rem 0;border-bottom:1px solid #eee}
.text{font:inherit;white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f6f6;border-radius:4px;padding:.5rem .75rem;margin:.25rem 0}
.label,.badge{display:inline-block;border-radius:1rem;padding:0 .5rem;font-size:.85em;margin:0 .25rem .1rem 0}
.badge{background:#e9e9e9}
.opened,.active,.success{background:#c3e6cd}
.merged{background:#e1d8f9}
.closed,.failed,.canceled{background:#fdd4cd}
.running,.pending,.created{background:#cbe2f9}
.note{margin:.75rem 0}
.reply{margin-left:2rem}
.muted{color:#666}
`;

/** A page of the simulator: the read-only banner, a way back to the project (or to the list of everything), the title. */
export function page(view: View, title: string, body: Content, project?: SimProject): Html {
  const back = project && html`<a href="${view.to.project(project)}">← ${view.state.projectPath(project)}</a>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · GitLab simulator</title>
        <style>
          ${raw(STYLE)}
        </style>
      </head>
      <body>
        <header class="banner">
          <strong>GitLab simulator — read-only view</strong>${back}<a href="${view.to.home()}">Everything in the simulator</a>
        </header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`;
}

/** The page as an HTML answer. */
export function respond(c: Context, document: Html, status: 200 | 404 = 200): Response | Promise<Response> {
  return c.html(document, status, HEADERS);
}
