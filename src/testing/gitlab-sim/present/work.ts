import { formatDuration } from '../durations.js';
import { isDraft, restTime, restTimeOrNull, textColor } from '../format.js';
import { labelsOf, mergeStatusOf, usersOf } from '../hooks/attributes.js';
import type { SimIssue, SimLabel, SimMergeRequest, SimNote, SimUser, SimWorkItem } from '../model.js';
import { closingIssues } from '../ops/merge-requests.js';
import type { SimState } from '../state.js';
import { projectPagePath } from '../web-paths.js';
import { type Entity, milestoneEntity, pipelineBasic, userBasic, userOrNull } from './basic.js';
import { pipelineDetail } from './ci.js';

/** REST entities for planning objects: issues, merge requests, notes, labels, milestones. */

const countOf = (items: readonly SimWorkItem[], label: SimLabel): number => items.filter((item) => item.labelIds.includes(label.id)).length;

/** A label with its counts, as `GET /projects/:id/labels?with_counts=true` lists it. */
export function labelEntity(state: SimState, label: SimLabel, fields: 'project' | 'group'): Entity {
  const issues = [...state.issues.values()];
  const counts = {
    open_issues_count: countOf(
      issues.filter((issue) => issue.state === 'opened'),
      label,
    ),
    closed_issues_count: countOf(
      issues.filter((issue) => issue.state === 'closed'),
      label,
    ),
    open_merge_requests_count: countOf(
      [...state.mergeRequests.values()].filter((mr) => mr.state === 'opened'),
      label,
    ),
  };
  const { remove_on_close: _removeOnClose, ...basic } = labelBasic(label);
  // Group label lists carry fewer fields than project label lists; the group list schema allows no others.
  if (fields === 'group') {
    const { description_html: _html, ...plain } = basic;
    return { ...plain, ...counts, subscribed: false, priority: null };
  }
  return {
    ...basic,
    ...counts,
    subscribed: false,
    priority: label.priority,
    is_project_label: label.owner.kind === 'project',
  };
}

/** `LabelBasic`: the label objects of `with_labels_details=true`. */
export function labelBasic(label: SimLabel): Entity {
  return {
    id: label.id,
    name: label.name,
    color: label.color,
    description: label.description,
    description_html: label.description ?? '',
    text_color: textColor(label.color),
    remove_on_close: false,
  };
}

export interface EntityOptions {
  /** Given for single-object answers, which carry `subscribed` and more, like GitLab's. */
  viewer?: SimUser | undefined;
  /** `with_labels_details=true`: label objects instead of names. */
  labelDetails?: boolean | undefined;
}

/** What issue and merge request entities share. */
function workItemEntity(
  state: SimState,
  item: SimWorkItem,
  kind: 'issues' | 'merge_requests',
  { viewer, labelDetails }: EntityOptions,
): Entity {
  const project = state.requireProject(item.projectId);
  const path = state.projectPath(project);
  const sigil = kind === 'issues' ? '#' : '!';
  const milestone = item.milestoneId === null ? undefined : state.milestones.get(item.milestoneId);
  const assignees = usersOf(state, item.assigneeIds).map((user) => userBasic(state, user));
  const labels = labelsOf(state, item.labelIds).sort((a, b) => a.name.localeCompare(b.name));
  const notes = [...state.notes.values()].filter(
    (note) => note.noteableId === item.id && note.noteableType === (kind === 'issues' ? 'Issue' : 'MergeRequest'),
  );
  return {
    id: item.id,
    iid: item.iid,
    project_id: item.projectId,
    title: item.title,
    description: item.description,
    state: (item as SimIssue | SimMergeRequest).state,
    created_at: restTime(item.createdAt),
    updated_at: restTime(item.updatedAt),
    closed_at: restTimeOrNull(item.closedAt),
    closed_by: userOrNull(state, item.closedById),
    labels: labelDetails ? labels.map(labelBasic) : labels.map((label) => label.name),
    milestone: milestone ? milestoneEntity(state, milestone) : null,
    author: userBasic(state, state.requireUser(item.authorId)),
    assignees,
    assignee: assignees[0] ?? null,
    user_notes_count: notes.filter((note) => !note.system).length,
    upvotes: 0,
    downvotes: 0,
    discussion_locked: item.discussionLocked,
    web_url: state.webUrl(projectPagePath(state, project, kind, item.iid)),
    time_stats: {
      time_estimate: item.timeEstimate ?? 0,
      total_time_spent: item.timeSpent ?? 0,
      human_time_estimate: formatDuration(item.timeEstimate ?? 0),
      human_total_time_spent: formatDuration(item.timeSpent ?? 0),
    },
    task_completion_status: { count: 0, completed_count: 0 },
    references: { short: `${sigil}${item.iid}`, relative: `${sigil}${item.iid}`, full: `${path}${sigil}${item.iid}` },
    ...(viewer ? { subscribed: item.authorId === viewer.id || item.assigneeIds.includes(viewer.id) } : {}),
  };
}

