import { formatDuration } from '../durations.js';
import { avatarUrl, hookTime, hookTimeOrNull, isDraft, isoSeconds } from '../format.js';
import type { SimCommit, SimIssue, SimLabel, SimMergeRequest, SimProject, SimUser, Visibility } from '../model.js';
import type { SimState } from '../state.js';
import { projectPagePath } from '../web-paths.js';

/**
 * The `hook_attrs` of GitLab's models: the nested objects webhook payloads are built from.
 * Field names and nesting follow GitLab's documented payloads (test/fixtures/gitlab-webhooks/).
 */

export type HookObject = Record<string, unknown>;

const VISIBILITY_LEVEL: Record<Visibility, number> = { private: 0, internal: 10, public: 20 };

/**
 * `Project#hook_attrs`. Issue, merge request, note and push hooks still carry the deprecated
 * `homepage`/`url`/`ssh_url`/`http_url` (`backward`); pipeline and job hooks do not.
 */
export function projectHook(state: SimState, project: SimProject, backward = true): HookObject {
  const path = state.projectPath(project);
  const web = state.webUrl(path);
  const ssh = `git@${new URL(state.baseUrl).hostname}:${path}.git`;
  const attrs: HookObject = {
    id: project.id,
    name: project.name,
    description: project.description ?? '',
    web_url: web,
    avatar_url: null,
    git_ssh_url: ssh,
    git_http_url: `${web}.git`,
    namespace: state.namespaceName(project),
    visibility_level: VISIBILITY_LEVEL[project.visibility],
    path_with_namespace: path,
    default_branch: project.defaultBranch,
    ci_config_path: null,
  };
  return backward ? { ...attrs, homepage: web, url: `${web}.git`, ssh_url: ssh, http_url: `${web}.git` } : attrs;
}

/** The `repository` object: four fields in issue-like hooks, git URLs in push hooks, no `url` in job hooks. */
export function repositoryHook(state: SimState, project: SimProject, variant: 'short' | 'push' | 'build'): HookObject {
  const p = projectHook(state, project);
  const git = { git_http_url: p['git_http_url'], git_ssh_url: p['git_ssh_url'], visibility_level: p['visibility_level'] };
  const base = { name: project.name, description: p['description'], homepage: p['web_url'] };
  if (variant === 'build') return { ...base, ...git };
  return variant === 'push' ? { ...base, url: p['url'], ...git } : { ...base, url: p['url'] };
}

export function userHook(user: SimUser): HookObject {
  return { id: user.id, name: user.name, username: user.username, avatar_url: avatarUrl(user), email: user.email };
}

export function labelHook(label: SimLabel): HookObject {
  return {
    id: label.id,
    title: label.name,
    color: label.color,
    project_id: label.owner.kind === 'project' ? label.owner.id : null,
    created_at: hookTime(label.createdAt),
    updated_at: hookTime(label.updatedAt),
    template: false,
    description: label.description,
    type: label.owner.kind === 'project' ? 'ProjectLabel' : 'GroupLabel',
    group_id: label.owner.kind === 'group' ? label.owner.id : null,
  };
}

/** A commit as push, merge request and pipeline hooks describe it. */
export function commitHook(state: SimState, project: SimProject, commit: SimCommit): HookObject {
  return {
    id: commit.sha,
    message: commit.message,
    title: commit.message.split('\n')[0] ?? '',
    timestamp: isoSeconds(commit.createdAt),
    url: state.webUrl(projectPagePath(state, project, 'commit', commit.sha)),
    author: { name: commit.authorName, email: commit.authorEmail },
  };
}

export const labelsOf = (state: SimState, ids: readonly number[]): SimLabel[] =>
  ids.map((id) => state.labels.get(id)).filter((label): label is SimLabel => label !== undefined);

export const usersOf = (state: SimState, ids: readonly number[]): SimUser[] =>
  ids.map((id) => state.users.get(id)).filter((user): user is SimUser => user !== undefined);

