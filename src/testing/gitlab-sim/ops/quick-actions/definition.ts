import type { SimIssue, SimMergeRequest, SimProject, SimUser } from '../../model.js';
import type { SimState } from '../../state.js';
import type { QuickActionUpdates } from './updates.js';

/**
 * The shape of a quick action, after GitLab's DSL (`Gitlab::QuickActions::Dsl`): the names it answers
 * to, the kinds of item it applies to, a condition, what it does and the message it leaves.
 */

export type ItemKind = 'issue' | 'merge_request';

/** What a command sees and changes while a text is interpreted (GitLab's `InterpretService` instance). */
export interface CommandScope {
  state: SimState;
  actor: SimUser;
  item: SimIssue | SimMergeRequest;
  project: SimProject;
  /** The text belongs to an item being opened, not yet saved (GitLab's `!persisted?`). */
  isNew: boolean;
  /** GitLab's update parameters, which a note answers as `commands_changes`. */
  updates: QuickActionUpdates;
  /** Messages commands leave while running, by command name (GitLab's `@execution_message`). */
  messages: Map<string, string>;
}

export interface QuickActionDefinition {
  /** The name, then its aliases. Messages name the command by its first name. */
  names: readonly [string, ...string[]];
  on: readonly ItemKind[];
  /** GitLab's `condition`: when false, the line is still removed, nothing happens, and the message says it could not apply. */
  available(scope: CommandScope): boolean;
  /** GitLab's command block: records updates, may leave a message. `arg` is undefined when the line has none. */
  run(scope: CommandScope, arg: string | undefined): void;
  /** GitLab's `execution_message`, used when `run` left none. */
  message?(scope: CommandScope, arg: string | undefined): string | undefined;
}

/** A command argument GitLab cannot read (`ParseError`): the command does nothing; its message says why. */
export class QuickActionParseError extends Error {
  override readonly name = 'QuickActionParseError';
}

export const kindOf = (item: SimIssue | SimMergeRequest): ItemKind => ('sourceBranch' in item ? 'merge_request' : 'issue');

/** `issue` or `merge request`, as messages name the item. */
export const itemNoun = (item: SimIssue | SimMergeRequest): string => kindOf(item).replace('_', ' ');

/** Rails' `to_sentence`: `a`, `a and b`, `a, b, and c`. */
export function sentence(words: readonly string[]): string {
  if (words.length <= 2) return words.join(' and ');
  return `${words.slice(0, -1).join(', ')}, and ${words.at(-1) ?? ''}`;
}

/** `label` or `labels`: GitLab's messages pluralise by count. */
export const plural = (word: string, count: number): string => (count === 1 ? word : `${word}s`);
