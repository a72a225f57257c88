import { CAN, type SimContext, authorize, publish } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { issueHook } from '../hooks/attributes.js';
import { issueEvent } from '../hooks/events.js';
import { isDate } from '../format.js';
import type { SimIssue, SimProject, SimUser } from '../model.js';
import { canSeeIssue } from './access.js';
import { descriptionCommands } from './quick-actions/interpret.js';
import { type WorkItemInput, applyWorkItemInput, authorizeItemEdit, newWorkItem, requireTitle, stateAction } from './work-items.js';

export interface IssueInput extends WorkItemInput {
  confidential?: boolean | undefined;
  /** `YYYY-MM-DD`, or null to clear. */
  dueDate?: string | null | undefined;
  /** A whole number from 0, or null to clear. */
  weight?: number | null | undefined;
}

function applyIssueFields(issue: SimIssue, input: IssueInput): void {
  if (input.confidential !== undefined) issue.confidential = input.confidential;
  if (input.dueDate !== undefined) {
    if (input.dueDate !== null && !isDate(input.dueDate)) throw badRequest('due_date is invalid');
    issue.dueDate = input.dueDate;
  }
  if (input.weight !== undefined) issue.weight = input.weight;
}

function applyIssueInput(ctx: SimContext, actor: SimUser, issue: SimIssue, input: IssueInput): void {
  applyIssueFields(issue, input);
  applyWorkItemInput(ctx, actor, issue, input);
}

/**
 * Any user who can see a project may open an issue in it (Guests included), as in GitLab. `author`
 * is for a move, whose new issue keeps the original's author; the actor is the one who acts. The
 * description's quick actions run on the new issue, as GitLab's `Issues::CreateService` runs them.
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
    weight: null,
  };
  applyIssueInput(ctx, actor, issue, { ...input, stateEvent: undefined });
  const commands = descriptionCommands(state, actor, issue, issue.description, true);
  if (commands) applyIssueInput(ctx, actor, issue, { ...commands.input, description: commands.description });
  // A new issue has not been edited: GitLab leaves `updated_by_id` empty until someone does.
  issue.updatedAt = now;
  issue.updatedById = null;
  state.issues.set(issue.id, issue);
  publish(ctx, { actor, on: project, audit: 'issue_created', details: { iid: issue.iid }, hook: issueEvent(state, actor, issue, 'open') });
  return issue;
}

/** Changes an issue; a new description's quick actions run first, against the issue as it was. */
export function updateIssue(ctx: SimContext, actor: SimUser, issue: SimIssue, input: IssueInput): SimIssue {
  const { state } = ctx;
  if (!canSeeIssue(state, actor, issue)) throw notFound();
  authorizeItemEdit(state, actor, issue);
  const before = { ...issue };
  const beforeHook = issueHook(state, issue);
  const commands = descriptionCommands(state, actor, issue, input.description, false);
  applyIssueInput(ctx, actor, issue, commands ? { ...input, description: commands.description } : input);
  if (commands) applyIssueInput(ctx, actor, issue, commands.input);
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
