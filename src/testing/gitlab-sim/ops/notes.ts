import { createHash } from 'node:crypto';
import { CAN, type SimContext, authorize, publish } from '../context.js';
import { badRequest, forbidden, invalid, notFound } from '../errors.js';
import { noteEvent } from '../hooks/events.js';
import type { NoteableType, SimIssue, SimMergeRequest, SimNote, SimUser } from '../model.js';
import { canSeeIssue } from './access.js';
import { updateIssue } from './issues.js';
import { updateMergeRequest } from './merge-requests.js';
import { type Interpretation, interpretQuickActions } from './quick-actions/interpret.js';
import { type QuickActionUpdates, itemInput } from './quick-actions/updates.js';
import { rebaseMergeRequest } from './rebase.js';

/**
 * Where a new note goes: a comment on its own (`POST …/notes`), the first note of a new thread
 * (`POST …/discussions`), or a reply in an existing thread (`POST …/discussions/:id/notes`).
 */
export type NotePlacement = { kind: 'comment' } | { kind: 'thread' } | { kind: 'reply'; discussionId: string };

/** A note's `discussion_id`: 40 hex digits like GitLab's (a SHA-1 there), derived here from the note's id. */
export const discussionIdFor = (noteId: number): string => createHash('sha1').update(`gitlab-sim discussion ${noteId}`).digest('hex');

/** What a note's quick actions did, as GitLab reports them (`Notes::QuickActionsStatus`). */
export interface NoteCommands {
  /** The update parameters they applied: the note's `commands_changes`. */
  changes: QuickActionUpdates;
  /** Their messages, joined into one: the `summary` GitLab answers for a note of commands only. */
  summary: string[];
  /** Set when the note held only commands and none said what it did: GitLab answers 400 with it. */
  error: string | undefined;
}

export interface PostedNote {
  /** The saved note; null when its body held only quick actions, which GitLab runs without saving a note. */
  note: SimNote | null;
  /** Its quick actions, when it had some. */
  commands: NoteCommands | undefined;
}

/** Applies a note's quick actions to its issue or merge request through the operations the REST API uses. */
function applyCommands(ctx: SimContext, actor: SimUser, noteable: SimIssue | SimMergeRequest, updates: QuickActionUpdates): void {
  const { rebase, ...changes } = updates;
  if (Object.keys(changes).length > 0) {
    const input = itemInput(ctx.state, noteable, changes);
    if ('sourceBranch' in noteable) updateMergeRequest(ctx, actor, noteable, input);
    else updateIssue(ctx, actor, noteable, input);
  }
  if (rebase && 'sourceBranch' in noteable) rebaseMergeRequest(ctx, actor, noteable);
}

function commandsReport(interpretation: Interpretation, onlyCommands: boolean): NoteCommands {
  const { updates, message } = interpretation;
  return {
    changes: updates,
    summary: message === '' ? [] : [message],
    error: onlyCommands && message === '' ? 'Failed to apply commands.' : undefined,
  };
}

/**
 * A note, as GitLab's `Notes::CreateService` makes it: checked, then its quick actions interpreted;
 * saved without their lines (its hook fires) unless nothing else is left; then the commands applied.
 * Any reader may comment; internal notes, and notes on a locked discussion, need Reporter.
 */
export function createNote(
  ctx: SimContext,
  actor: SimUser,
  noteable: SimIssue | SimMergeRequest,
  body: string | undefined,
  internal = false,
  placement: NotePlacement = { kind: 'comment' },
): PostedNote {
  const { state } = ctx;
  const project = state.requireProject(noteable.projectId);
  const noteableType: NoteableType = 'sourceBranch' in noteable ? 'MergeRequest' : 'Issue';
  authorize(state, actor, project, CAN.read);
  if (noteableType === 'Issue' && !canSeeIssue(state, actor, noteable as SimIssue)) throw notFound();
  if (body === undefined) throw badRequest('body is missing');
  if (body.trim() === '') throw invalid('note', "can't be blank");
  // Internal notes are for Reporters up; a locked discussion takes notes only from them too.
  if ((internal || noteable.discussionLocked) && state.accessLevel(actor, project) < CAN.report) throw forbidden();
  const interpretation = interpretQuickActions(state, actor, noteable, body);
  const onlyCommands = interpretation.text === '';
  let note: SimNote | null = null;
  if (!onlyCommands) {
    const now = state.now();
    const id = state.nextId('note');
    note = {
      id,
      projectId: project.id,
      noteableType,
      noteableId: noteable.id,
      body: interpretation.text,
      authorId: actor.id,
      system: false,
      internal,
      type: placement.kind === 'comment' ? null : 'DiscussionNote',
      discussionId: placement.kind === 'reply' ? placement.discussionId : discussionIdFor(id),
      createdAt: now,
      updatedAt: now,
    };
    state.notes.set(note.id, note);
    noteable.updatedAt = now;
    publish(ctx, { actor, on: project, hook: noteEvent(state, note) });
  }
  if (interpretation.count === 0) return { note, commands: undefined };
  applyCommands(ctx, actor, noteable, interpretation.updates);
  return { note, commands: commandsReport(interpretation, onlyCommands) };
}
