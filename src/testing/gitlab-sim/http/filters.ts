import { badRequest } from '../errors.js';
import { labelsOf, usersOf } from '../hooks/attributes.js';
import { dateOnly, isDraft } from '../format.js';
import type { SimIssue, SimMergeRequest, SimMilestone } from '../model.js';
import type { IssueInput } from '../ops/issues.js';
import type { MergeRequestInput } from '../ops/merge-requests.js';
import type { WorkItemInput } from '../ops/work-items.js';
import type { SimState } from '../state.js';
import type { Params } from './params.js';

/** The list filters and the write parameters issues and merge requests share, read as GitLab's API reads them. */

const time = (p: Params, name: string): number | undefined => {
  const value = p.string(name);
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw badRequest(`${name} is invalid`);
  return ms;
};

/** `None`/`Any` or a match, as GitLab's finders treat `assignee_id`, `milestone`, `labels`… */
function special(value: string, count: number): boolean | undefined {
  if (/^none$/i.test(value)) return count === 0;
  if (/^any$/i.test(value)) return count > 0;
  return undefined;
}

function usernameMatches(state: SimState, ids: readonly number[], usernames: readonly string[] | undefined): boolean {
  if (usernames === undefined) return true;
  const names = usersOf(state, ids).map((user) => user.username.toLowerCase());
  return usernames.every((name) => special(name, ids.length) ?? names.includes(name.toLowerCase()));
}

function idMatches(ids: readonly number[], wanted: string | undefined): boolean {
  if (wanted === undefined) return true;
  return special(wanted, ids.length) ?? ids.includes(Number(wanted));
}

/** `milestone_id` of issue lists: GitLab's milestone timeboxes, titleized as its API takes them. */
const MILESTONE_TIMEBOXES = ['None', 'Any', 'Upcoming', 'Started'] as const;
type MilestoneTimebox = (typeof MILESTONE_TIMEBOXES)[number];

/** Issue lists only: GitLab's merge request lists have no `milestone_id` and ignore it. */
function milestoneTimebox(p: Params, items: readonly (SimIssue | SimMergeRequest)[]): MilestoneTimebox | undefined {
  if (!items.some((item) => !('sourceBranch' in item))) return undefined;
  const timebox = p.oneOf('milestone_id', MILESTONE_TIMEBOXES);
  if (timebox !== undefined && p.has('milestone')) throw badRequest('milestone, milestone_id are mutually exclusive');
  return timebox;
}

/**
 * Whether `milestone` is in the timebox, as GitLab's finders decide: `Started`, an active milestone whose start date
 * has come; `Upcoming`, of its project's (or group's) active milestones due after today, the one due first.
 */
function inTimebox(state: SimState, milestone: SimMilestone | undefined, timebox: MilestoneTimebox): boolean {
  if (timebox === 'None' || timebox === 'Any') return (milestone === undefined) === (timebox === 'None');
  if (milestone?.state !== 'active') return false;
  const today = dateOnly(state.now());
  if (timebox === 'Started') return milestone.startDate !== null && milestone.startDate <= today;
  const dueLater = (item: SimMilestone): item is SimMilestone & { dueDate: string } =>
    item.state === 'active' && item.dueDate !== null && item.dueDate > today;
  if (!dueLater(milestone)) return false;
  const sameOwner = (item: SimMilestone): boolean => item.owner.kind === milestone.owner.kind && item.owner.id === milestone.owner.id;
  // GitLab's DISTINCT ON leaves a tie on the due date to the database; here the first created wins.
  return ![...state.milestones.values()].some(
    (other) =>
      sameOwner(other) &&
      dueLater(other) &&
      (other.dueDate < milestone.dueDate || (other.dueDate === milestone.dueDate && other.id < milestone.id)),
  );
}

export type WorkItemKind = 'issue' | 'merge_request';

/** An item's place in a list's order: its `order_by` value (null sorts last either way, as GitLab's NULLS LAST) and its id. */
export interface OrderPosition {
  value: number | string | null;
  id: number;
}

export interface WorkItemOrder {
  orderBy: string;
  sort: 'asc' | 'desc';
  positionOf(item: SimIssue | SimMergeRequest): OrderPosition;
  compare(a: OrderPosition, b: OrderPosition): number;
}

type OrderValueOf = (state: SimState, item: SimIssue | SimMergeRequest) => number | string | null;

