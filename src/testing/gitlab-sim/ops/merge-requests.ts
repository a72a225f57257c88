import { CAN, type SimContext, authorize, publish } from '../context.js';
import { GitLabApiError, conflict, methodNotAllowed, notFound, refused, unauthorized } from '../errors.js';
import { mergeRequestHook, mergeStatusOf } from '../hooks/attributes.js';
import { mergeRequestEvent } from '../hooks/events.js';
import type { HookEvent } from '../hooks/webhooks.js';
import type { SimIssue, SimMergeRequest, SimProject, SimUser } from '../model.js';
import type { SimState } from '../state.js';
import { mergeTrees, writeCommit } from './git.js';
import { updateIssue } from './issues.js';
import { descriptionCommands } from './quick-actions/interpret.js';
import { rebaseMergeRequest } from './rebase.js';
import { referencedIssues } from './references.js';
import { moveBranch } from './repository.js';
import {
  type WorkItemInput,
  applyWorkItemInput,
  authorizeItemEdit,
  newWorkItem,
  requireTitle,
  stateAction,
  usersWhoCanRead,
} from './work-items.js';

export interface MergeRequestInput extends WorkItemInput {
  sourceBranch?: string | undefined;
  targetBranch?: string | undefined;
  reviewerIds?: number[] | undefined;
  removeSourceBranch?: boolean | undefined;
  squash?: boolean | undefined;
}

// GitLab's default closing pattern: a keyword, then one or more issue references.
const ISSUE_REF = String.raw`(?:issues? +)?(?:(?:[\w.-]+\/)*[\w.-]+)?#\d+|https?:\/\/[^\s]+?\/-\/issues\/\d+`;
const CLOSING = new RegExp(
  String.raw`\b(?:clos(?:e[sd]?|ing)|fix(?:e[sd]|ing)?|resolv(?:e[sd]?|ing)|implement(?:s|ed|ing)?):? +((?:${ISSUE_REF})(?:(?: *,? +and +| *,? *)(?:${ISSUE_REF}))*)`,
  'gi',
);

/**
 * Issues the merge request closes when merged into the default branch, from its description:
 * `Closes #12`, `Fixes group/app#3, #4 and #5`… (GitLab also reads commit messages; the simulator does not).
 */
export function closingIssues(state: SimState, mr: SimMergeRequest): SimIssue[] {
  const project = state.requireProject(mr.projectId);
  return [...(mr.description ?? '').matchAll(CLOSING)].flatMap((match) => referencedIssues(state, project, match[1] ?? ''));
}

function applyMergeRequestFields(state: SimState, project: SimProject, mr: SimMergeRequest, input: MergeRequestInput): void {
  if (input.targetBranch !== undefined) {
    if (!project.repository.branches.has(input.targetBranch)) throw refused(`Target branch "${input.targetBranch}" does not exist`);
    mr.targetBranch = input.targetBranch;
  }
  if (input.reviewerIds !== undefined) mr.reviewerIds = usersWhoCanRead(state, project, input.reviewerIds);
  if (input.removeSourceBranch !== undefined) mr.shouldRemoveSourceBranch = input.removeSourceBranch;
  if (input.squash !== undefined) mr.squash = input.squash;
}

function applyMergeRequestInput(ctx: SimContext, actor: SimUser, mr: SimMergeRequest, input: MergeRequestInput): void {
  applyMergeRequestFields(ctx.state, ctx.state.requireProject(mr.projectId), mr, input);
  applyWorkItemInput(ctx, actor, mr, input);
}

