import type { SimIssue, SimMergeRequest, SimUser } from '../../model.js';
import type { SimState } from '../../state.js';
import type { IssueInput } from '../issues.js';
import type { MergeRequestInput } from '../merge-requests.js';
import { type CommandScope, QuickActionParseError, type QuickActionDefinition, kindOf } from './definition.js';
import { extractCommands } from './extract.js';
import { ISSUABLE_ACTIONS } from './issuable-actions.js';
import { MERGE_REQUEST_ACTIONS } from './merge-request-actions.js';
import { PLANNING_ACTIONS } from './planning-actions.js';
import { TIME_TRACKING_ACTIONS } from './time-tracking-actions.js';
import { type QuickActionUpdates, itemInput } from './updates.js';

/**
 * Runs the quick actions of a text against an issue or merge request, as GitLab's
 * `QuickActions::InterpretService` does: extract the known commands, run those whose condition holds,
 * and collect their messages. Nothing is changed here: the caller applies the updates through the
 * same operations as the REST API, so permissions, scoped labels and webhooks follow.
 */

const DEFINITIONS: readonly QuickActionDefinition[] = [
  ...ISSUABLE_ACTIONS,
  ...PLANNING_ACTIONS,
  ...TIME_TRACKING_ACTIONS,
  ...MERGE_REQUEST_ACTIONS,
];
const BY_NAME = new Map(DEFINITIONS.flatMap((definition) => definition.names.map((name) => [name, definition] as const)));
const NAMES = [...BY_NAME.keys()];

export interface Interpretation {
  /** The text without its command lines (GitLab stores this). */
  text: string;
  /** GitLab's update parameters: a note's `commands_changes`. */
  updates: QuickActionUpdates;
  /** Every command's message, joined as GitLab joins them: the `summary` of a note of commands only. Empty when none. */
  message: string;
  /** How many commands the text held, applicable or not (GitLab's `commands_executed_count`). */
  count: number;
}

function messageOf(definition: QuickActionDefinition, scope: CommandScope, arg: string | undefined): string | undefined {
  const name = definition.names[0];
  try {
    return scope.messages.get(name) ?? definition.message?.(scope, arg);
  } catch (caught) {
    if (!(caught instanceof QuickActionParseError)) throw caught;
    return `Could not apply ${name} command. ${caught.message}.`;
  }
}

/** The quick actions of `text`, written by `actor` on `item` (`isNew`: in the description of an item being opened). */
export function interpretQuickActions(
  state: SimState,
  actor: SimUser,
  item: SimIssue | SimMergeRequest,
  text: string,
  isNew = false,
): Interpretation {
  const { text: kept, commands } = extractCommands(text, NAMES);
  const scope: CommandScope = {
    state,
    actor,
    item,
    project: state.requireProject(item.projectId),
    isNew,
    updates: {},
    messages: new Map(),
  };
  const ran = commands.map(({ name, arg }) => {
    const definition = BY_NAME.get(name) as QuickActionDefinition;
    const available = definition.on.includes(kindOf(item)) && definition.available(scope);
    try {
      if (available) definition.run(scope, arg);
    } catch (caught) {
      // An argument GitLab cannot read makes the command do nothing; its message says why.
      if (!(caught instanceof QuickActionParseError)) throw caught;
    }
    return { definition, arg, available };
  });
  const messages = ran.map(({ definition, arg, available }) =>
    available ? messageOf(definition, scope, arg) : `Could not apply ${definition.names[0]} command.`,
  );
  return {
    text: kept,
    updates: scope.updates,
    message: messages.filter((message) => message !== undefined && message !== '').join(' '),
    count: commands.length,
  };
}

/** A description's quick actions, ready to apply: the description to store, the input for the operation, and whether to rebase. */
export interface DescriptionCommands {
  description: string;
  input: IssueInput & MergeRequestInput;
  rebase: boolean;
}

/**
 * GitLab runs the quick actions of a description when an issue or merge request is opened with it or
 * it is edited, and stores the description without them. Undefined when there is no description to read.
 */
export function descriptionCommands(
  state: SimState,
  actor: SimUser,
  item: SimIssue | SimMergeRequest,
  description: string | null | undefined,
  isNew: boolean,
): DescriptionCommands | undefined {
  if (typeof description !== 'string') return undefined;
  const { text, updates } = interpretQuickActions(state, actor, item, description, isNew);
  return { description: text, input: itemInput(state, item, updates), rebase: updates.rebase === true };
}