const dueDateOfMilestone: OrderValueOf = (state, item) =>
  (item.milestoneId === null ? undefined : state.milestones.get(item.milestoneId))?.dueDate ?? null;

/** The `order_by` values the simulator orders by as GitLab does, per list. */
const EMULATED_ORDERS: Record<WorkItemKind, Record<string, OrderValueOf>> = {
  issue: {
    created_at: (_, item) => item.createdAt,
    updated_at: (_, item) => item.updatedAt,
    title: (_, item) => item.title,
    due_date: (_, item) => ('sourceBranch' in item ? null : item.dueDate),
    weight: (_, item) => ('sourceBranch' in item ? null : (item.weight ?? null)),
    milestone_due: dueDateOfMilestone,
  },
  merge_request: {
    created_at: (_, item) => item.createdAt,
    updated_at: (_, item) => item.updatedAt,
    title: (_, item) => item.title,
    merged_at: (_, item) => ('sourceBranch' in item ? item.mergedAt : null),
    milestone_due: dueDateOfMilestone,
  },
};

/**
 * `order_by` values GitLab accepts that the simulator cannot order by faithfully (they depend on label priorities,
 * votes or manual drag-and-drop order it does not keep). It refuses them rather than answer in another order,
 * so a test never passes on an order real GitLab would not give.
 */
const UNEMULATED_ORDERS: Record<WorkItemKind, readonly string[]> = {
  issue: ['label_priority', 'popularity', 'priority', 'relative_position'],
  merge_request: ['label_priority', 'popularity', 'priority'],
};

/**
 * `order_by` (default `created_at`) and `sort` (default `desc`) of an issue or merge request list, ties broken by id.
 * A value GitLab does not take for that list is its `400 order_by does not have a valid value`.
 */
export function workItemOrder(state: SimState, p: Params, kind: WorkItemKind): WorkItemOrder {
  const emulated = EMULATED_ORDERS[kind];
  const orderBy = p.oneOf('order_by', [...Object.keys(emulated), ...UNEMULATED_ORDERS[kind]]) ?? 'created_at';
  const valueOf = emulated[orderBy];
  if (valueOf === undefined) {
    throw badRequest(
      `order_by=${orderBy} is valid in GitLab, but the simulator does not emulate that order; ` +
        `order by one of ${Object.keys(emulated).join(', ')} in tests`,
    );
  }
  const sort = p.oneOf('sort', ['asc', 'desc'] as const) ?? 'desc';
  return {
    orderBy,
    sort,
    positionOf: (item) => ({ value: valueOf(state, item), id: item.id }),
    compare: (a, b) => {
      if ((a.value === null) !== (b.value === null)) return a.value === null ? 1 : -1;
      const order = a.value !== null && b.value !== null && a.value !== b.value ? (a.value < b.value ? -1 : 1) : a.id - b.id;
      return sort === 'asc' ? order : -order;
    },
  };
}

/**
 * Filters and orders issues or merge requests: `state`, `labels` (all must match; `None`/`Any`),
 * `not[labels]` (none may be there), `milestone` (title, `None`/`Any`), `assignee_username`/`assignee_id`, `author_*`, `search` (within `in`:
 * `title`, `description` or both, the default),
 * `iids[]`, `created_*`/`updated_*` `after`/`before`, `order_by` and `sort` (see {@link workItemOrder}).
 * Merge requests add `source_branch`, `target_branch`, `reviewer_*`, `wip` (`yes`: drafts only, `no`: none);
 * issues add `confidential` and `milestone_id` (`None`, `Any`, `Upcoming`, `Started`).
 */
