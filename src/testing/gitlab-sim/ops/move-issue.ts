import { CAN, type SimContext } from '../context.js';
import { notFound, refused } from '../errors.js';
import { labelsOf } from '../hooks/attributes.js';
import type { SimIssue, SimProject, SimUser } from '../model.js';
import type { SimState } from '../state.js';
import { canSeeIssue } from './access.js';
import { createIssue, updateIssue } from './issues.js';
import { discussionIdFor } from './notes.js';

/** GitLab's answer (400) when the caller may not move the issue there, the target included. */
const DENIED = 'Cannot move issue due to insufficient permissions!';

/** GitLab copies the notes with their authors and times, without hooks; each thread gets a new discussion id. */
function copyNotes(state: SimState, from: SimIssue, to: SimIssue): void {
  const threads = new Map<string, string>();
  const notes = [...state.notes.values()].filter((note) => note.noteableType === 'Issue' && note.noteableId === from.id);
  for (const note of notes) {
    const id = state.nextId('note');
    const discussionId = threads.get(note.discussionId) ?? discussionIdFor(id);
    threads.set(note.discussionId, discussionId);
    state.notes.set(id, { ...note, id, projectId: to.projectId, noteableId: to.id, discussionId });
  }
}

/**
 * Moves an issue as `POST /projects/:id/issues/:iid/move` does: a new issue in `target` with a new iid,
 * the original's title, description, author, assignees, timestamps, confidentiality, due date and
 * notes, and its labels and milestone where `target` has ones of the same name; then the original is
 * closed and points to it (`moved_to_id`). The caller needs Reporter in both projects (GitLab's
 * `admin_issue`); an unknown target, a target it cannot plan in, or an issue already moved is GitLab's 400.
 */
export function moveIssue(ctx: SimContext, actor: SimUser, issue: SimIssue, target: SimProject | undefined): SimIssue {
  const { state } = ctx;
  if (!canSeeIssue(state, actor, issue)) throw notFound();
  const source = state.requireProject(issue.projectId);
  const plans = (project: SimProject): boolean => state.canRead(actor, project) && state.accessLevel(actor, project) >= CAN.report;
  if (!target || issue.movedToId !== null || !plans(source) || !plans(target)) throw refused(DENIED);
  if (target.id === source.id) throw refused('Cannot move issue to project it originates from!');
  const milestone = issue.milestoneId === null ? undefined : state.milestones.get(issue.milestoneId);
  const labels = new Set(state.availableLabels(target).map((label) => label.name));
  const moved = createIssue(ctx, actor, target, {
    title: issue.title,
    description: issue.description,
    confidential: issue.confidential,
    dueDate: issue.dueDate,
    assigneeIds: issue.assigneeIds,
    // By name, and only those the target has: a move creates no labels.
    labels: labelsOf(state, issue.labelIds)
      .map((label) => label.name)
      .filter((name) => labels.has(name)),
    milestoneId: state.availableMilestones(target).find((item) => item.title === milestone?.title)?.id ?? null,
    createdAt: issue.createdAt,
    author: state.requireUser(issue.authorId),
  });
  // GitLab copies the record's timestamps along with its fields.
  moved.updatedAt = issue.updatedAt;
  copyNotes(state, issue, moved);
  updateIssue(ctx, actor, issue, { stateEvent: 'close' });
  issue.movedToId = moved.id;
  return moved;
}
