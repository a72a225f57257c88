import { CAN } from '../context.js';
import type { SimIssue, SimMergeRequest, SimProject, SimUser } from '../model.js';
import type { SimState } from '../state.js';

/**
 * Who may see and change issues and merge requests. Operations enforce these rules; quick actions
 * ask them first, so that a command the actor may not run is GitLab's "Could not apply" instead of
 * a refused request.
 */

/** Confidential issues are visible to their author, their assignees and Reporters up. */
export function canSeeIssue(state: SimState, user: SimUser, issue: SimIssue): boolean {
  const project = state.requireProject(issue.projectId);
  if (!state.canRead(user, project)) return false;
  if (!issue.confidential) return true;
  return issue.authorId === user.id || issue.assigneeIds.includes(user.id) || state.accessLevel(user, project) >= CAN.report;
}

/** The level that may edit any issue (Reporter) or merge request (Developer); authors may edit their own. */
export const editLevel = (item: SimIssue | SimMergeRequest): number => ('sourceBranch' in item ? CAN.develop : CAN.report);

/** GitLab's `update_issue` / `update_merge_request`: close, reopen, retitle, describe. */
export function canEditItem(state: SimState, user: SimUser, item: SimIssue | SimMergeRequest): boolean {
  const project = state.requireProject(item.projectId);
  return state.canRead(user, project) && (item.authorId === user.id || state.accessLevel(user, project) >= editLevel(item));
}

/** Labels, assignees, milestones, dates and time tracking are planning: Reporters up. */
export const canPlan = (state: SimState, user: SimUser, project: SimProject): boolean => state.accessLevel(user, project) >= CAN.report;

/** GitLab's `set_issue_metadata` / `set_merge_request_metadata`: planning fields of an item the user may edit. */
export function canSetMetadata(state: SimState, user: SimUser, item: SimIssue | SimMergeRequest): boolean {
  return canEditItem(state, user, item) && canPlan(state, user, state.requireProject(item.projectId));
}

/** Pushing to a branch: Developers up, and the branch's push level when it is protected. */
export function canPush(state: SimState, user: SimUser, project: SimProject, branch: string): boolean {
  const level = state.accessLevel(user, project);
  return level >= CAN.develop && level >= (project.protectedBranches.get(branch)?.push ?? 0);
}