/** Fields issues and merge requests share in their hook attributes. */
function workItemHook(state: SimState, item: SimIssue | SimMergeRequest, kind: 'issues' | 'merge_requests'): HookObject {
  const project = state.requireProject(item.projectId);
  const [assignee] = usersOf(state, item.assigneeIds);
  return {
    id: item.id,
    iid: item.iid,
    title: item.title,
    description: item.description ?? '',
    author_id: item.authorId,
    assignee_ids: item.assigneeIds,
    assignee_id: item.assigneeIds[0] ?? null,
    assignee: assignee ? userHook(assignee) : null,
    project_id: item.projectId,
    milestone_id: item.milestoneId,
    created_at: hookTime(item.createdAt),
    updated_at: hookTime(item.updatedAt),
    updated_by_id: item.updatedById,
    last_edited_at: item.updatedById === null ? null : hookTime(item.updatedAt),
    last_edited_by_id: item.updatedById,
    closed_at: hookTimeOrNull(item.closedAt),
    discussion_locked: item.discussionLocked,
    state_id: { opened: 1, closed: 2, merged: 3 }[item.state],
    state: item.state,
    time_estimate: item.timeEstimate ?? 0,
    total_time_spent: item.timeSpent ?? 0,
    // The time spent by this very change; the simulator does not keep it per change.
    time_change: 0,
    human_total_time_spent: formatDuration(item.timeSpent ?? 0),
    human_time_estimate: formatDuration(item.timeEstimate ?? 0),
    human_time_change: null,
    // Kept because the documented note payloads still show them; GitLab sends 0/null.
    position: 0,
    branch_name: null,
    url: state.webUrl(projectPagePath(state, project, kind, item.iid)),
    labels: labelsOf(state, item.labelIds).map(labelHook),
  };
}

export function issueHook(state: SimState, issue: SimIssue): HookObject {
  return {
    ...workItemHook(state, issue, 'issues'),
    relative_position: issue.id * 512,
    confidential: issue.confidential,
    due_date: issue.dueDate,
    moved_to_id: issue.movedToId,
    duplicated_to_id: null,
    weight: issue.weight ?? null,
    health_status: null,
    severity: 'unknown',
    type: 'Issue',
  };
}

export function mergeRequestHook(state: SimState, mr: SimMergeRequest): HookObject {
  const project = state.requireProject(mr.projectId);
  const sha = project.repository.branches.get(mr.sourceBranch);
  const lastCommit = sha === undefined ? undefined : project.repository.commits.get(sha);
  const draft = isDraft(mr.title);
  const mergeStatus = mergeStatusOf(state, mr);
  return {
    ...workItemHook(state, mr, 'merge_requests'),
    source_branch: mr.sourceBranch,
    target_branch: mr.targetBranch,
    source_project_id: mr.projectId,
    target_project_id: mr.projectId,
    reviewer_ids: mr.reviewerIds,
    merge_commit_sha: mr.mergeCommitSha,
    merge_user_id: mr.mergedById,
    merged_at: hookTimeOrNull(mr.mergedAt),
    blocking_discussions_resolved: true,
    work_in_progress: draft,
    draft,
    first_contribution: false,
    merge_status: mergeStatus.merge_status,
    detailed_merge_status: mergeStatus.detailed_merge_status,
    prepared_at: hookTime(mr.createdAt),
    source: projectHook(state, project),
    target: projectHook(state, project),
    last_commit: lastCommit ? commitHook(state, project, lastCommit) : null,
  };
}

/**
 * GitLab's two mergeability fields. The simulator has no conflicts, so an open merge request
 * is mergeable unless it is a draft or its source branch is gone.
 */
export function mergeStatusOf(state: SimState, mr: SimMergeRequest): { merge_status: string; detailed_merge_status: string } {
  const project = state.requireProject(mr.projectId);
  if (mr.state !== 'opened') return { merge_status: 'can_be_merged', detailed_merge_status: 'not_open' };
  if (!project.repository.branches.has(mr.sourceBranch))
    return { merge_status: 'cannot_be_merged', detailed_merge_status: 'broken_status' };
  if (isDraft(mr.title)) return { merge_status: 'can_be_merged', detailed_merge_status: 'draft_status' };
  return { merge_status: 'can_be_merged', detailed_merge_status: 'mergeable' };
}

/** The source archives GitLab offers for every release, in its order. */
export function archiveSources(state: SimState, project: SimProject, tag: string): { format: string; url: string }[] {
  const web = state.webUrl(state.projectPath(project));
  return ['zip', 'tar.gz', 'tar.bz2', 'tar'].map((format) => ({ format, url: `${web}/-/archive/${tag}/${project.path}-${tag}.${format}` }));
}
