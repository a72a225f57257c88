import type { SimContext } from '../context.js';
import { badRequest, keysetUnavailable, notFound } from '../errors.js';
import { type SimApi, type SimRequest, currentUser, groupParam, idParam, projectParam } from '../http/app.js';
import { filterWorkItems, issueInput, requireSomeParameter, workItemOrder } from '../http/filters.js';
import { ISSUE_KEYSET_ORDERS, paginate, paginateByKeyset } from '../http/pagination.js';
import { Params } from '../http/params.js';
import type { SimIssue, SimMergeRequest, SimNote, SimProject } from '../model.js';
import { readableNotes } from '../ops/discussions.js';
import { canSeeIssue } from '../ops/access.js';
import { createIssue, updateIssue } from '../ops/issues.js';
import { closingIssues } from '../ops/merge-requests.js';
import { moveIssue } from '../ops/move-issue.js';
import { referencedIssues } from '../ops/references.js';
import { createNote } from '../ops/notes.js';
import { issueEntity, mergeRequestEntity, noteEntity } from '../present/work.js';
import { registerDiscussions } from './discussions.js';
import { answerPostedNote } from './note-answer.js';

const ISSUE_UPDATE_PARAMS = [
  'title',
  'description',
  'labels',
  'add_labels',
  'remove_labels',
  'assignee_id',
  'assignee_ids',
  'milestone_id',
  'state_event',
  'confidential',
  'due_date',
  'discussion_locked',
];

function issueParam(c: SimRequest, ctx: SimContext): SimIssue {
  const project = projectParam(c, ctx);
  const issue = ctx.state.requireIssue(project, idParam(c, 'iid'));
  if (!canSeeIssue(ctx.state, currentUser(c), issue)) throw notFound();
  return issue;
}

/**
 * The projects a group list (`/groups/:id/issues`, `/groups/:id/merge_requests`) reads: those of the
 * group and of all its subgroups, as GitLab includes them, that the caller may see. 404 for a group it may not.
 */
export function groupProjectsParam(c: SimRequest, ctx: SimContext): SimProject[] {
  const group = groupParam(c, ctx);
  return [...ctx.state.projects.values()].filter(
    (project) => ctx.state.projectGroups(project).some((item) => item.id === group.id) && ctx.state.canRead(currentUser(c), project),
  );
}

/**
 * `/projects/:id/issues…` and `/groups/:id/issues`: list with GitLab's filters, create, show, update, move,
 * and the merge requests around an issue.
 */
