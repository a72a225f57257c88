import { avatarUrl, dateOnly, restTime } from '../format.js';
import type { SimCommit, SimEnvironment, SimMilestone, SimPipeline, SimProject, SimUser } from '../model.js';
import type { SimState } from '../state.js';
import { milestoneWebPath, projectPagePath, userWebPath } from '../web-paths.js';

/**
 * The small entities GitLab nests inside others (a user, a commit, a pipeline, a milestone, an
 * environment). They import nothing else from `present/`, so the bigger entities can share them
 * without import cycles.
 */

export type Entity = Record<string, unknown>;

/** `UserBasic`: what GitLab nests wherever a user appears (author, assignee, member…). */
export function userBasic(state: SimState, user: SimUser): Entity {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    state: user.state,
    avatar_url: avatarUrl(user),
    web_url: state.webUrl(userWebPath(user)),
  };
}

export const userOrNull = (state: SimState, id: number | null): Entity | null => {
  const user = id === null ? undefined : state.users.get(id);
  return user ? userBasic(state, user) : null;
};

export function commitBasic(state: SimState, project: SimProject, commit: SimCommit): Entity {
  const [title = ''] = commit.message.split('\n');
  return {
    id: commit.sha,
    short_id: commit.sha.slice(0, 8),
    created_at: restTime(commit.createdAt),
    parent_ids: commit.parentShas,
    title,
    message: commit.message,
    author_name: commit.authorName,
    author_email: commit.authorEmail,
    authored_date: restTime(commit.createdAt),
    committer_name: commit.authorName,
    committer_email: commit.authorEmail,
    committed_date: restTime(commit.createdAt),
    trailers: {},
    extended_trailers: {},
    web_url: state.webUrl(projectPagePath(state, project, 'commit', commit.sha)),
  };
}

export function pipelineBasic(state: SimState, pipeline: SimPipeline): Entity {
  const project = state.requireProject(pipeline.projectId);
  return {
    id: pipeline.id,
    iid: pipeline.iid,
    project_id: pipeline.projectId,
    sha: pipeline.sha,
    ref: pipeline.ref,
    status: pipeline.status,
    source: pipeline.source,
    created_at: restTime(pipeline.createdAt),
    updated_at: restTime(pipeline.updatedAt),
    web_url: state.webUrl(projectPagePath(state, project, 'pipelines', pipeline.id)),
  };
}

export function milestoneEntity(state: SimState, milestone: SimMilestone): Entity {
  return {
    id: milestone.id,
    iid: milestone.iid,
    ...(milestone.owner.kind === 'project' ? { project_id: milestone.owner.id } : { group_id: milestone.owner.id }),
    title: milestone.title,
    description: milestone.description,
    state: milestone.state,
    created_at: restTime(milestone.createdAt),
    updated_at: restTime(milestone.updatedAt),
    due_date: milestone.dueDate,
    start_date: milestone.startDate,
    expired: milestone.dueDate !== null && milestone.dueDate < dateOnly(state.now()),
    web_url: state.webUrl(milestoneWebPath(state, milestone)),
  };
}

export function environmentBasic(environment: SimEnvironment): Entity {
  return {
    id: environment.id,
    name: environment.name,
    slug: environment.slug,
    external_url: environment.externalUrl,
    created_at: restTime(environment.createdAt),
    updated_at: restTime(environment.updatedAt),
  };
}