/** Opening a merge request needs Developer (the right to push its source branch). */
export function openMergeRequest(ctx: SimContext, actor: SimUser, project: SimProject, input: MergeRequestInput): SimMergeRequest {
  const { state } = ctx;
  authorize(state, actor, project, CAN.develop);
  if (input.sourceBranch === undefined) throw refused('source_branch is missing');
  const title = requireTitle(input.title);
  const targetBranch = input.targetBranch ?? project.defaultBranch;
  if (!project.repository.branches.has(input.sourceBranch)) throw refused(`Source branch "${input.sourceBranch}" does not exist`);
  if (input.sourceBranch === targetBranch) throw refused('You can not use same project/branch for source and target');
  const duplicate = state
    .mergeRequestsOf(project)
    .find((mr) => mr.state === 'opened' && mr.sourceBranch === input.sourceBranch && mr.targetBranch === targetBranch);
  if (duplicate) throw conflict([`Another open merge request already exists for this source branch: !${duplicate.iid}`]);
  const now = state.now();
  const mr: SimMergeRequest = {
    ...newWorkItem(state, 'merge_request', actor, project, title, now),
    state: 'opened',
    sourceBranch: input.sourceBranch,
    targetBranch,
    sha: project.repository.branches.get(input.sourceBranch) as string,
    reviewerIds: [],
    approvedByIds: [],
    mergedAt: null,
    mergedById: null,
    mergeCommitSha: null,
    shouldRemoveSourceBranch: null,
    squash: false,
  };
  applyMergeRequestInput(ctx, actor, mr, { ...input, targetBranch, stateEvent: undefined });
  // The description's quick actions run on the new merge request, as GitLab's `MergeRequests::CreateService` runs them.
  const commands = descriptionCommands(state, actor, mr, mr.description, true);
  if (commands) applyMergeRequestInput(ctx, actor, mr, { ...commands.input, description: commands.description });
  mr.updatedById = null;
  state.mergeRequests.set(mr.id, mr);
  publish(ctx, {
    actor,
    on: project,
    audit: 'merge_request_created',
    details: { iid: mr.iid },
    hook: mergeRequestEvent(state, actor, mr, 'open'),
  });
  return mr;
}

/** Changes a merge request; a new description's quick actions run first, against the merge request as it was. */
export function updateMergeRequest(ctx: SimContext, actor: SimUser, mr: SimMergeRequest, input: MergeRequestInput): SimMergeRequest {
  const { state } = ctx;
  authorizeItemEdit(state, actor, mr);
  if (mr.state === 'merged' && input.stateEvent !== undefined) throw refused('Cannot change the state of a merged merge request');
  const project = state.requireProject(mr.projectId);
  const before = { ...mr };
  const beforeHook = mergeRequestHook(state, mr);
  const commands = descriptionCommands(state, actor, mr, input.description, false);
  applyMergeRequestInput(ctx, actor, mr, commands ? { ...input, description: commands.description } : input);
  if (commands) applyMergeRequestInput(ctx, actor, mr, commands.input);
  const action = stateAction(before, mr);
  publish(ctx, {
    actor,
    on: project,
    audit: `merge_request_${action === 'update' ? 'updated' : action === 'close' ? 'closed' : 'reopened'}`,
    details: { iid: mr.iid },
    hook: mergeRequestEvent(state, actor, mr, action, beforeHook),
  });
  if (commands?.rebase) rebaseMergeRequest(ctx, actor, mr);
  return mr;
}

export interface MergeInput {
  /** When given, must equal the source branch's head: GitLab's guard against merging unseen commits. */
  sha?: string | undefined;
  squash?: boolean | undefined;
  shouldRemoveSourceBranch?: boolean | undefined;
  mergeCommitMessage?: string | undefined;
}

/**
 * `PUT /merge_requests/:iid/merge` with GitLab's refusals: 401 without the right to merge into
 * the target branch, 405 when not open or not mergeable (draft), 409 when `sha` is not the head.
 * Merging into the default branch closes the issues the merge request names.
 */