export function registerIssues(api: SimApi, ctx: SimContext): void {
  const { state } = ctx;

  // A project's list and a group's are one list over different projects: same filters and order. Only the
  // project's pages by keyset (GitLab 18.3+); a group's answers `pagination=keyset` with 405.
  const list = async (c: SimRequest, projects: readonly SimProject[], keysetCapable: boolean): Promise<Response> => {
    const ids = new Set(projects.map((project) => project.id));
    const visible = [...state.issues.values()].filter((issue) => ids.has(issue.projectId) && canSeeIssue(state, currentUser(c), issue));
    const p = await Params.of(c);
    const keyset = p.string('pagination') === 'keyset';
    if (keyset && !keysetCapable) throw keysetUnavailable();
    const labelDetails = p.bool('with_labels_details');
    const found = filterWorkItems(state, visible, p, 'issue');
    const order = workItemOrder(state, p, 'issue');
    // GitLab drops `pagination=keyset` for an order it cannot page by keyset and answers offset pages.
    const page = keyset && ISSUE_KEYSET_ORDERS.includes(order.orderBy) ? paginateByKeyset(c, found, order) : paginate(c, found);
    return c.json(page.map((issue) => issueEntity(state, issue, { labelDetails })));
  };

  api.get('/projects/:id/issues', (c) => list(c, [projectParam(c, ctx)], true));
  api.get('/groups/:id/issues', (c) => list(c, groupProjectsParam(c, ctx), false));

  api.post('/projects/:id/issues', async (c) => {
    const p = await Params.of(c);
    const issue = createIssue(ctx, currentUser(c), projectParam(c, ctx), issueInput(p));
    return c.json(issueEntity(state, issue, { viewer: currentUser(c) }), 201);
  });

  api.get('/projects/:id/issues/:iid', (c) => c.json(issueEntity(state, issueParam(c, ctx), { viewer: currentUser(c) })));

  api.put('/projects/:id/issues/:iid', async (c) => {
    const p = await Params.of(c);
    const issue = issueParam(c, ctx);
    requireSomeParameter(p, ISSUE_UPDATE_PARAMS);
    return c.json(issueEntity(state, updateIssue(ctx, currentUser(c), issue, issueInput(p)), { viewer: currentUser(c) }));
  });

  const mergeRequests = (issue: SimIssue, pick: (mr: SimMergeRequest) => boolean): SimMergeRequest[] =>
    [...state.mergeRequests.values()].filter((mr) => mr.projectId === issue.projectId && pick(mr));

  // Merge requests that mention the issue anywhere in their description, closing or not.
  api.get('/projects/:id/issues/:iid/related_merge_requests', (c) => {
    const issue = issueParam(c, ctx);
    const related = mergeRequests(issue, (mr) =>
      referencedIssues(state, state.requireProject(mr.projectId), mr.description ?? '').includes(issue),
    );
    return c.json(paginate(c, related).map((mr) => mergeRequestEntity(state, mr)));
  });

  api.get('/projects/:id/issues/:iid/closed_by', (c) => {
    const issue = issueParam(c, ctx);
    return c.json(
      paginate(
        c,
        mergeRequests(issue, (mr) => closingIssues(state, mr).includes(issue)),
      ).map((mr) => mergeRequestEntity(state, mr)),
    );
  });

  api.post('/projects/:id/issues/:iid/move', async (c) => {
    const p = await Params.of(c);
    const to = p.int('to_project_id');
    if (to === undefined) throw badRequest('to_project_id is missing');
    const moved = moveIssue(ctx, currentUser(c), issueParam(c, ctx), state.projects.get(to));
    return c.json(issueEntity(state, moved, { viewer: currentUser(c) }), 201);
  });

  registerNotes(api, ctx, 'issues', issueParam);
}

/**
 * `…/notes` of issues and merge requests: list (`sort`, `order_by`), show and create (quick actions
 * included). System notes are listed like GitLab's; internal notes only for Reporters up. Their
 * threads: `…/discussions`.
 */
export function registerNotes(
  api: SimApi,
  ctx: SimContext,
  kind: 'issues' | 'merge_requests',
  noteable: (c: SimRequest, ctx: SimContext) => SimIssue | SimMergeRequest,
): void {
  const { state } = ctx;
  const notesOf = (c: SimRequest): SimNote[] => readableNotes(state, currentUser(c), noteable(c, ctx));

  api.get(`/projects/:id/${kind}/:iid/notes`, async (c) => {
    const p = await Params.of(c);
    const orderBy = p.oneOf('order_by', ['created_at', 'updated_at'] as const) ?? 'created_at';
    const direction = (p.oneOf('sort', ['asc', 'desc'] as const) ?? 'desc') === 'asc' ? 1 : -1;
    const key = orderBy === 'updated_at' ? 'updatedAt' : 'createdAt';
    const notes = notesOf(c).sort((a, b) => direction * (a[key] - b[key] || a.id - b.id));
    return c.json(paginate(c, notes).map((note) => noteEntity(state, note)));
  });

  api.get(`/projects/:id/${kind}/:iid/notes/:note_id`, (c) => {
    const note = notesOf(c).find((item) => item.id === idParam(c, 'note_id'));
    if (!note) throw notFound('Note');
    return c.json(noteEntity(state, note));
  });

  api.post(`/projects/:id/${kind}/:iid/notes`, async (c) => {
    const p = await Params.of(c);
    const posted = createNote(
      ctx,
      currentUser(c),
      noteable(c, ctx),
      p.string('body'),
      p.bool('internal') ?? p.bool('confidential') ?? false,
    );
    return answerPostedNote(c, posted, (note, changes) => noteEntity(state, note, changes));
  });

  registerDiscussions(api, ctx, kind, noteable);
}
