import type { SimContext } from '../context.js';
import { notFound } from '../errors.js';
import { type SimApi, type SimRequest, currentUser } from '../http/app.js';
import { paginate } from '../http/pagination.js';
import { Params } from '../http/params.js';
import type { SimIssue, SimMergeRequest, SimNote } from '../model.js';
import { discussionsOf, readableNotes, replyToDiscussion } from '../ops/discussions.js';
import { createNote } from '../ops/notes.js';
import { discussionEntity, noteEntity } from '../present/work.js';
import { answerPostedNote } from './note-answer.js';

/**
 * `…/discussions` of issues and merge requests: list the threads (oldest first, a comment on its own
 * as a thread of one), show one, start one, reply in one (quick actions run in both). Their notes are
 * those `…/notes` lists.
 */
export function registerDiscussions(
  api: SimApi,
  ctx: SimContext,
  kind: 'issues' | 'merge_requests',
  noteable: (c: SimRequest, ctx: SimContext) => SimIssue | SimMergeRequest,
): void {
  const { state } = ctx;
  const base = `/projects/:id/${kind}/:iid/discussions`;
  const threadsOf = (c: SimRequest): SimNote[][] => discussionsOf(readableNotes(state, currentUser(c), noteable(c, ctx)));

  api.get(base, (c) => c.json(paginate(c, threadsOf(c)).map((thread) => discussionEntity(state, thread))));

  api.get(`${base}/:discussion_id`, (c) => {
    const thread = threadsOf(c).find((notes) => notes[0]?.discussionId === c.req.param('discussion_id'));
    if (!thread) throw notFound('Discussion');
    return c.json(discussionEntity(state, thread));
  });

  api.post(base, async (c) => {
    const p = await Params.of(c);
    const internal = p.bool('internal') ?? p.bool('confidential') ?? false;
    const posted = createNote(ctx, currentUser(c), noteable(c, ctx), p.string('body'), internal, { kind: 'thread' });
    return answerPostedNote(c, posted, (note, changes) => discussionEntity(state, [note], changes));
  });

  api.post(`${base}/:discussion_id/notes`, async (c) => {
    const p = await Params.of(c);
    const posted = replyToDiscussion(ctx, currentUser(c), noteable(c, ctx), c.req.param('discussion_id') ?? '', p.string('body'));
    return answerPostedNote(c, posted, (note, changes) => noteEntity(state, note, changes));
  });
}
