import type { SimGroup, SimMilestone, SimProject, SimUser } from './model.js';
import type { SimState } from './state.js';

/**
 * Where records live on GitLab's web, relative to the instance (`state.webUrl(path)` makes the URL).
 * REST `web_url`s, webhook `url`s and the simulator's own pages (`web/`) all take their paths from
 * here, so that a link the simulator hands out is a page it serves.
 */

/** The pages under a project's (or a group's) `/-/`, named as in GitLab's URLs. */
export type SubPage = 'issues' | 'merge_requests' | 'commit' | 'pipelines' | 'jobs' | 'milestones';

export const userWebPath = (user: SimUser): string => user.username;

export const groupWebPath = (state: SimState, group: SimGroup): string => `groups/${state.groupPath(group)}`;

/** `demo/app/-/issues/1`: a page of the project. */
export const projectPagePath = (state: SimState, project: SimProject, page: SubPage, id: number | string): string =>
  `${state.projectPath(project)}/-/${page}/${id}`;

/** A project milestone under its project, a group milestone under `groups/<path>`. */
export function milestoneWebPath(state: SimState, milestone: SimMilestone): string {
  const { owner } = milestone;
  const ownerPath =
    owner.kind === 'project' ? state.projectPath(state.requireProject(owner.id)) : groupWebPath(state, state.requireGroup(owner.id));
  return `${ownerPath}/-/milestones/${milestone.iid}`;
}