export function filterWorkItems<T extends SimIssue | SimMergeRequest>(
  state: SimState,
  items: readonly T[],
  p: Params,
  kind: WorkItemKind,
): T[] {
  const wantedState = p.string('state');
  const labels = p.list('labels');
  const notLabels = p.list('not[labels]');
  const wip = p.oneOf('wip', ['yes', 'no'] as const);
  const milestone = p.string('milestone');
  const timebox = milestoneTimebox(p, items);
  const assignees = p.list('assignee_username');
  const authorId = p.string('author_id');
  const authorName = p.string('author_username');
  const search = p.string('search')?.toLowerCase();
  const searchIn = p.list('in') ?? ['title', 'description'];
  const iids = p.ints('iids');
  const reviewers = p.list('reviewer_username');
  const reviewerId = p.string('reviewer_id');
  const confidential = p.bool('confidential');
  const [createdAfter, createdBefore, updatedAfter, updatedBefore] = [
    'created_after',
    'created_before',
    'updated_after',
    'updated_before',
  ].map((name) => time(p, name));
  const order = workItemOrder(state, p, kind);
  const matches = (candidate: T): boolean => {
    const item: SimIssue | SimMergeRequest = candidate;
    const mr = 'sourceBranch' in item ? item : undefined;
    const issue = 'sourceBranch' in item ? undefined : item;
    const names = labelsOf(state, item.labelIds).map((label) => label.name);
    const itemMilestone = item.milestoneId === null ? undefined : state.milestones.get(item.milestoneId);
    const milestoneTitle = itemMilestone?.title;
    return (
      (wantedState === undefined || wantedState === 'all' || item.state === wantedState) &&
      (labels === undefined || labels.every((label) => special(label, names.length) ?? names.includes(label))) &&
      (notLabels === undefined || !notLabels.some((label) => names.includes(label))) &&
      (milestone === undefined || (special(milestone, milestoneTitle === undefined ? 0 : 1) ?? milestone === milestoneTitle)) &&
      usernameMatches(state, item.assigneeIds, assignees) &&
      idMatches(item.assigneeIds, p.string('assignee_id')) &&
      (authorId === undefined || item.authorId === Number(authorId)) &&
      usernameMatches(state, [item.authorId], authorName === undefined ? undefined : [authorName]) &&
      (search === undefined ||
        [searchIn.includes('title') ? item.title : '', searchIn.includes('description') ? (item.description ?? '') : '']
          .join('\n')
          .toLowerCase()
          .includes(search)) &&
      (iids === undefined || iids.includes(item.iid)) &&
      (createdAfter === undefined || item.createdAt >= createdAfter) &&
      (createdBefore === undefined || item.createdAt <= createdBefore) &&
      (updatedAfter === undefined || item.updatedAt >= updatedAfter) &&
      (updatedBefore === undefined || item.updatedAt <= updatedBefore) &&
      (confidential === undefined || issue?.confidential === confidential) &&
      (timebox === undefined || issue === undefined || inTimebox(state, itemMilestone, timebox)) &&
      (mr === undefined ||
        ((p.string('source_branch') ?? mr.sourceBranch) === mr.sourceBranch &&
          (p.string('target_branch') ?? mr.targetBranch) === mr.targetBranch &&
          (wip === undefined || isDraft(mr.title) === (wip === 'yes')) &&
          usernameMatches(state, mr.reviewerIds, reviewers) &&
          idMatches(mr.reviewerIds, reviewerId)))
    );
  };
  return items.filter(matches).sort((a, b) => order.compare(order.positionOf(a), order.positionOf(b)));
}

/** Parameters of `PUT`/`POST` on issues and merge requests. */
export function workItemInput(p: Params): WorkItemInput {
  const single = p.optionalId('assignee_id');
  return {
    title: p.string('title'),
    description: p.has('description') ? (p.string('description') ?? null) : undefined,
    labels: p.list('labels'),
    addLabels: p.list('add_labels'),
    removeLabels: p.list('remove_labels'),
    assigneeIds: p.ints('assignee_ids') ?? (single === undefined ? undefined : single === null ? [] : [single]),
    milestoneId: p.optionalId('milestone_id'),
    stateEvent: p.oneOf('state_event', ['close', 'reopen'] as const),
    discussionLocked: p.bool('discussion_locked'),
  };
}

export function issueInput(p: Params): IssueInput {
  return {
    ...workItemInput(p),
    confidential: p.bool('confidential'),
    dueDate: p.has('due_date') ? (p.nullableString('due_date') ?? null) : undefined,
  };
}

export function mergeRequestInput(p: Params): MergeRequestInput {
  return {
    ...workItemInput(p),
    sourceBranch: p.string('source_branch'),
    targetBranch: p.string('target_branch'),
    reviewerIds: p.ints('reviewer_ids'),
    removeSourceBranch: p.bool('remove_source_branch'),
    squash: p.bool('squash'),
  };
}

/** GitLab refuses an update that changes nothing: `400 {"error":"a, b are missing, at least one parameter must be provided"}`. */
export function requireSomeParameter(p: Params, names: readonly string[]): void {
  if (!names.some((name) => p.has(name))) throw badRequest(`${names.join(', ')} are missing, at least one parameter must be provided`);
}
