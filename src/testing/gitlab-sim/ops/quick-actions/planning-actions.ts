import type { SimIssue } from '../../model.js';
import { canPlan, canSetMetadata } from '../access.js';
import { findItem, findMilestone, findUsers, itemReference, milestoneReference, userReference } from './arguments.js';
import { type CommandScope, QuickActionParseError, type QuickActionDefinition, plural, sentence } from './definition.js';
import { parseDueDate, spokenDate } from './due-dates.js';

/**
 * Assignees, milestone, due date, weight and copied metadata, after GitLab's
 * `IssueAndMergeRequestActions`, `IssueActions` and EE's weight actions. All are metadata: Reporters
 * up on issues, Developers up (or the author) on merge requests. Like the simulator's REST API,
 * items take several assignees, as GitLab's paid tiers do.
 */

const setsMetadata = (scope: CommandScope): boolean => canSetMetadata(scope.state, scope.actor, scope.item);
const dueDateOf = (scope: CommandScope): string | null => (scope.item as SimIssue).dueDate ?? null;
const weightOf = (scope: CommandScope): number | null => (scope.item as SimIssue).weight ?? null;
const currentAssignees = (scope: CommandScope): number[] => scope.updates.assignee_ids ?? scope.item.assigneeIds;

/** Those `/unassign` names, or every assignee when it names none. */
function assigneesToRemove(scope: CommandScope, arg: string | undefined): string[] {
  const named = arg === undefined ? undefined : findUsers(scope.state, scope.actor, arg);
  const users = named ?? scope.item.assigneeIds.map((id) => scope.state.requireUser(id));
  return users.map(userReference);
}

export const PLANNING_ACTIONS: readonly QuickActionDefinition[] = [
  {
    names: ['assign'],
    on: ['issue', 'merge_request'],
    available: setsMetadata,
    run(scope, arg) {
      if (arg === undefined) return;
      const users = findUsers(scope.state, scope.actor, arg);
      if (users.length > 0) scope.updates.assignee_ids = [...new Set([...currentAssignees(scope), ...users.map((user) => user.id)])];
    },
    message(scope, arg) {
      if (arg === undefined) return undefined;
      const users = findUsers(scope.state, scope.actor, arg);
      return users.length === 0 ? 'Failed to assign a user because no user was found.' : `Assigned ${sentence(users.map(userReference))}.`;
    },
  },
  {
    names: ['unassign'],
    on: ['issue', 'merge_request'],
    available: (scope) => !scope.isNew && scope.item.assigneeIds.length > 0 && setsMetadata(scope),
    run(scope, arg) {
      const named = arg === undefined ? [] : findUsers(scope.state, scope.actor, arg).map((user) => user.id);
      scope.updates.assignee_ids = named.length === 0 ? [] : currentAssignees(scope).filter((id) => !named.includes(id));
    },
    message(scope, arg) {
      const removed = assigneesToRemove(scope, arg);
      return `Removed ${plural('assignee', removed.length)} ${sentence(removed)}.`;
    },
  },
  {
    names: ['milestone'],
    on: ['issue', 'merge_request'],
    available: (scope) =>
      setsMetadata(scope) && scope.state.availableMilestones(scope.project).some((milestone) => milestone.state === 'active'),
    run(scope, arg) {
      const milestone = arg === undefined ? undefined : findMilestone(scope.state, scope.project, arg);
      if (milestone) scope.updates.milestone_id = milestone.id;
    },
    message(scope, arg) {
      const milestone = arg === undefined ? undefined : findMilestone(scope.state, scope.project, arg);
      return milestone && `Set the milestone to ${milestoneReference(milestone)}.`;
    },
  },
  {
    names: ['remove_milestone'],
    on: ['issue', 'merge_request'],
    available: (scope) => !scope.isNew && scope.item.milestoneId !== null && setsMetadata(scope),
    run: (scope) => void (scope.updates.milestone_id = null),
    message(scope) {
      const milestone = scope.item.milestoneId === null ? undefined : scope.state.milestones.get(scope.item.milestoneId);
      return milestone && `Removed ${milestoneReference(milestone)} milestone.`;
    },
  },
  {
    names: ['copy_metadata'],
    on: ['issue', 'merge_request'],
    available: setsMetadata,
    run(scope, arg) {
      if (arg === undefined) return;
      const source = findItem(scope.state, scope.actor, scope.project, arg);
      if (!source) throw new QuickActionParseError('Failed to find work item or merge request');
      // GitLab copies only within the item's own project.
      if (source.projectId !== scope.item.projectId) return;
      scope.updates.add_label_ids = [...source.labelIds];
      if (source.milestoneId !== null) scope.updates.milestone_id = source.milestoneId;
      scope.messages.set('copy_metadata', `Copied labels and milestone from ${itemReference(source)}.`);
    },
  },
  {
    names: ['due'],
    on: ['issue'],
    available: setsMetadata,
    run(scope, arg) {
      const date = arg === undefined ? undefined : parseDueDate(arg, scope.state.now());
      if (date !== undefined) scope.updates.due_date = date;
      else if (arg !== undefined) scope.messages.set('due', 'Failed to set due date because the date format is invalid.');
    },
    message(scope, arg) {
      const date = arg === undefined ? undefined : parseDueDate(arg, scope.state.now());
      return date && `Set the due date to ${spokenDate(date)}.`;
    },
  },
  {
    names: ['remove_due_date'],
    on: ['issue'],
    available: (scope) => !scope.isNew && dueDateOf(scope) !== null && setsMetadata(scope),
    run: (scope) => void (scope.updates.due_date = null),
    message: () => 'Removed the due date.',
  },
  {
    names: ['weight'],
    on: ['issue'],
    available: (scope) => canPlan(scope.state, scope.actor, scope.project),
    run(scope, arg) {
      if (arg === undefined) return;
      // Ruby's `to_i`, as GitLab reads it: the leading whole number, and 0 when there is none.
      const weight = Number.parseInt(arg, 10) || 0;
      if (weight < 0) return;
      scope.updates.weight = weight;
      scope.messages.set('weight', `Set weight to ${weight}.`);
    },
  },
  {
    names: ['clear_weight'],
    on: ['issue'],
    available: (scope) => !scope.isNew && weightOf(scope) !== null && canPlan(scope.state, scope.actor, scope.project),
    run: (scope) => void (scope.updates.weight = null),
    message: () => 'Cleared weight.',
  },
];
