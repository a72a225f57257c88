import { z } from 'zod';
import { type ActionArgument, argumentProblems, fields } from './action-arguments.js';
import type { SimActions } from './actions.js';
import type { SimIssue, SimMergeRequest } from './model.js';
import { milestoneEntity } from './present/basic.js';
import { deploymentEntity, pipelineDetail } from './present/ci.js';
import { memberEntity } from './present/people.js';
import { commitDetail } from './present/repo.js';
import { approvalsEntity, issueEntity, mergeRequestEntity, noteEntity } from './present/work.js';
import type { SimState } from './state.js';

/**
 * The actions a running server's simulator offers outside its process — `autoflow simulate` and
 * `/api/v1/simulator` — with the arguments each takes, and its answer in the shape GitLab's REST API gives
 * the request that makes the same change (not the simulator's records, whose ids and epoch times are its own).
 */

const actor: ActionArgument = ['actor', 'text'];
const project: ActionArgument = ['project', 'text'];
// Issues and merge requests are numbered apart (#2 and !2 are two things): each action says which it takes.
const issueIid: ActionArgument = ['issue-iid', 'number'];
const mrIid: ActionArgument = ['mr-iid', 'number'];
const labelList: ActionArgument = ['["label", …]', 'list'];

const text = z.string('text');
const names = z.array(text, 'a JSON list of names');
const boolean = z.boolean('true or false');
const workItemChange = {
  title: text.optional(),
  description: text.nullable().optional(),
  labels: names.optional(),
  addLabels: names.optional(),
  removeLabels: names.optional(),
  assignees: names.optional(),
  milestone: text.nullable().optional(),
  state: z.enum(['close', 'reopen'], '"close" or "reopen"').optional(),
};
const issueChange = {
  ...workItemChange,
  confidential: boolean.optional(),
  dueDate: z.iso.date('a date, YYYY-MM-DD').nullable().optional(),
};
const owner = z.union([fields({ project: text }), fields({ group: text })], 'must be {"project": …} or {"group": …}');
const files = z.record(text, text, 'a JSON object of path: content');

interface CatalogEntry<Result> {
  /** What it takes, in order. */
  readonly args: readonly ActionArgument[];
  /** Its result as the REST API answers the request that makes the same change; `args` were checked. */
  present(state: SimState, result: Result, args: readonly unknown[]): unknown;
}
type Catalog = { readonly [Name in keyof SimActions]?: CatalogEntry<ReturnType<SimActions[Name]>> };

/** The acting user, who views the answer (GitLab adds `subscribed`, `user.can_merge`… for them). */
const viewer = (state: SimState, args: readonly unknown[]) => ({ viewer: state.requireUser(args[0] as string) });
const asIssue = (state: SimState, issue: SimIssue, args: readonly unknown[]) => issueEntity(state, issue, viewer(state, args));
const asMergeRequest = (state: SimState, mr: SimMergeRequest, args: readonly unknown[]) =>
  mergeRequestEntity(state, mr, viewer(state, args));
/** `POST …/approve` and `…/unapprove` answer with the approval state. */
const asApprovals = (state: SimState, mr: SimMergeRequest, args: readonly unknown[]) =>
  approvalsEntity(state, mr, state.requireUser(args[0] as string));

