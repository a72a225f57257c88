import { CAN, type SimContext } from '../context.js';
import { notFound, refused } from '../errors.js';
import type { SimIssue, SimMergeRequest, SimNote, SimUser } from '../model.js';
import type { SimState } from '../state.js';
import { type PostedNote, createNote } from './notes.js';

/**
 * Threads, as GitLab keeps them: every note has a `discussion_id`, and an item's threads are its
 * notes grouped by it. A comment on its own is a thread of one (`individual_note`) until someone
 * replies to it.
 */

const byCreation = (a: SimNote, b: SimNote): number => a.createdAt - b.createdAt || a.id - b.id;

/** Every note of an issue or merge request, internal ones included, oldest first. */
export function notesOf(state: SimState, noteable: SimIssue | SimMergeRequest): SimNote[] {
  const type = 'sourceBranch' in noteable ? 'MergeRequest' : 'Issue';
  return [...state.notes.values()].filter((note) => note.noteableType === type && note.noteableId === noteable.id).sort(byCreation);
}

/** The notes of an issue or merge request that `user` may read, oldest first: internal ones for Reporters up only. */
export function readableNotes(state: SimState, user: SimUser, noteable: SimIssue | SimMergeRequest): SimNote[] {
  const reporter = state.accessLevel(user, state.requireProject(noteable.projectId)) >= CAN.report;
  return notesOf(state, noteable).filter((note) => reporter || !note.internal);
}

/** `notes` grouped into threads, in the order their first notes were written, as `GET …/discussions` lists them. */
export function discussionsOf(notes: readonly SimNote[]): SimNote[][] {
  const threads = new Map<string, SimNote[]>();
  for (const note of [...notes].sort(byCreation)) {
    const thread = threads.get(note.discussionId);
    if (thread) thread.push(note);
    else threads.set(note.discussionId, [note]);
  }
  return [...threads.values()];
}

/**
 * A reply in a thread `actor` can read (404 otherwise). As in GitLab, replying to a comment on its
 * own turns it into a thread, and a reply in an internal thread is internal too. A reply of quick
 * actions only runs them and saves nothing, so the comment stays a comment.
 */
export function replyToDiscussion(
  ctx: SimContext,
  actor: SimUser,
  noteable: SimIssue | SimMergeRequest,
  discussionId: string,
  body: string | undefined,
): PostedNote {
  const [first] = readableNotes(ctx.state, actor, noteable).filter((note) => note.discussionId === discussionId);
  if (!first) throw notFound('Discussion');
  if (first.system) throw refused('400 Bad request - Discussion can not be replied to.');
  const reply = createNote(ctx, actor, noteable, body, first.internal, { kind: 'reply', discussionId });
  if (reply.note) first.type = 'DiscussionNote';
  return reply;
}
