import type { SimContext } from '../context.js';
import { keysetUnavailable } from '../errors.js';
import { type SimApi, type SimRequest, currentUser, idParam, projectParam } from '../http/app.js';
import { filterWorkItems, mergeRequestInput, requireSomeParameter } from '../http/filters.js';
import { paginate } from '../http/pagination.js';
import { Params } from '../http/params.js';
import type { SimMergeRequest, SimProject } from '../model.js';
import { canSeeIssue } from '../ops/access.js';
import {
  approveMergeRequest,
  closingIssues,
  mergeMergeRequest,
  openMergeRequest,
  unapproveMergeRequest,
  updateMergeRequest,
} from '../ops/merge-requests.js';
import { pipelineBasic } from '../present/basic.js';
import { approvalsEntity, issueEntity, mergeRequestEntity, mergeRequestSimple } from '../present/work.js';
import { groupProjectsParam, registerNotes } from './issues.js';

const MR_UPDATE_PARAMS = [
  'title',
  'description',
  'target_branch',
  'labels',
  'add_labels',
  'remove_labels',
  'assignee_id',
  'assignee_ids',
  'reviewer_ids',
  'milestone_id',
  'state_event',
  'remove_source_branch',
  'squash',
  'discussion_locked',
];

function mergeRequestParam(c: SimRequest, ctx: SimContext): SimMergeRequest {
  return ctx.state.requireMergeRequest(projectParam(c, ctx), idParam(c, 'iid'));
}

/**
 * `/projects/:id/merge_requests…`: list, open, show, update, merge, approve, and the issues a merge request closes;
 * `/groups/:id/merge_requests`: the list over the group's projects, subgroups' included.
 */
export function registerMergeRequests(api: SimApi, ctx: SimContext): void {
  const { state } = ctx;
  const show = (c: SimRequest, mr: SimMergeRequest, status: 200 | 201 = 200): Response =>
    c.json(mergeRequestEntity(state, mr, { viewer: currentUser(c) }), status);

  // A project's list and a group's are one list over different projects: same filters, order and pages.
  const list = async (c: SimRequest, projects: readonly SimProject[]): Promise<Response> => {
    const ids = new Set(projects.map((project) => project.id));
    const p = await Params.of(c);
    // Merge request lists are not among GitLab's keyset-paginated resources.
    if (p.string('pagination') === 'keyset') throw keysetUnavailable();
    const mergeRequests = [...state.mergeRequests.values()].filter((mr) => ids.has(mr.projectId));
    const found = paginate(c, filterWorkItems(state, mergeRequests, p, 'merge_request'));
    const labelDetails = p.bool('with_labels_details');
    return c.json(
      found.map((mr) => (p.string('view') === 'simple' ? mergeRequestSimple(state, mr) : mergeRequestEntity(state, mr, { labelDetails }))),
    );
  };

  api.get('/projects/:id/merge_requests', (c) => list(c, [projectParam(c, ctx)]));
  api.get('/groups/:id/merge_requests', (c) => list(c, groupProjectsParam(c, ctx)));

  api.post('/projects/:id/merge_requests', async (c) => {
    const p = await Params.of(c);
    return show(c, openMergeRequest(ctx, currentUser(c), projectParam(c, ctx), mergeRequestInput(p)), 201);
  });

  api.get('/projects/:id/merge_requests/:iid', (c) => show(c, mergeRequestParam(c, ctx)));

  api.put('/projects/:id/merge_requests/:iid', async (c) => {
    const p = await Params.of(c);
    const mr = mergeRequestParam(c, ctx);
    requireSomeParameter(p, MR_UPDATE_PARAMS);
    return show(c, updateMergeRequest(ctx, currentUser(c), mr, mergeRequestInput(p)));
  });

  api.put('/projects/:id/merge_requests/:iid/merge', async (c) => {
    const p = await Params.of(c);
    const mr = mergeRequestParam(c, ctx);
    return show(
      c,
      mergeMergeRequest(ctx, currentUser(c), mr, {
        sha: p.string('sha'),
        squash: p.bool('squash'),
        shouldRemoveSourceBranch: p.bool('should_remove_source_branch'),
        mergeCommitMessage: p.string('merge_commit_message'),
      }),
    );
  });

  api.post('/projects/:id/merge_requests/:iid/approve', async (c) => {
    const p = await Params.of(c);
    const mr = approveMergeRequest(ctx, currentUser(c), mergeRequestParam(c, ctx), p.string('sha'));
    return c.json(approvalsEntity(state, mr, currentUser(c)), 201);
  });

  api.post('/projects/:id/merge_requests/:iid/unapprove', (c) => {
    const mr = unapproveMergeRequest(ctx, currentUser(c), mergeRequestParam(c, ctx));
    return c.json(approvalsEntity(state, mr, currentUser(c)), 201);
  });

  api.get('/projects/:id/merge_requests/:iid/approvals', (c) => c.json(approvalsEntity(state, mergeRequestParam(c, ctx), currentUser(c))));

  api.get('/projects/:id/merge_requests/:iid/closes_issues', (c) => {
    const issues = closingIssues(state, mergeRequestParam(c, ctx)).filter((issue) => canSeeIssue(state, currentUser(c), issue));
    return c.json(paginate(c, issues).map((issue) => issueEntity(state, issue)));
  });

  api.get('/projects/:id/merge_requests/:iid/pipelines', (c) => {
    const mr = mergeRequestParam(c, ctx);
    const pipelines = state
      .pipelinesOf(state.requireProject(mr.projectId))
      .filter((pipeline) => pipeline.mergeRequestId === mr.id || (pipeline.ref === mr.sourceBranch && pipeline.sha === mr.sha))
      .reverse();
    return c.json(paginate(c, pipelines).map((pipeline) => pipelineBasic(state, pipeline)));
  });

  registerNotes(api, ctx, 'merge_requests', mergeRequestParam);
}
