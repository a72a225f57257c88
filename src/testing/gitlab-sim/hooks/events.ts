import { hookTime, isoSeconds } from '../format.js';
import type { Membership, SimGroup, SimIssue, SimMergeRequest, SimMilestone, SimNote, SimProject, SimRelease, SimUser } from '../model.js';
import type { SimState } from '../state.js';
import { projectPagePath } from '../web-paths.js';
import {
  type HookObject,
  archiveSources,
  commitHook,
  issueHook,
  mergeRequestHook,
  projectHook,
  repositoryHook,
  userHook,
  usersOf,
} from './attributes.js';
import type { HookEvent } from './webhooks.js';

/** Payloads of the hooks about planning work: issues, merge requests, notes, milestones, releases, members. */

/** Attributes whose change a hook reports in `changes`, as GitLab tracks them. */
const TRACKED = [
  'id',
  'iid',
  'project_id',
  'author_id',
  'created_at',
  'title',
  'description',
  'milestone_id',
  'state_id',
  'confidential',
  'due_date',
  'discussion_locked',
  'closed_at',
  'updated_at',
  'updated_by_id',
  'last_edited_at',
  'last_edited_by_id',
  'source_branch',
  'target_branch',
  'draft',
  'merge_status',
  'labels',
  'assignees',
  'reviewers',
  'time_estimate',
  'total_time_spent',
  'weight',
] as const;

const emptyLike = (value: unknown): unknown => (Array.isArray(value) ? [] : null);
/** A value a new record starts with, which GitLab's `previous_changes` leaves out (0 is the default of time tracking). */
const isUnset = (value: unknown): boolean =>
  value === null || value === false || value === 0 || (Array.isArray(value) && value.length === 0);

/**
 * `changes` with `previous`/`current` for every tracked attribute that differs. Without `before`
 * (a creation) it lists what the new object set, against empty values, as GitLab's `previous_changes` does.
 */
export function hookChanges(state: SimState, after: HookObject, before?: HookObject): HookObject {
  const view = (attrs: HookObject): HookObject => ({
    ...attrs,
    assignees: usersOf(state, (attrs['assignee_ids'] as number[] | undefined) ?? []).map(userHook),
    reviewers: usersOf(state, (attrs['reviewer_ids'] as number[] | undefined) ?? []).map(userHook),
  });
  const current = view(after);
  const previous = before ? view(before) : undefined;
  const changes: HookObject = {};
  for (const key of TRACKED) {
    if (!(key in current)) continue;
    const was = previous ? previous[key] : emptyLike(current[key]);
    if (previous ? JSON.stringify(was) !== JSON.stringify(current[key]) : !isUnset(current[key])) {
      changes[key] = { previous: was, current: current[key] };
    }
  }
  return changes;
}

/** What issue and merge request hooks share; `assignees`/`reviewers` appear only when there are some, as in GitLab. */
function workItemEvent(
  state: SimState,
  actor: SimUser,
  project: SimProject,
  attrs: HookObject,
  changes: HookObject,
  extra: HookObject,
): HookObject {
  const assignees = usersOf(state, attrs['assignee_ids'] as number[]).map(userHook);
  return {
    user: userHook(actor),
    project: projectHook(state, project),
    object_attributes: attrs,
    labels: attrs['labels'],
    changes,
    repository: repositoryHook(state, project, 'short'),
    ...(assignees.length > 0 ? { assignees, assignee: assignees[0] } : {}),
    ...extra,
  };
}

export type IssueAction = 'open' | 'update' | 'close' | 'reopen';

export function issueEvent(state: SimState, actor: SimUser, issue: SimIssue, action: IssueAction, before?: HookObject): HookEvent {
  const project = state.requireProject(issue.projectId);
  const after = issueHook(state, issue);
  const kind = issue.confidential ? 'confidential_issue' : 'issue';
  return {
    name: issue.confidential ? 'confidential_issues_events' : 'issues_events',
    project,
    payload: {
      object_kind: 'issue',
      event_type: kind,
      ...workItemEvent(state, actor, project, { ...after, action }, hookChanges(state, after, before), {}),
    },
  };
}

export type MergeRequestAction = 'open' | 'update' | 'close' | 'reopen' | 'merge' | 'approved' | 'unapproved';

export function mergeRequestEvent(
  state: SimState,
  actor: SimUser,
  mr: SimMergeRequest,
  action: MergeRequestAction,
  before?: HookObject,
  oldrev?: string,
): HookEvent {
  const project = state.requireProject(mr.projectId);
  const after = mergeRequestHook(state, mr);
  const reviewers = usersOf(state, mr.reviewerIds).map(userHook);
  const attrs = { ...after, action, ...(oldrev === undefined ? {} : { oldrev }) };
  return {
    name: 'merge_requests_events',
    project,
    payload: {
      object_kind: 'merge_request',
      event_type: 'merge_request',
      ...workItemEvent(state, actor, project, attrs, hookChanges(state, after, before), reviewers.length > 0 ? { reviewers } : {}),
    },
  };
}