export function issueEntity(state: SimState, issue: SimIssue, options: EntityOptions = {}): Entity {
  const project = state.requireProject(issue.projectId);
  const api = `${state.baseUrl.replace(/\/+$/, '')}/api/v4/projects/${project.id}`;
  return {
    ...workItemEntity(state, issue, 'issues', options),
    type: 'ISSUE',
    issue_type: 'issue',
    merge_requests_count: [...state.mergeRequests.values()].filter((mr) => closingIssues(state, mr).includes(issue)).length,
    due_date: issue.dueDate,
    confidential: issue.confidential,
    weight: issue.weight ?? null,
    has_tasks: false,
    task_status: '',
    severity: 'UNKNOWN',
    moved_to_id: issue.movedToId,
    service_desk_reply_to: null,
    imported: false,
    imported_from: 'none',
    _links: {
      self: `${api}/issues/${issue.iid}`,
      notes: `${api}/issues/${issue.iid}/notes`,
      award_emoji: `${api}/issues/${issue.iid}/award_emoji`,
      project: api,
      closed_as_duplicate_of: null,
    },
  };
}

/** `view=simple` of merge request lists. */
export function mergeRequestSimple(state: SimState, mr: SimMergeRequest): Entity {
  const project = state.requireProject(mr.projectId);
  return {
    id: mr.id,
    iid: mr.iid,
    project_id: mr.projectId,
    title: mr.title,
    description: mr.description,
    state: mr.state,
    created_at: restTime(mr.createdAt),
    updated_at: restTime(mr.updatedAt),
    web_url: state.webUrl(projectPagePath(state, project, 'merge_requests', mr.iid)),
  };
}