export function mergeMergeRequest(ctx: SimContext, actor: SimUser, mr: SimMergeRequest, input: MergeInput = {}): SimMergeRequest {
  const { state } = ctx;
  const project = state.requireProject(mr.projectId);
  authorize(state, actor, project, CAN.read);
  const needed = project.protectedBranches.get(mr.targetBranch)?.merge ?? CAN.develop;
  if (state.accessLevel(actor, project) < needed) throw unauthorized();
  if (mr.state !== 'opened' || mergeStatusOf(state, mr).detailed_merge_status !== 'mergeable') throw methodNotAllowed();
  const { repository } = project;
  const source = repository.commits.get(repository.branches.get(mr.sourceBranch) as string);
  const target = repository.commits.get(repository.branches.get(mr.targetBranch) ?? '');
  if (!source || !target) throw new GitLabApiError(406, { message: 'Branch cannot be merged' });
  if (input.sha !== undefined && input.sha !== source.sha) throw conflict('SHA does not match HEAD of source branch: ' + source.sha);
  const beforeHook = mergeRequestHook(state, mr);
  const message =
    input.mergeCommitMessage ??
    `Merge branch '${mr.sourceBranch}' into '${mr.targetBranch}'\n\n${mr.title}\n\nSee merge request ${state.projectPath(project)}!${mr.iid}`;
  const merge = writeCommit(ctx, project, [target.sha, source.sha], mergeTrees(project, target, source), message, actor);
  const now = state.now();
  Object.assign(mr, {
    state: 'merged',
    mergedAt: now,
    mergedById: actor.id,
    mergeCommitSha: merge.sha,
    updatedAt: now,
    updatedById: actor.id,
  });
  if (input.squash !== undefined) mr.squash = input.squash;
  moveBranch(ctx, actor, project, mr.targetBranch, merge.sha);
  publish(ctx, {
    actor,
    on: project,
    audit: 'merge_request_merged',
    details: { iid: mr.iid },
    hook: mergeRequestEvent(state, actor, mr, 'merge', beforeHook),
  });
  if (mr.targetBranch === project.defaultBranch) {
    for (const issue of closingIssues(state, mr)) if (issue.state === 'opened') updateIssue(ctx, actor, issue, { stateEvent: 'close' });
  }
  if (input.shouldRemoveSourceBranch ?? mr.shouldRemoveSourceBranch) moveBranch(ctx, actor, project, mr.sourceBranch, null);
  return mr;
}

/**
 * An approval's hook. It changes none of the merge request's attributes, so its `changes` is empty, as GitLab's
 * (the merge request is not saved): a filter on `changes.labels` does not fire on approvals.
 */
function approvalEvent(state: SimState, actor: SimUser, mr: SimMergeRequest, action: 'approved' | 'unapproved'): HookEvent {
  const unchanged = mergeRequestHook(state, mr);
  return mergeRequestEvent(state, actor, mr, action, unchanged);
}

/**
 * `POST /approve`: Developers may approve; approving twice is refused as GitLab does (401). The hook's action is
 * `approved` for every approval, as GitLab Free sends it (`ExecuteApprovalHooksService`: "only one approval is
 * required"); `approval` comes only from Premium's approval rules, which the simulator does not have.
 */
export function approveMergeRequest(ctx: SimContext, actor: SimUser, mr: SimMergeRequest, sha?: string): SimMergeRequest {
  const { state } = ctx;
  const project = state.requireProject(mr.projectId);
  authorize(state, actor, project, CAN.develop);
  if (mr.state !== 'opened') throw unauthorized();
  if (sha !== undefined && sha !== project.repository.branches.get(mr.sourceBranch))
    throw conflict('SHA does not match HEAD of source branch');
  if (mr.approvedByIds.includes(actor.id)) throw unauthorized();
  mr.approvedByIds.push(actor.id);
  publish(ctx, {
    actor,
    on: project,
    audit: 'merge_request_approved',
    details: { iid: mr.iid },
    hook: approvalEvent(state, actor, mr, 'approved'),
  });
  return mr;
}

/**
 * `POST /unapprove`: takes back the actor's approval. 404 when they have not approved or the merge request is
 * merged, as GitLab's `RemoveApprovalService`; the hook's action is `unapproved`, as GitLab Free sends it.
 */
export function unapproveMergeRequest(ctx: SimContext, actor: SimUser, mr: SimMergeRequest): SimMergeRequest {
  const { state } = ctx;
  const project = state.requireProject(mr.projectId);
  authorize(state, actor, project, CAN.develop);
  if (mr.state === 'merged' || !mr.approvedByIds.includes(actor.id)) throw notFound();
  mr.approvedByIds = mr.approvedByIds.filter((id) => id !== actor.id);
  publish(ctx, {
    actor,
    on: project,
    audit: 'merge_request_unapproved',
    details: { iid: mr.iid },
    hook: approvalEvent(state, actor, mr, 'unapproved'),
  });
  return mr;
}