const CATALOG = {
  createIssue: {
    args: [actor, project, ['{"title":…, "labels"?: [...], "milestone"?: …}', fields({ ...issueChange, title: text })]],
    present: asIssue,
  },
  updateIssue: {
    args: [actor, project, issueIid, ['{"addLabels"?: [...], "milestone"?: …, "state"?: "close"}', fields(issueChange)]],
    present: asIssue,
  },
  closeIssue: { args: [actor, project, issueIid], present: asIssue },
  reopenIssue: { args: [actor, project, issueIid], present: asIssue },
  addLabels: { args: [actor, project, issueIid, labelList], present: asIssue },
  removeLabels: { args: [actor, project, issueIid, labelList], present: asIssue },
  setMilestone: { args: [actor, project, issueIid, ['"Milestone title" (or null)', 'text or null']], present: asIssue },
  openMergeRequest: {
    args: [
      actor,
      project,
      [
        '{"sourceBranch":…, "title":…, "description"?: "Closes #1", "files"?: {path: content}} (files create the branch; or push first)',
        fields({
          sourceBranch: text,
          targetBranch: text.optional(),
          title: text,
          description: text.optional(),
          labels: names.optional(),
          assignees: names.optional(),
          reviewers: names.optional(),
          milestone: text.optional(),
          files: files.optional(),
          removeSourceBranch: boolean.optional(),
        }),
      ],
    ],
    present: asMergeRequest,
  },
  updateMergeRequest: {
    args: [
      actor,
      project,
      mrIid,
      [
        '{"addLabels"?: [...], "reviewers"?: [...], "title"?: …, "state"?: "close"}',
        fields({ ...workItemChange, reviewers: names.optional() }),
      ],
    ],
    present: asMergeRequest,
  },
  closeMergeRequest: { args: [actor, project, mrIid], present: asMergeRequest },
  reopenMergeRequest: { args: [actor, project, mrIid], present: asMergeRequest },
  addMergeRequestLabels: { args: [actor, project, mrIid, labelList], present: asMergeRequest },
  removeMergeRequestLabels: { args: [actor, project, mrIid, labelList], present: asMergeRequest },
  addReviewer: { args: [actor, project, mrIid, ['reviewer', 'text']], present: asMergeRequest },
  approveMergeRequest: { args: [actor, project, mrIid], present: asApprovals },
  unapproveMergeRequest: { args: [actor, project, mrIid], present: asApprovals },
  mergeMergeRequest: { args: [actor, project, mrIid], present: asMergeRequest },
  createNote: {
    args: [
      actor,
      project,
      [
        '{"issue": iid} or {"mergeRequest": iid}',
        z.union(
          [fields({ issue: z.int('an iid') }), fields({ mergeRequest: z.int('an iid') })],
          'must be {"issue": iid} or {"mergeRequest": iid}',
        ),
      ],
      ['body (quick actions run as in GitLab: /label ~bug, /close…; a body of only quick actions saves no note: result null)', 'text'],
    ],
    present: (state, note) => (note === null ? null : noteEntity(state, note)),
  },
  push: {
    args: [
      actor,
      project,
      [
        '{"branch":…, "files": {path: content}, "message"?: …}',
        fields({
          branch: text,
          files: z.record(text, text.nullable(), 'a JSON object of path: content (or null to delete)'),
          message: text.optional(),
          startBranch: text.optional(),
        }),
      ],
    ],
    present: (state, commit, args) => commitDetail(state, state.requireProject(args[1] as string), commit),
  },
  createPipeline: { args: [actor, project, ['ref', 'text']], present: pipelineDetail },
  setPipelineStatus: {
    args: [project, ['pipelineId', 'number'], ['status (running, success, failed, canceled…)', 'text']],
    present: pipelineDetail,
  },
  moveIssue: { args: [actor, project, issueIid, ['target project', 'text']], present: asIssue },
  createMilestone: { args: [actor, ['{"project": …} or {"group": …}', owner], ['title', 'text']], present: milestoneEntity },
  closeMilestone: { args: [actor, ['{"project": …} or {"group": …}', owner], ['title', 'text']], present: milestoneEntity },
  deploy: {
    args: [
      actor,
      project,
      [
        '{"environment":…, "status": "success" (or running, failed…), "ref"?: …}',
        fields({
          environment: text,
          status: z.enum(
            ['created', 'running', 'success', 'failed', 'canceled', 'skipped', 'blocked'],
            'created, running, success, failed, canceled, skipped or blocked',
          ),
          ref: text.optional(),
        }),
      ],
    ],
    present: deploymentEntity,
  },
  setMember: {
    args: [
      actor,
      ['{"project": …} or {"group": …}', owner],
      ['username', 'text'],
      ['role (guest, reporter, developer, maintainer, owner) or null', 'text or null'],
    ],
    // A removal answers nothing (`DELETE …/members/:id` is a 204).
    present(state, membership, [, target, username]) {
      if (membership === null) return null;
      const where = target as { project: string } | { group: string };
      const source =
        'project' in where
          ? { kind: 'project' as const, id: state.requireProject(where.project).id }
          : { kind: 'group' as const, id: state.requireGroup(where.group).id };
      return memberEntity(state, { user: state.requireUser(username as string), membership, source });
    },
  },
} satisfies Catalog;

/** The name of an action `autoflow simulate` may call. */
export type SimulatorActionName = keyof typeof CATALOG;

/**
 * Each action's arguments as one line, in the catalog's order, as `GET /api/v1/simulator` lists them and
 * `autoflow simulate --help` shows them.
 */
export const SIMULATOR_ACTIONS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(CATALOG).map(([name, entry]) => [name, entry.args.map(([shown]) => shown).join(' ')])),
);

export function isSimulatorAction(name: string): name is SimulatorActionName {
  return Object.hasOwn(CATALOG, name);
}

/** Every argument that is missing, extra or not what the action takes, in words; none when they are right. */
export function simulatorActionProblems(name: SimulatorActionName, args: readonly unknown[]): string[] {
  return argumentProblems(CATALOG[name].args, args);
}

/** Calls the action with arguments `simulatorActionProblems` found nothing wrong with; throws what GitLab refused. */
export function callSimulatorAction(actions: SimActions, name: SimulatorActionName, args: readonly unknown[]): unknown {
  return (actions[name] as (this: void, ...values: readonly unknown[]) => unknown)(...args);
}

/** An action's result as GitLab's REST API answers the request that makes the same change. */
export function presentSimulatorResult(state: SimState, name: SimulatorActionName, args: readonly unknown[], result: unknown): unknown {
  return (CATALOG[name] as CatalogEntry<unknown>).present(state, result, args);
}