export function mergeRequestEntity(state: SimState, mr: SimMergeRequest, options: EntityOptions = {}): Entity {
  const { viewer } = options;
  const project = state.requireProject(mr.projectId);
  const { repository } = project;
  const sha = mr.sha;
  const mergedBy = userOrNull(state, mr.mergedById);
  const pipelines = state.pipelinesOf(project).filter((p) => p.sha === sha && (p.ref === mr.sourceBranch || p.mergeRequestId === mr.id));
  const head = pipelines.at(-1);
  const draft = isDraft(mr.title);
  const entity: Entity = {
    ...workItemEntity(state, mr, 'merge_requests', options),
    merged_by: mergedBy,
    merge_user: mergedBy,
    merged_at: restTimeOrNull(mr.mergedAt),
    target_branch: mr.targetBranch,
    source_branch: mr.sourceBranch,
    reviewers: usersOf(state, mr.reviewerIds).map((user) => userBasic(state, user)),
    source_project_id: mr.projectId,
    target_project_id: mr.projectId,
    draft,
    work_in_progress: draft,
    imported: false,
    imported_from: 'none',
    merge_when_pipeline_succeeds: false,
    ...mergeStatusOf(state, mr),
    merge_after: null,
    sha,
    merge_commit_sha: mr.mergeCommitSha,
    squash_commit_sha: null,
    should_remove_source_branch: mr.shouldRemoveSourceBranch,
    force_remove_source_branch: mr.shouldRemoveSourceBranch,
    prepared_at: restTime(mr.createdAt),
    reference: `!${mr.iid}`,
    squash: mr.squash,
    squash_on_merge: mr.squash,
    has_conflicts: false,
    blocking_discussions_resolved: true,
  };
  if (!viewer) return entity;
  const base = repository.branches.get(mr.targetBranch) ?? null;
  const ours = repository.commits.get(sha)?.tree ?? new Map<string, string>();
  const theirs = repository.commits.get(base ?? '')?.tree ?? new Map<string, string>();
  const changed = new Set([...ours.keys(), ...theirs.keys()].filter((path) => ours.get(path) !== theirs.get(path)));
  return {
    ...entity,
    changes_count: String(changed.size),
    latest_build_started_at: restTimeOrNull(head?.startedAt ?? null),
    latest_build_finished_at: restTimeOrNull(head?.finishedAt ?? null),
    first_deployed_to_production_at: null,
    pipeline: head ? pipelineBasic(state, head) : null,
    head_pipeline: head ? pipelineDetail(state, head) : null,
    diff_refs: { base_sha: base, head_sha: sha, start_sha: base },
    merge_error: null,
    first_contribution: false,
    user: { can_merge: state.accessLevel(viewer, project) >= (project.protectedBranches.get(mr.targetBranch)?.merge ?? 30) },
  };
}

/** `POST /approve` and `GET /approvals`: GitLab CE's approval state (no approval rules). */
export function approvalsEntity(state: SimState, mr: SimMergeRequest, viewer: SimUser): Entity {
  return {
    id: mr.id,
    iid: mr.iid,
    project_id: mr.projectId,
    title: mr.title,
    description: mr.description,
    state: mr.state,
    created_at: restTime(mr.createdAt),
    updated_at: restTime(mr.updatedAt),
    merge_status: mergeStatusOf(state, mr).merge_status,
    approved: mr.approvedByIds.length > 0,
    approvals_required: 0,
    approvals_left: 0,
    require_password_to_approve: false,
    approved_by: usersOf(state, mr.approvedByIds).map((user) => ({ user: userBasic(state, user) })),
    user_has_approved: mr.approvedByIds.includes(viewer.id),
    user_can_approve: !mr.approvedByIds.includes(viewer.id),
  };
}

/** A note; `commandsChanges` are what its quick actions changed, which GitLab shows only in the answer to its creation. */
export function noteEntity(state: SimState, note: SimNote, commandsChanges: object = {}): Entity {
  const noteable = note.noteableType === 'Issue' ? state.issues.get(note.noteableId) : state.mergeRequests.get(note.noteableId);
  // Threads are resolvable on merge requests only; resolving them is not simulated.
  const resolvable = note.type === 'DiscussionNote' && note.noteableType === 'MergeRequest' && !note.system;
  return {
    id: note.id,
    type: note.type,
    body: note.body,
    attachment: null,
    author: userBasic(state, state.requireUser(note.authorId)),
    created_at: restTime(note.createdAt),
    updated_at: restTime(note.updatedAt),
    system: note.system,
    noteable_id: note.noteableId,
    noteable_type: note.noteableType,
    noteable_iid: noteable?.iid,
    resolvable,
    ...(resolvable ? { resolved: false, resolved_by: null, resolved_at: null } : {}),
    confidential: note.internal,
    internal: note.internal,
    commands_changes: commandsChanges,
  };
}

/**
 * A thread as `GET …/discussions` lists it: its id, whether it is a comment on its own, and its notes
 * (`commandsChanges` as in `noteEntity`, for the answer to starting it).
 */
export function discussionEntity(state: SimState, notes: readonly SimNote[], commandsChanges: object = {}): Entity {
  return {
    id: notes[0]?.discussionId,
    individual_note: notes.every((note) => note.type === null),
    notes: notes.map((note) => noteEntity(state, note, commandsChanges)),
  };
}