export function noteEvent(state: SimState, note: SimNote): HookEvent {
  const project = state.requireProject(note.projectId);
  const author = state.requireUser(note.authorId);
  const issue = note.noteableType === 'Issue' ? (state.issues.get(note.noteableId) as SimIssue) : undefined;
  const mr = note.noteableType === 'MergeRequest' ? (state.mergeRequests.get(note.noteableId) as SimMergeRequest) : undefined;
  const noteable = issue ?? (mr as SimMergeRequest);
  const confidential = note.internal || (issue?.confidential ?? false);
  const path = projectPagePath(state, project, issue ? 'issues' : 'merge_requests', noteable.iid);
  return {
    name: confidential ? 'confidential_note_events' : 'note_events',
    project,
    payload: {
      object_kind: 'note',
      event_type: confidential ? 'confidential_note' : 'note',
      user: userHook(author),
      project_id: project.id,
      project: projectHook(state, project),
      repository: repositoryHook(state, project, 'short'),
      object_attributes: {
        id: note.id,
        note: note.body,
        noteable_type: note.noteableType,
        author_id: note.authorId,
        created_at: hookTime(note.createdAt),
        updated_at: hookTime(note.updatedAt),
        project_id: project.id,
        attachment: null,
        line_code: null,
        commit_id: '',
        noteable_id: note.noteableId,
        system: note.system,
        st_diff: null,
        type: note.type,
        discussion_id: note.discussionId,
        action: 'create',
        url: state.webUrl(`${path}#note_${note.id}`),
      },
      ...(issue ? { issue: issueHook(state, issue) } : { merge_request: mergeRequestHook(state, mr as SimMergeRequest) }),
    },
  };
}

export type MilestoneAction = 'create' | 'update' | 'close' | 'reopen';

/** Milestone hooks exist for project milestones only, as GitLab documents them. */
export function milestoneEvent(state: SimState, milestone: SimMilestone, action: MilestoneAction): HookEvent {
  const project = state.requireProject(milestone.owner.id);
  return {
    name: 'milestone_events',
    project,
    payload: {
      object_kind: 'milestone',
      event_type: 'milestone',
      project: projectHook(state, project),
      object_attributes: {
        id: milestone.id,
        iid: milestone.iid,
        title: milestone.title,
        description: milestone.description,
        state: milestone.state,
        created_at: hookTime(milestone.createdAt),
        updated_at: hookTime(milestone.updatedAt),
        due_date: milestone.dueDate,
        start_date: milestone.startDate,
        group_id: null,
        project_id: project.id,
      },
      action,
    },
  };
}

export function releaseEvent(state: SimState, release: SimRelease, action: 'create' | 'update'): HookEvent {
  const project = state.requireProject(release.projectId);
  const tag = project.repository.tags.get(release.tagName);
  const commit = tag ? project.repository.commits.get(tag.sha) : undefined;
  const web = state.webUrl(state.projectPath(project));
  const sources = archiveSources(state, project, release.tagName);
  return {
    name: 'releases_events',
    project,
    payload: {
      id: state.releases.indexOf(release) + 1,
      created_at: hookTime(release.createdAt),
      description: release.description,
      name: release.name,
      released_at: hookTime(release.releasedAt),
      tag: release.tagName,
      object_kind: 'release',
      project: projectHook(state, project),
      url: `${web}/-/releases/${release.tagName}`,
      action,
      assets: { count: sources.length, links: [], sources },
      commit: commit ? commitHook(state, project, commit) : null,
    },
  };
}

const ROLE_NAMES: Record<number, string> = { 10: 'Guest', 20: 'Reporter', 30: 'Developer', 40: 'Maintainer', 50: 'Owner' };

export function memberEvent(
  state: SimState,
  group: SimGroup,
  user: SimUser,
  membership: Membership,
  change: 'add' | 'update' | 'remove',
): HookEvent {
  const eventName = { add: 'user_add_to_group', update: 'user_update_for_group', remove: 'user_remove_from_group' }[change];
  return {
    name: 'member_events',
    group,
    payload: {
      created_at: isoSeconds(membership.createdAt),
      updated_at: isoSeconds(state.now()),
      group_name: group.name,
      group_path: group.path,
      group_id: group.id,
      user_username: user.username,
      user_name: user.name,
      user_email: user.email,
      user_id: user.id,
      group_access: ROLE_NAMES[membership.accessLevel],
      group_plan: null,
      expires_at: membership.expiresAt === null ? null : `${membership.expiresAt}T00:00:00Z`,
      event_name: eventName,
    },
  };
}
