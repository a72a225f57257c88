import { html } from 'hono/html';
import { hookTime, restTime, textColor } from '../format.js';
import { labelsOf, usersOf } from '../hooks/attributes.js';
import type { SimIssue, SimMergeRequest, SimPipeline } from '../model.js';
import type { Content, Html, View } from './layout.js';

/** The pieces pages are made of. */

/** A term and what it says; rows whose value is `undefined`, `null` or `false` are left out. */
export type Fact = readonly [term: string, value: Content];

export function facts(rows: readonly Fact[]): Html {
  const shown = rows.filter(([, value]) => value !== undefined && value !== null && value !== false);
  return html`<dl>
    ${shown.map(
      ([term, value]) =>
        html`<dt>${term}</dt>
          <dd>${value}</dd>`,
    )}
  </dl>`;
}

/** A time as GitLab's hooks write it, readable and with its zone; the exact instant in `datetime`. */
export const when = (ms: number): Html => html`<time datetime="${restTime(ms)}">${hookTime(ms)}</time>`;

/** Text as written: not rendered as Markdown, line breaks kept (`pre`, which no formatter re-indents). */
export const text = (value: string | null, empty: string): Html =>
  value ? html`<pre class="text">${value}</pre>` : html`<p class="muted">${empty}</p>`;

/** A state (`opened`, `merged`, `success`…) as a badge coloured by it. */
export const badge = (state: string): Html => html`<span class="badge ${state}">${state}</span>`;

export const muted = (words: string): Html => html`<span class="muted">${words}</span>`;

export function userLink(view: View, id: number | null): Html {
  const user = id === null ? undefined : view.state.users.get(id);
  return user ? html`<a href="${view.to.user(user)}">${user.name} ${muted(`@${user.username}`)}</a>` : muted('nobody');
}

/** Users as links, or `none`. */
export function users(view: View, ids: readonly number[]): Html {
  const found = usersOf(view.state, ids);
  return found.length === 0 ? muted('none') : html`${found.map((user, index) => html`${index > 0 && ', '}${userLink(view, user.id)}`)}`;
}

/** Labels in their colours, as GitLab shows them, or `none`. */
export function labels(view: View, ids: readonly number[]): Html {
  const found = labelsOf(view.state, ids).sort((a, b) => a.name.localeCompare(b.name));
  if (found.length === 0) return muted('none');
  return html`${found.map(
    (label) =>
      html`<span class="label" style="background:${label.color};color:${textColor(label.color)}" title="${label.description ?? ''}"
        >${label.name}</span
      >`,
  )}`;
}

/** `#12` or `!3`, with the project's path in front when a list spans projects. */
export function reference(view: View, item: SimIssue | SimMergeRequest, withProject = false): string {
  const sigil = 'sourceBranch' in item ? '!' : '#';
  return `${withProject ? view.state.projectPath(view.state.requireProject(item.projectId)) : ''}${sigil}${item.iid}`;
}

/** Issues or merge requests, one line each: reference and title, state, labels, assignees. */
export function workItems(view: View, items: ReadonlyArray<SimIssue | SimMergeRequest>, empty: string, withProject = false): Html {
  if (items.length === 0) return html`<p class="muted">${empty}</p>`;
  const line = (item: SimIssue | SimMergeRequest): Html => {
    const href = 'sourceBranch' in item ? view.to.mergeRequest(item) : view.to.issue(item);
    const assigned = item.assigneeIds.length > 0 && html` <span class="muted">assigned to ${users(view, item.assigneeIds)}</span>`;
    return html`<li>
      <a href="${href}">${reference(view, item, withProject)} ${item.title}</a> ${badge(item.state)}${
        item.labelIds.length > 0 && html` ${labels(view, item.labelIds)}`
      }${assigned}
    </li>`;
  };
  return html`<ul>
    ${items.map(line)}
  </ul>`;
}

/** Pipelines, one line each: number, status, ref and commit. */
export function pipelines(view: View, list: readonly SimPipeline[], empty: string): Html {
  if (list.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<ul>
    ${list.map(
      (pipeline) =>
        html`<li>
          <a href="${view.to.pipeline(pipeline)}">#${pipeline.id}</a> ${badge(pipeline.status)} <code>${pipeline.ref}</code>
          <span class="muted">${pipeline.sha.slice(0, 8)}, ${when(pipeline.createdAt)}</span>
        </li>`,
    )}
  </ul>`;
}

/** Newest first, as GitLab lists issues, merge requests and pipelines. */
export const newestFirst = <T extends { createdAt: number; id: number }>(items: Iterable<T>): T[] =>
  [...items].sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
