import type { SimGroup, SimIssue, SimJob, SimMergeRequest, SimMilestone, SimPipeline, SimProject, SimUser } from '../model.js';
import type { SimState } from '../state.js';
import { groupWebPath, milestoneWebPath, projectPagePath, userWebPath } from '../web-paths.js';

/** Where the pages link to: `href`s for each kind of record. */
export interface Links {
  /** Where everything is listed; also the prefix of every page's path. */
  home(): string;
  user(user: SimUser): string;
  group(group: SimGroup): string;
  project(project: SimProject): string;
  issue(issue: SimIssue): string;
  mergeRequest(mr: SimMergeRequest): string;
  commit(project: SimProject, sha: string): string;
  pipeline(pipeline: SimPipeline): string;
  job(job: SimJob): string;
  milestone(milestone: SimMilestone): string;
}

/**
 * The path of the `web_url` the API hands out for each record, without its scheme and host: a page
 * read at `127.0.0.1` links to `127.0.0.1` even when `baseUrl` says `localhost` (or a name that only
 * the tests know), while the path keeps the prefix `autoflow server` mounts the simulator under.
 */
export function linksFor(state: SimState): Links {
  const href = (path: string): string => new URL(state.webUrl(path)).pathname;
  const inProject = (projectId: number) => state.requireProject(projectId);
  return {
    home: () => href(''),
    user: (user) => href(userWebPath(user)),
    group: (group) => href(groupWebPath(state, group)),
    project: (project) => href(state.projectPath(project)),
    issue: (issue) => href(projectPagePath(state, inProject(issue.projectId), 'issues', issue.iid)),
    mergeRequest: (mr) => href(projectPagePath(state, inProject(mr.projectId), 'merge_requests', mr.iid)),
    commit: (project, sha) => href(projectPagePath(state, project, 'commit', sha)),
    pipeline: (pipeline) => href(projectPagePath(state, inProject(pipeline.projectId), 'pipelines', pipeline.id)),
    job: (job) => href(projectPagePath(state, inProject(job.projectId), 'jobs', job.id)),
    milestone: (milestone) => href(milestoneWebPath(state, milestone)),
  };
}
