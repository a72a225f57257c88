import { Hono, type NotFoundHandler } from 'hono';
import type { SimEnv, SimRequest } from '../http/app.js';
import type { LabelOwner, SimGroup, SimMilestone, SimProject } from '../model.js';
import type { SimState } from '../state.js';
import type { SubPage } from '../web-paths.js';
import { commitPage, jobPage, pipelinePage } from './ci.js';
import { type Html, type View, respond } from './layout.js';
import { linksFor } from './links.js';
import { directoryPage, groupPage, projectPage, userPage } from './places.js';
import { issuePage, mergeRequestPage, milestonePage } from './work.js';

export interface WebPages {
  /** The pages, to be routed last: `/<namespace>` matches any path the other routes leave. */
  pages: Hono<SimEnv>;
  /** The 404 page for paths outside the API. */
  notFound: NotFoundHandler<SimEnv>;
}

/**
 * `/<project>/-/<page>/<id>`. GitLab ends a namespace path with `/-/`, a segment no group or project may
 * have, so the project's path is everything before it.
 */
const projectPagePattern = (page: SubPage, id: string): string => `/:project{.+}/-/${page}/:id{${id}}`;
const NUMBER = '[0-9]+';
const SHA = '[0-9a-f]+';

/**
 * Read-only HTML pages at the paths of the `web_url`s the simulator hands out (`web-paths.ts`), for a
 * person who clicks one: projects, issues, merge requests with their comments, milestones, pipelines,
 * jobs, commits, groups and users. They show everything, internal comments and confidential issues
 * included (marked): they sit beside an API whose tokens are `<username>-token`.
 */
export function createWebPages(state: SimState): WebPages {
  const view: View = { state, to: linksFor(state) };
  const pages = new Hono<SimEnv>();
  /** A page, or the 404 page when `render` finds no record for the path. */
  const page = (path: string, render: (c: SimRequest) => Html | false | undefined) =>
    pages.get(path, (c) => {
      const rendered = render(c);
      return rendered ? respond(c, rendered) : c.notFound();
    });
  const projectOf = (c: SimRequest): SimProject | undefined => state.findProject(c.req.param('project') ?? '');
  const groupOf = (c: SimRequest): SimGroup | undefined => state.findGroup(c.req.param('group') ?? '');
  const idOf = (c: SimRequest): number => Number(c.req.param('id'));
  /** Milestone `:id` (an iid) of the project or group. */
  const milestoneOf = (c: SimRequest, kind: LabelOwner['kind'], ownerId: number | undefined): SimMilestone | undefined =>
    [...state.milestones.values()].find((m) => m.owner.kind === kind && m.owner.id === ownerId && m.iid === idOf(c));

  page('/', () => directoryPage(view));
  // Before the project pages, which would take `groups/<group>` for a project's path.
  page(`/groups/:group{.+}/-/milestones/:id{${NUMBER}}`, (c) => {
    const milestone = milestoneOf(c, 'group', groupOf(c)?.id);
    return milestone && milestonePage(view, milestone);
  });
  page(projectPagePattern('issues', NUMBER), (c) => {
    const project = projectOf(c);
    const issue = project && state.issuesOf(project).find((item) => item.iid === idOf(c));
    return project && issue && issuePage(view, issue, project);
  });
  page(projectPagePattern('merge_requests', NUMBER), (c) => {
    const project = projectOf(c);
    const mr = project && state.mergeRequestsOf(project).find((item) => item.iid === idOf(c));
    return project && mr && mergeRequestPage(view, mr, project);
  });
  page(projectPagePattern('milestones', NUMBER), (c) => {
    const milestone = milestoneOf(c, 'project', projectOf(c)?.id);
    return milestone && milestonePage(view, milestone);
  });
  page(projectPagePattern('pipelines', NUMBER), (c) => {
    const project = projectOf(c);
    const pipeline = state.pipelines.get(idOf(c));
    return project && pipeline?.projectId === project.id && pipelinePage(view, pipeline, project);
  });
  page(projectPagePattern('jobs', NUMBER), (c) => {
    const project = projectOf(c);
    const job = state.jobs.get(idOf(c));
    return project && job?.projectId === project.id && jobPage(view, job, project);
  });
  page(projectPagePattern('commit', SHA), (c) => {
    const project = projectOf(c);
    const commit = project?.repository.commits.get(c.req.param('id') ?? '');
    return project && commit && commitPage(view, commit, project);
  });
  page('/groups/:group{.+}', (c) => {
    const group = groupOf(c);
    return group && groupPage(view, group);
  });
  // Users, groups and projects share GitLab's top-level namespace, as their pages share this route.
  page('/:path{.+}', (c) => {
    const path = (c.req.param('path') ?? '').replace(/\/+$/, '');
    const project = path.includes('/') ? state.findProject(path) : undefined;
    if (project) return projectPage(view, project);
    const group = state.findGroup(path);
    if (group) return groupPage(view, group);
    const user = state.userByUsername(path);
    return user && userPage(view, user);
  });

  // `c.req.path` is below the mount (`/nope`): the person asked for `/simulator/gitlab/nope`.
  const asked = (c: SimRequest): string => `${view.to.home()}${c.req.path.slice(1)}`;
  return { pages, notFound: (c) => respond(c, directoryPage(view, asked(c)), 404) };
}
