import type { SimContext } from '../context.js';
import { notFound } from '../errors.js';
import { type SimApi, type SimRequest, currentUser, groupParam, projectParam } from '../http/app.js';
import { filterWorkItems } from '../http/filters.js';
import { paginate } from '../http/pagination.js';
import { Params } from '../http/params.js';
import type { SimGroup, SimLabel, SimMilestone, SimProject } from '../model.js';
import { canSeeIssue } from '../ops/access.js';
import { createLabel, deleteLabel, updateLabel } from '../ops/labels.js';
import { createMilestone, updateMilestone } from '../ops/planning.js';
import { milestoneEntity } from '../present/basic.js';
import { issueEntity, labelEntity, mergeRequestEntity } from '../present/work.js';

type Owner = SimProject | SimGroup;

/**
 * Labels and milestones of projects (`/projects/:id/…`) and groups (`/groups/:id/…`), one set
 * of handlers for both. Project label lists include the ancestor groups' labels, as GitLab's
 * `include_ancestor_groups` defaults to true; milestone lists include them on `include_ancestors`.
 */
export function registerPlanning(api: SimApi, ctx: SimContext, scope: 'projects' | 'groups'): void {
  const { state } = ctx;
  const ownerOf = (c: SimRequest): Owner => (scope === 'projects' ? projectParam(c, ctx) : groupParam(c, ctx));
  const base = `/${scope}/:id`;
  const fields = scope === 'projects' ? 'project' : 'group';

  const ownLabels = (owner: Owner, withAncestors: boolean): SimLabel[] => state.scoped(state.labels.values(), owner, withAncestors);
  const labelParam = (c: SimRequest): SimLabel => {
    const ref = decodeURIComponent(c.req.param('label_id') ?? '');
    const label = ownLabels(ownerOf(c), true).find((item) => String(item.id) === ref || item.name === ref);
    if (!label) throw notFound('Label');
    return label;
  };

  api.get(`${base}/labels`, async (c) => {
    const p = await Params.of(c);
    const search = p.string('search')?.toLowerCase();
    const labels = ownLabels(ownerOf(c), p.bool('include_ancestor_groups') ?? true)
      .filter((label) => search === undefined || label.name.toLowerCase().includes(search))
      .sort((a, b) => a.name.localeCompare(b.name));
    return c.json(paginate(c, labels).map((label) => labelEntity(state, label, fields)));
  });
  api.get(`${base}/labels/:label_id`, (c) => c.json(labelEntity(state, labelParam(c), fields)));
  api.post(`${base}/labels`, async (c) => {
    const p = await Params.of(c);
    const input = {
      name: p.string('name'),
      color: p.string('color'),
      description: p.nullableString('description'),
      priority: p.int('priority'),
    };
    return c.json(labelEntity(state, createLabel(ctx, currentUser(c), ownerOf(c), input), fields), 201);
  });
  api.put(`${base}/labels/:label_id`, async (c) => {
    const p = await Params.of(c);
    const input = {
      newName: p.string('new_name'),
      color: p.string('color'),
      description: p.nullableString('description'),
      priority: p.optionalId('priority'),
    };
    return c.json(labelEntity(state, updateLabel(ctx, currentUser(c), labelParam(c), input), fields));
  });
  api.delete(`${base}/labels/:label_id`, (c) => {
    deleteLabel(ctx, currentUser(c), labelParam(c));
    return c.body(null, 204);
  });

  const ownMilestones = (owner: Owner, withAncestors: boolean): SimMilestone[] =>
    state.scoped(state.milestones.values(), owner, withAncestors);
  const milestoneParam = (c: SimRequest): SimMilestone => {
    const milestone = ownMilestones(ownerOf(c), true).find((m) => String(m.id) === c.req.param('milestone_id'));
    if (!milestone) throw notFound('Milestone');
    return milestone;
  };
  const milestoneInput = (p: Params): Parameters<typeof createMilestone>[3] => ({
    title: p.string('title'),
    description: p.has('description') ? (p.nullableString('description') ?? null) : undefined,
    dueDate: p.has('due_date') ? (p.nullableString('due_date') ?? null) : undefined,
    startDate: p.has('start_date') ? (p.nullableString('start_date') ?? null) : undefined,
    stateEvent: p.oneOf('state_event', ['close', 'activate'] as const),
  });

  api.get(`${base}/milestones`, async (c) => {
    const p = await Params.of(c);
    const wanted = p.oneOf('state', ['active', 'closed'] as const);
    const title = p.string('title');
    const search = p.string('search')?.toLowerCase();
    const iids = p.ints('iids');
    const milestones = ownMilestones(ownerOf(c), p.bool('include_ancestors') ?? p.bool('include_parent_milestones') ?? false)
      .filter(
        (m) =>
          (wanted === undefined || m.state === wanted) &&
          (title === undefined || m.title === title) &&
          (search === undefined || `${m.title}\n${m.description ?? ''}`.toLowerCase().includes(search)) &&
          (iids === undefined || iids.includes(m.iid)),
      )
      .sort((a, b) => b.id - a.id);
    return c.json(paginate(c, milestones).map((m) => milestoneEntity(state, m)));
  });
  api.get(`${base}/milestones/:milestone_id`, (c) => c.json(milestoneEntity(state, milestoneParam(c))));
  api.post(`${base}/milestones`, async (c) => {
    const p = await Params.of(c);
    return c.json(milestoneEntity(state, createMilestone(ctx, currentUser(c), ownerOf(c), milestoneInput(p))), 201);
  });
  api.put(`${base}/milestones/:milestone_id`, async (c) => {
    const p = await Params.of(c);
    return c.json(milestoneEntity(state, updateMilestone(ctx, currentUser(c), milestoneParam(c), milestoneInput(p))));
  });
  api.get(`${base}/milestones/:milestone_id/issues`, async (c) => {
    const milestone = milestoneParam(c);
    const issues = [...state.issues.values()].filter(
      (issue) => issue.milestoneId === milestone.id && canSeeIssue(state, currentUser(c), issue),
    );
    return c.json(paginate(c, filterWorkItems(state, issues, await Params.of(c), 'issue')).map((issue) => issueEntity(state, issue)));
  });
  api.get(`${base}/milestones/:milestone_id/merge_requests`, async (c) => {
    const milestone = milestoneParam(c);
    const mrs = [...state.mergeRequests.values()].filter(
      (mr) => mr.milestoneId === milestone.id && state.canRead(currentUser(c), state.requireProject(mr.projectId)),
    );
    return c.json(paginate(c, filterWorkItems(state, mrs, await Params.of(c), 'merge_request')).map((mr) => mergeRequestEntity(state, mr)));
  });
}
