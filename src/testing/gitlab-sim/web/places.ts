import { html } from 'hono/html';
import type { SimGroup, SimMilestone, SimProject, SimUser } from '../model.js';
import { type Html, type View, page } from './layout.js';
import { badge, facts, muted, newestFirst, pipelines, text, userLink, when, workItems } from './parts.js';

/** How many pipelines a project page lists: enough to see what CI did lately. */
const RECENT_PIPELINES = 10;

const byPath = <T>(items: Iterable<T>, path: (item: T) => string): T[] => [...items].sort((a, b) => path(a).localeCompare(path(b)));

function projectList(view: View, projects: Iterable<SimProject>): Html {
  const sorted = byPath(projects, (project) => view.state.projectPath(project));
  if (sorted.length === 0) return html`<p class="muted">No projects.</p>`;
  return html`<ul>
    ${sorted.map(
      (project) =>
        html`<li><a href="${view.to.project(project)}">${view.state.projectPath(project)}</a> ${muted(project.description ?? '')}</li>`,
    )}
  </ul>`;
}

function groupList(view: View, groups: Iterable<SimGroup>): Html {
  const sorted = byPath(groups, (group) => view.state.groupPath(group));
  return html`<ul>
    ${sorted.map((group) => html`<li><a href="${view.to.group(group)}">${view.state.groupPath(group)}</a></li>`)}
  </ul>`;
}

function milestoneList(view: View, milestones: readonly SimMilestone[], empty: string): Html {
  if (milestones.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<ul>
    ${milestones.map(
      (milestone) =>
        html`<li>
          <a href="${view.to.milestone(milestone)}">${milestone.title}</a> ${badge(milestone.state)}${
            milestone.dueDate !== null && html` ${muted(`due ${milestone.dueDate}`)}`
          }
        </li>`,
    )}
  </ul>`;
}

export function projectPage(view: View, project: SimProject): Html {
  const { state } = view;
  const [group] = state.projectGroups(project);
  const head = project.repository.branches.get(project.defaultBranch);
  const open = <T extends { state: string; createdAt: number; id: number }>(items: T[]): T[] =>
    newestFirst(items.filter((item) => item.state === 'opened'));
  const issues = open(state.issuesOf(project));
  const mergeRequests = open(state.mergeRequestsOf(project));
  const milestones = state.availableMilestones(project).filter((milestone) => milestone.state === 'active');
  const rows = facts([
    ['Namespace', group ? html`<a href="${view.to.group(group)}">${state.groupPath(group)}</a>` : userLink(view, project.namespace.id)],
    ['Visibility', project.visibility],
    [
      'Default branch',
      html`<code>${project.defaultBranch}</code
        >${head !== undefined && html` at <a href="${view.to.commit(project, head)}">${head.slice(0, 8)}</a>`}`,
    ],
  ]);
  const body = html`${rows}${text(project.description, 'No description.')}
    <h2>Open issues (${issues.length})</h2>
    ${workItems(view, issues, 'No open issues.')}
    <h2>Open merge requests (${mergeRequests.length})</h2>
    ${workItems(view, mergeRequests, 'No open merge requests.')}
    <h2>Active milestones</h2>
    ${milestoneList(view, milestones, 'No active milestones.')}
    <h2>Recent pipelines</h2>
    ${pipelines(view, newestFirst(state.pipelinesOf(project)).slice(0, RECENT_PIPELINES), 'No pipelines.')}`;
  return page(view, `${project.name} (${state.projectPath(project)})`, body);
}

export function groupPage(view: View, group: SimGroup): Html {
  const { state } = view;
  const parent = group.parentId === null ? undefined : state.groups.get(group.parentId);
  const subgroups = [...state.groups.values()].filter((candidate) => candidate.parentId === group.id);
  const projects = [...state.projects.values()].filter(
    (project) => project.namespace.kind === 'group' && project.namespace.id === group.id,
  );
  const milestones = [...state.milestones.values()].filter(
    (milestone) => milestone.owner.kind === 'group' && milestone.owner.id === group.id,
  );
  const rows = facts([
    ['Path', state.groupPath(group)],
    ['Parent group', parent && html`<a href="${view.to.group(parent)}">${state.groupPath(parent)}</a>`],
    ['Visibility', group.visibility],
  ]);
  const body = html`${rows}${text(group.description, 'No description.')}
    <h2>Projects</h2>
    ${projectList(view, projects)}
    ${
      subgroups.length > 0 &&
      html`<h2>Subgroups</h2>
        ${groupList(view, subgroups)}`
    }
    <h2>Milestones</h2>
    ${milestoneList(view, milestones, 'No group milestones.')}`;
  return page(view, `Group ${state.groupFullName(group)}`, body);
}

export function userPage(view: View, user: SimUser): Html {
  const { state } = view;
  const assigned = newestFirst(
    [...state.issues.values()].filter((issue) => issue.state === 'opened' && issue.assigneeIds.includes(user.id)),
  );
  const authored = newestFirst([...state.mergeRequests.values()].filter((mr) => mr.state === 'opened' && mr.authorId === user.id));
  const rows = facts([
    ['State', badge(user.state)],
    ['Administrator', user.admin && 'yes'],
    ['Member since', when(user.createdAt)],
  ]);
  const body = html`${rows}
    <h2>Open issues assigned to ${user.name}</h2>
    ${workItems(view, assigned, 'None.', true)}
    <h2>Open merge requests by ${user.name}</h2>
    ${workItems(view, authored, 'None.', true)}`;
  return page(view, `${user.name} (@${user.username})`, body);
}

/**
 * The start page, and the 404 page (`missing`: the path asked for): what the simulator serves, and
 * every project, group and user in it.
 */
export function directoryPage(view: View, missing?: string): Html {
  const { state } = view;
  const home = view.to.home();
  const notHere =
    missing !== undefined &&
    html`<p>
      There is no page at <code>${missing}</code>: no such project, group, user or record, or a page the simulator does not have.
    </p>`;
  const body = html`${notHere}
    <p>The simulator serves these read-only pages, where its API's <code>web_url</code>s point:</p>
    <ul>
      <li><code>${home}&lt;group&gt;/&lt;project&gt;</code>: its open issues and merge requests, active milestones, recent pipelines</li>
      <li>
        <code>${home}&lt;project&gt;/-/issues/&lt;iid&gt;</code>, <code>…/-/merge_requests/&lt;iid&gt;</code>,
        <code>…/-/milestones/&lt;iid&gt;</code>, <code>…/-/pipelines/&lt;id&gt;</code>, <code>…/-/jobs/&lt;id&gt;</code>,
        <code>…/-/commit/&lt;sha&gt;</code>
      </li>
      <li>
        <code>${home}groups/&lt;group&gt;</code>, <code>${home}groups/&lt;group&gt;/-/milestones/&lt;iid&gt;</code>,
        <code>${home}&lt;username&gt;</code>
      </li>
      <li>the REST API under <code>${home}api/v4</code></li>
    </ul>
    <h2>Projects</h2>
    ${projectList(view, state.projects.values())}
    <h2>Groups</h2>
    ${groupList(view, state.groups.values())}
    <h2>Users</h2>
    <ul>
      ${byPath(state.users.values(), (user) => user.username).map((user) => html`<li>${userLink(view, user.id)}</li>`)}
    </ul>`;
  return page(view, missing === undefined ? 'Everything in the simulator' : 'Page not found', body);
}
