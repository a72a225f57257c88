import type { SimLabel } from '../../model.js';
import { canEditItem, canSetMetadata } from '../access.js';
import { findLabels, labelReference } from './arguments.js';
import { type CommandScope, type QuickActionDefinition, itemNoun, plural } from './definition.js';

/**
 * State, title, labels, confidentiality and locking, after GitLab's `IssuableActions` and
 * `IssueAndMergeRequestActions`. Closing, reopening and retitling need the right to edit the item
 * (its author, or Reporter up for issues, Developer up for merge requests); the rest is metadata.
 */

const editable = (scope: CommandScope): boolean => canEditItem(scope.state, scope.actor, scope.item);
const setsMetadata = (scope: CommandScope): boolean => canSetMetadata(scope.state, scope.actor, scope.item);
const isOpen = (scope: CommandScope): boolean => scope.item.state === 'opened';
const references = (labels: readonly SimLabel[]): string => labels.map(labelReference).join(' ');

/** `/label` and `/relabel`: the named labels join an update list, and the command leaves its message (GitLab's `run_label_command`). */
function labelCommand(
  scope: CommandScope,
  arg: string,
  command: { name: 'label' | 'relabel'; key: 'add_label_ids' | 'label_ids'; message: (labels: string) => string },
): void {
  const labels = findLabels(scope.state, scope.project, arg);
  if (labels.length === 0) return;
  scope.updates[command.key] = [...new Set([...(scope.updates[command.key] ?? []), ...labels.map((label) => label.id)])];
  scope.messages.set(command.name, command.message(`${references(labels)} ${plural('label', labels.length)}`));
}

export const ISSUABLE_ACTIONS: readonly QuickActionDefinition[] = [
  {
    names: ['close'],
    on: ['issue', 'merge_request'],
    available: (scope) => !scope.isNew && isOpen(scope) && editable(scope),
    run: (scope) => void (scope.updates.state_event = 'close'),
    message: (scope) => `Closed this ${itemNoun(scope.item)}.`,
  },
  {
    names: ['reopen'],
    on: ['issue', 'merge_request'],
    available: (scope) => !scope.isNew && scope.item.state === 'closed' && editable(scope),
    run: (scope) => void (scope.updates.state_event = 'reopen'),
    message: (scope) => `Reopened this ${itemNoun(scope.item)}.`,
  },
  {
    names: ['title'],
    on: ['issue', 'merge_request'],
    available: (scope) => !scope.isNew && editable(scope),
    run: (scope, arg) => void (arg !== undefined && (scope.updates.title = arg)),
    message: (_scope, arg) => (arg === undefined ? undefined : `Changed the title to "${arg}".`),
  },
  {
    names: ['label', 'labels'],
    on: ['issue', 'merge_request'],
    // GitLab's condition asks only whether the project has labels at all; unknown ones are skipped.
    available: (scope) => setsMetadata(scope) && scope.state.availableLabels(scope.project).length > 0,
    run: (scope, arg) =>
      arg !== undefined && labelCommand(scope, arg, { name: 'label', key: 'add_label_ids', message: (labels) => `Added ${labels}.` }),
  },
  {
    names: ['unlabel', 'remove_label'],
    on: ['issue', 'merge_request'],
    available: (scope) => !scope.isNew && scope.item.labelIds.length > 0 && setsMetadata(scope),
    run(scope, arg) {
      if (arg === undefined) {
        scope.updates.label_ids = [];
        scope.messages.set('unlabel', 'Removed all labels.');
        return;
      }
      const labels = findLabels(scope.state, scope.project, arg);
      if (labels.length > 0)
        scope.updates.remove_label_ids = [...new Set([...(scope.updates.remove_label_ids ?? []), ...labels.map((label) => label.id)])];
      scope.messages.set(
        'unlabel',
        labels.length > 0 ? `Removed ${references(labels)} ${plural('label', labels.length)}.` : 'Removed all labels.',
      );
    },
  },
  {
    names: ['relabel'],
    on: ['issue', 'merge_request'],
    available: (scope) => !scope.isNew && scope.item.labelIds.length > 0 && setsMetadata(scope),
    run: (scope, arg) =>
      arg !== undefined &&
      labelCommand(scope, arg, { name: 'relabel', key: 'label_ids', message: (labels) => `Replaced all labels with ${labels}.` }),
  },
  {
    names: ['confidential'],
    on: ['issue'],
    available: (scope) => !('confidential' in scope.item && scope.item.confidential) && editable(scope),
    run: (scope) => void (scope.updates.confidential = true),
    message: () => 'Made this issue confidential.',
  },
  {
    names: ['lock'],
    on: ['issue', 'merge_request'],
    available: (scope) => !scope.isNew && scope.item.discussionLocked !== true && setsMetadata(scope),
    run: (scope) => void (scope.updates.discussion_locked = true),
    message: () => 'Locked the discussion.',
  },
  {
    names: ['unlock'],
    on: ['issue', 'merge_request'],
    available: (scope) => !scope.isNew && scope.item.discussionLocked === true && setsMetadata(scope),
    run: (scope) => void (scope.updates.discussion_locked = false),
    message: () => 'Unlocked the discussion.',
  },
];
