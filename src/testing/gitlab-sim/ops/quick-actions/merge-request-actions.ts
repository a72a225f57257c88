import { isDraft } from '../../format.js';
import type { SimMergeRequest } from '../../model.js';
import { canEditItem, canPush } from '../access.js';
import type { CommandScope, QuickActionDefinition } from './definition.js';

/** `/rebase`, `/draft` and `/ready`, after GitLab's `MergeRequestActions`. */

const mergeRequest = (scope: CommandScope): SimMergeRequest => scope.item as SimMergeRequest;
const draft = (scope: CommandScope): boolean => isDraft(scope.item.title);
/** Drafts can be set when opening a merge request, and later by whoever may edit it. */
const setsDraft = (scope: CommandScope): boolean => scope.isNew || canEditItem(scope.state, scope.actor, scope.item);
const NO_DRAFT_CHANGE = "No change to this merge request's draft status.";

export const MERGE_REQUEST_ACTIONS: readonly QuickActionDefinition[] = [
  {
    names: ['rebase'],
    on: ['merge_request'],
    available(scope) {
      const mr = mergeRequest(scope);
      const { branches } = scope.project.repository;
      return (
        !scope.isNew &&
        mr.state === 'opened' &&
        branches.has(mr.sourceBranch) &&
        canPush(scope.state, scope.actor, scope.project, mr.sourceBranch)
      );
    },
    run(scope) {
      const { sourceBranch } = mergeRequest(scope);
      // GitLab's protected branches refuse force pushes, and a rebase is one.
      if (scope.project.protectedBranches.has(sourceBranch)) {
        scope.messages.set('rebase', 'This merge request branch is protected from force push.');
        return;
      }
      scope.updates.rebase = true;
      scope.messages.set('rebase', `Scheduled a rebase of branch ${sourceBranch}.`);
    },
  },
  {
    names: ['draft'],
    on: ['merge_request'],
    available: setsDraft,
    run: (scope) => void (scope.updates.wip_event = 'draft'),
    message: (scope) => (draft(scope) ? NO_DRAFT_CHANGE : 'Marked this merge request as a draft.'),
  },
  {
    names: ['ready'],
    on: ['merge_request'],
    available: setsDraft,
    run: (scope) => void (draft(scope) && (scope.updates.wip_event = 'ready')),
    message: (scope) => (draft(scope) ? 'Marked this merge request as ready.' : NO_DRAFT_CHANGE),
  },
];
