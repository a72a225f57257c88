import { isDraft } from '../../format.js';
import type { SimIssue, SimMergeRequest } from '../../model.js';
import type { SimState } from '../../state.js';
import type { IssueInput } from '../issues.js';
import type { MergeRequestInput } from '../merge-requests.js';

/**
 * GitLab's update parameters from quick actions, by its names: what `InterpretService` hands to the
 * update service, and what a note's `commands_changes` shows.
 */
export interface QuickActionUpdates {
  title?: string;
  state_event?: 'close' | 'reopen';
  add_label_ids?: number[];
  remove_label_ids?: number[];
  label_ids?: number[];
  assignee_ids?: number[];
  milestone_id?: number | null;
  discussion_locked?: boolean;
  confidential?: true;
  due_date?: string | null;
  weight?: number | null;
  time_estimate?: number;
  spend_time?: { duration: number | 'reset'; user_id: number; spent_at: string | null; category: null };
  wip_event?: 'draft' | 'ready';
  rebase?: true;
}

/** The merge request title a draft event leaves: `Draft: ` added, or the draft prefix (`isDraft`'s) removed. */
function draftTitle(title: string, event: 'draft' | 'ready'): string {
  if (event === 'ready') return title.replace(/^\s*(\[draft\]|\(draft\)|draft:)\s*/i, '');
  return isDraft(title) ? title : `Draft: ${title}`;
}

/** The updates as the input of the simulator's operations (`updateIssue`, `updateMergeRequest`); `rebase` is separate. */
export function itemInput(state: SimState, item: SimIssue | SimMergeRequest, updates: QuickActionUpdates): IssueInput & MergeRequestInput {
  const names = (ids: number[] | undefined): string[] | undefined =>
    ids?.map((id) => state.labels.get(id)?.name).filter((name): name is string => name !== undefined);
  const title = updates.wip_event ? draftTitle(updates.title ?? item.title, updates.wip_event) : updates.title;
  return {
    title,
    stateEvent: updates.state_event,
    labels: names(updates.label_ids),
    addLabels: names(updates.add_label_ids),
    removeLabels: names(updates.remove_label_ids),
    assigneeIds: updates.assignee_ids,
    milestoneId: updates.milestone_id,
    discussionLocked: updates.discussion_locked,
    confidential: updates.confidential,
    dueDate: updates.due_date,
    weight: updates.weight,
    timeEstimate: updates.time_estimate,
    spendTime: updates.spend_time?.duration,
  };
}
