import { CAN, type SimContext, authorize } from '../context.js';
import { badRequest, invalid } from '../errors.js';
import { labelsOf } from '../hooks/attributes.js';
import type { SimIssue, SimMergeRequest, SimProject, SimUser, SimWorkItem } from '../model.js';
import type { SimState } from '../state.js';
import { canPlan, editLevel } from './access.js';
import { labelsByName, nextLabels } from './labels.js';

/** Changes issues and merge requests accept alike, already parsed from REST parameters. */
export interface WorkItemInput {
  title?: string | undefined;
  description?: string | null | undefined;
  /** Replaces every label. */
  labels?: string[] | undefined;
  addLabels?: string[] | undefined;
  removeLabels?: string[] | undefined;
  assigneeIds?: number[] | undefined;
  /** 0 or null removes the milestone, as in GitLab. */
  milestoneId?: number | null | undefined;
  stateEvent?: 'close' | 'reopen' | undefined;
  discussionLocked?: boolean | undefined;
  /** Seconds; 0 removes the estimate. */
  timeEstimate?: number | undefined;
  /** Seconds to add (negative to subtract), or `reset` to clear the time spent. */
  spendTime?: number | 'reset' | undefined;
}

/** The fields a new issue or merge request starts with; `kind` numbers its id and iid. */
export function newWorkItem(
  state: SimState,
  kind: 'issue' | 'merge_request',
  actor: SimUser,
  project: SimProject,
  title: string,
  now: number,
): SimWorkItem {
  return {
    id: state.nextId(kind),
    iid: kind === 'issue' ? ++project.iids.issue : ++project.iids.mergeRequest,
    projectId: project.id,
    title,
    description: null,
    authorId: actor.id,
    assigneeIds: [],
    labelIds: [],
    milestoneId: null,
    createdAt: now,
    updatedAt: now,
    updatedById: null,
    closedAt: null,
    closedById: null,
    discussionLocked: null,
    timeEstimate: 0,
    timeSpent: 0,
  };
}

/** Grape refuses a missing title before the model sees it; the model refuses a blank one. */
export function requireTitle(title: string | undefined): string {
  if (title === undefined) throw badRequest('title is missing');
  if (title.trim() === '') throw invalid('title', "can't be blank");
  return title;
}

/** GitLab drops assignees and reviewers who do not exist or cannot see the project instead of failing. */
export function usersWhoCanRead(state: SimState, project: SimProject, ids: readonly number[]): number[] {
  return [...new Set(ids)].filter((id) => {
    const user = state.users.get(id);
    return user !== undefined && state.canRead(user, project);
  });
}

/** The project a work item belongs to. */
export const projectOfItem = (state: SimState, item: SimWorkItem): SimProject => state.requireProject(item.projectId);

/**
 * Applies `input` to `item` in place. Labels, assignees and milestone are planning fields: like
 * GitLab, a user below Reporter may change the title and description of their own item, while
 * planning fields from them are ignored rather than refused.
 */
export function applyWorkItemInput(ctx: SimContext, actor: SimUser, item: SimWorkItem, input: WorkItemInput): void {
  const { state } = ctx;
  const project = projectOfItem(state, item);
  const plans = canPlan(state, actor, project);
  if (input.title !== undefined) item.title = requireTitle(input.title);
  if (input.description !== undefined) item.description = input.description;
  if (input.discussionLocked !== undefined && plans) item.discussionLocked = input.discussionLocked;
  if (plans && (input.labels !== undefined || input.addLabels !== undefined || input.removeLabels !== undefined)) {
    const byName = (names: string[] | undefined): ReturnType<typeof labelsByName> | undefined =>
      names === undefined ? undefined : labelsByName(ctx, actor, project, names);
    const available = state.availableLabels(project);
    item.labelIds = nextLabels(labelsOf(state, item.labelIds), {
      set: byName(input.labels),
      add: byName(input.addLabels),
      // Removing a label that does not exist is a no-op, never a creation.
      remove: (input.removeLabels ?? []).flatMap((name) => available.filter((label) => label.name === name.trim())),
    }).map((label) => label.id);
  }
  if (plans && input.assigneeIds !== undefined) item.assigneeIds = usersWhoCanRead(state, project, input.assigneeIds);
  if (plans && input.milestoneId !== undefined) {
    const wanted = input.milestoneId;
    item.milestoneId = wanted !== null && state.availableMilestones(project).some((m) => m.id === wanted) ? wanted : null;
  }
  if (plans && input.timeEstimate !== undefined) item.timeEstimate = input.timeEstimate;
  // GitLab refuses to subtract more than was spent; the simulator stops at zero.
  if (plans && input.spendTime !== undefined)
    item.timeSpent = input.spendTime === 'reset' ? 0 : Math.max(0, (item.timeSpent ?? 0) + input.spendTime);
  const now = state.now();
  if (input.stateEvent === 'close' && item.closedAt === null && !isMerged(item)) {
    setState(item, 'closed');
    item.closedAt = now;
    item.closedById = actor.id;
  } else if (input.stateEvent === 'reopen' && item.closedAt !== null && !isMerged(item)) {
    setState(item, 'opened');
    item.closedAt = null;
    item.closedById = null;
  }
  item.updatedAt = now;
  item.updatedById = actor.id;
}

const isMerged = (item: SimWorkItem): boolean => (item as SimMergeRequest).state === 'merged';

function setState(item: SimWorkItem, state: 'opened' | 'closed'): void {
  (item as SimIssue | SimMergeRequest).state = state;
}

/** Who may change an item: its author, or anyone from its `editLevel` up (404 or 403 otherwise). */
export function authorizeItemEdit(state: SimState, actor: SimUser, item: SimIssue | SimMergeRequest): void {
  const project = projectOfItem(state, item);
  authorize(state, actor, project, CAN.read);
  if (item.authorId !== actor.id) authorize(state, actor, project, editLevel(item));
}

/** The hook action of an update: a state change names it, anything else is `update`. */
export function stateAction(before: SimWorkItem, after: SimWorkItem): 'close' | 'reopen' | 'update' {
  if (before.closedAt === null && after.closedAt !== null) return 'close';
  if (before.closedAt !== null && after.closedAt === null) return 'reopen';
  return 'update';
}
