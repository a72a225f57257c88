import { CAN, type SimContext, authorize, publish } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { issueHook } from '../hooks/attributes.js';
import { issueEvent } from '../hooks/events.js';
import { isDate } from '../format.js';
import type { SimIssue, SimProject, SimUser } from '../model.js';
import type { SimState } from '../state.js';
import { type WorkItemInput, applyWorkItemInput, authorizeItemEdit, newWorkItem, requireTitle, stateAction } from './work-items.js';

export interface IssueInput extends WorkItemInput {
  confidential?: boolean | undefined;
  /** `YYYY-MM-DD`, or null to clear. */
  dueDate?: string | null | undefined;
}

function applyIssueFields(issue: SimIssue, input: IssueInput): void {
  if (input.confidential !== undefined) issue.confidential = input.confidential;
  if (input.dueDate !== undefined) {
    if (input.dueDate !== null && !isDate(input.dueDate)) throw badRequest('due_date is invalid');
    issue.dueDate = input.dueDate;
  }
}

/** Confidential issues are visible to their author, their assignees and Reporters up. */
export function canSeeIssue(state: SimState, user: SimUser, issue: SimIssue): boolean {
  const project = state.requireProject(issue.projectId);
  if (!state.canRead(user, project)) return false;
  if (!issue.confidential) return true;
  return issue.authorId === user.id || issue.assigneeIds.includes(user.id) || state.accessLevel(user, project) >= CAN.report;
}

/**
 * Any user who can see a project may open an issue in it (Guests included), as in GitLab. `author`
 * is for a move, whose new issue keeps the original's author; the actor is the one who acts.
 */
export function createIssue(
  ctx: SimContext,
  actor: SimUser,
  project: SimProject,
  input: IssueInput & { createdAt?: number; author?: SimUser },
): SimIssue {
  const { state } = ctx;
  authorize(state, actor, project, CAN.read);
  const title = requireTitle(input.title);
  const now = input.createdAt ?? state.now();
  const issue: SimIssue = {
    ...newWorkItem(state, 'issue', input.author ?? actor, project, title, now),
    state: 'opened',
    confidential: false,
    dueDate: null,
    movedToId: null,
  };
  applyIssueFields(issue, input);
  applyWorkItemInput(ctx, actor, issue, { ...input, stateEvent: undefined });
  // A new issue has not been edited: GitLab leaves `updated_by_id` empty until someone does.
  issue.updatedAt = now;
  issue.updatedById = null;
  state.issues.set(issue.id, issue);
  publish(ctx, { actor, on: project, audit: 'issue_created', details: { iid: issue.iid }, hook: issueEvent(state, actor, issue, 'open') });
  return issue;
}

export function updateIssue(ctx: SimContext, actor: SimUser, issue: SimIssue, input: IssueInput): SimIssue {
  const { state } = ctx;
  if (!canSeeIssue(state, actor, issue)) throw notFound();
  authorizeItemEdit(state, actor, issue, CAN.report);
  const before = { ...issue };
  const beforeHook = issueHook(state, issue);
  applyIssueFields(issue, input);
  applyWorkItemInput(ctx, actor, issue, input);
  const action = stateAction(before, issue);
  const project = state.requireProject(issue.projectId);
  publish(ctx, {
    actor,
    on: project,
    audit: action === 'update' ? 'issue_updated' : `issue_${action === 'close' ? 'closed' : 'reopened'}`,
    details: { iid: issue.iid },
    hook: issueEvent(state, actor, issue, action, beforeHook),
  });
  return issue;
}
