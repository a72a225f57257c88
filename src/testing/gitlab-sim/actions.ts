import type { SimContext } from './context.js';
import { notFound } from './errors.js';
import {
  ACCESS_LEVELS,
  type AccessLevel,
  type AccessRole,
  type Membership,
  type PipelineStatus,
  type SimCommit,
  type SimDeployment,
  type SimIssue,
  type SimMergeRequest,
  type SimMilestone,
  type SimNote,
  type SimPipeline,
  type SimProject,
  type SimUser,
} from './model.js';
import { createPipeline, requireStatus, setPipelineStatus } from './ops/ci.js';
import { createDeployment } from './ops/deployments.js';
import { replyToDiscussion } from './ops/discussions.js';
import { type IssueInput, createIssue, updateIssue } from './ops/issues.js';
import {
  type MergeInput,
  approveMergeRequest,
  mergeMergeRequest,
  openMergeRequest,
  unapproveMergeRequest,
  updateMergeRequest,
} from './ops/merge-requests.js';
import { moveIssue } from './ops/move-issue.js';
import { type PostedNote, createNote } from './ops/notes.js';
import { createMilestone, setMembership, updateMilestone } from './ops/planning.js';
import { commitFiles } from './ops/repository.js';

/** Project or group, by id or full path. */
export type Ref = number | string;
/** The issue or merge request (by iid) a note or thread is on. */
export type NoteTarget = { issue: number } | { mergeRequest: number };

/** Issue fields in the words a test uses: usernames and a milestone title instead of ids. */
export interface IssueChange {
  title?: string;
  description?: string | null;
  /** Replaces every label. */
  labels?: string[];
  addLabels?: string[];
  removeLabels?: string[];
  assignees?: string[];
  /** Milestone title, or null to remove it. */
  milestone?: string | null;
  confidential?: boolean;
  dueDate?: string | null;
  state?: 'close' | 'reopen';
}

export interface MergeRequestOpening {
  sourceBranch: string;
  /** @default the default branch */
  targetBranch?: string;
  title: string;
  description?: string;
  labels?: string[];
  assignees?: string[];
  reviewers?: string[];
  milestone?: string;
  /** Pushed to the source branch first (creating it from the target) — a change to review. */
  files?: Record<string, string>;
  removeSourceBranch?: boolean;
}

/**
 * Things happening in GitLab as a user would make them happen: each goes through the same
 * operation as the REST API (permissions, scoped labels, webhooks, audit events). Actors are
 * usernames; `setPipelineStatus` acts as the runner, on behalf of the pipeline's user.
 */
export interface SimActions {
  createIssue(actor: string, project: Ref, change: IssueChange & { title: string }): SimIssue;
  updateIssue(actor: string, project: Ref, iid: number, change: IssueChange): SimIssue;
  closeIssue(actor: string, project: Ref, iid: number): SimIssue;
  reopenIssue(actor: string, project: Ref, iid: number): SimIssue;
  /** Labels an issue (`iid` is an issue's); a merge request: `addMergeRequestLabels`. */
  addLabels(actor: string, project: Ref, iid: number, labels: string[]): SimIssue;
  removeLabels(actor: string, project: Ref, iid: number, labels: string[]): SimIssue;
  setMilestone(actor: string, project: Ref, iid: number, milestone: string | null): SimIssue;
  openMergeRequest(actor: string, project: Ref, opening: MergeRequestOpening): SimMergeRequest;
  updateMergeRequest(actor: string, project: Ref, iid: number, change: IssueChange & { reviewers?: string[] }): SimMergeRequest;
  closeMergeRequest(actor: string, project: Ref, iid: number): SimMergeRequest;
  reopenMergeRequest(actor: string, project: Ref, iid: number): SimMergeRequest;
  /** `addLabels` of a merge request: `addLabels` takes an issue's iid. */
  addMergeRequestLabels(actor: string, project: Ref, iid: number, labels: string[]): SimMergeRequest;
  removeMergeRequestLabels(actor: string, project: Ref, iid: number, labels: string[]): SimMergeRequest;
  addReviewer(actor: string, project: Ref, iid: number, reviewer: string): SimMergeRequest;
  /** Its webhook's action is `approved`, as GitLab Free sends it for every approval (docs/gitlab-events.md). */
  approveMergeRequest(actor: string, project: Ref, iid: number): SimMergeRequest;
  /** Takes back the actor's approval (`POST …/unapprove`); its webhook's action is `unapproved`. */
  unapproveMergeRequest(actor: string, project: Ref, iid: number): SimMergeRequest;
  mergeMergeRequest(actor: string, project: Ref, iid: number, options?: MergeInput): SimMergeRequest;
  /**
   * Comments; quick actions in `body` run as in GitLab (`/label ~bug`, `/close`…). Null when the body
   * held only quick actions: GitLab runs them and saves no note.
   */
  createNote(actor: string, project: Ref, on: NoteTarget, body: string, options?: { internal?: boolean }): SimNote | null;
  /**
   * Starts a thread (`POST …/discussions`); its `discussionId` is what `reply` takes. Quick actions run
   * as in `createNote`; a body of quick actions only starts no thread, so it throws (use `createNote`).
   */
  startThread(actor: string, project: Ref, on: NoteTarget, body: string, options?: { internal?: boolean }): SimNote;
  /** Replies in a thread, or to a comment, which makes it a thread (`POST …/discussions/:id/notes`). Throws as `startThread` does. */
  reply(actor: string, project: Ref, on: NoteTarget, discussionId: string, body: string): SimNote;
  /** Moves an issue to another project (`POST …/issues/:iid/move`); returns the new issue. */
  moveIssue(actor: string, project: Ref, iid: number, to: Ref): SimIssue;
  /** Commits `files` (null deletes one) to `branch`, creating it from `startBranch` when needed. */
  push(
    actor: string,
    project: Ref,
    push: { branch: string; files: Record<string, string | null>; message?: string; startBranch?: string },
  ): SimCommit;
  createPipeline(actor: string, project: Ref, ref: string): SimPipeline;
  setPipelineStatus(project: Ref, id: number, status: PipelineStatus): SimPipeline;
  createMilestone(
    actor: string,
    owner: { project: Ref } | { group: Ref },
    title: string,
    options?: { dueDate?: string; startDate?: string; description?: string },
  ): SimMilestone;
  closeMilestone(actor: string, owner: { project: Ref } | { group: Ref }, title: string): SimMilestone;
  deploy(actor: string, project: Ref, deployment: { environment: string; status: SimDeployment['status']; ref?: string }): SimDeployment;
  setMember(
    actor: string,
    target: { project: Ref } | { group: Ref },
    username: string,
    role: AccessRole | AccessLevel | null,
  ): Membership | null;
}

/** The note a thread action saved; one of quick actions only saves none, which the caller's thread cannot do without. */
function savedNote(action: string, posted: PostedNote): SimNote {
  if (posted.note) return posted.note;
  throw new TypeError(
    `${action}: the body held only quick actions, which GitLab runs without saving a note (${posted.commands?.summary.join(' ') || 'nothing applied'}); use createNote for that`,
  );
}

export function createActions(ctx: SimContext): SimActions {
  const { state } = ctx;
  const user = (username: string): SimUser => state.requireUser(username);
  const project = (ref: Ref): SimProject => state.requireProject(ref);
  const owner = (target: { project: Ref } | { group: Ref }) =>
    'project' in target ? project(target.project) : state.requireGroup(target.group);
  const ids = (usernames: string[] | undefined): number[] | undefined => usernames?.map((name) => user(name).id);
  const milestoneId = (where: SimProject, title: string | null | undefined): number | null | undefined => {
    if (title === undefined || title === null) return title;
    const milestone = state.availableMilestones(where).find((m) => m.title === title);
    if (!milestone) throw notFound('Milestone');
    return milestone.id;
  };
  const issueInput = (where: SimProject, change: IssueChange): IssueInput => ({
    title: change.title,
    description: change.description,
    labels: change.labels,
    addLabels: change.addLabels,
    removeLabels: change.removeLabels,
    assigneeIds: ids(change.assignees),
    milestoneId: milestoneId(where, change.milestone),
    confidential: change.confidential,
    dueDate: change.dueDate,
    stateEvent: change.state,
  });
  const issue = (ref: Ref, iid: number): SimIssue => state.requireIssue(project(ref), iid);
  const mergeRequest = (ref: Ref, iid: number): SimMergeRequest => state.requireMergeRequest(project(ref), iid);
  const noteable = (ref: Ref, on: NoteTarget): SimIssue | SimMergeRequest =>
    'issue' in on ? issue(ref, on.issue) : mergeRequest(ref, on.mergeRequest);
  const findMilestone = (where: { project: Ref } | { group: Ref }, title: string): SimMilestone => {
    const target = owner(where);
    const kind = 'repository' in target ? 'project' : 'group';
    const milestone = [...state.milestones.values()].find((m) => m.owner.kind === kind && m.owner.id === target.id && m.title === title);
    if (!milestone) throw notFound('Milestone');
    return milestone;
  };

  const actions: SimActions = {
    createIssue: (actor, ref, change) => createIssue(ctx, user(actor), project(ref), issueInput(project(ref), change)),
    updateIssue: (actor, ref, iid, change) => updateIssue(ctx, user(actor), issue(ref, iid), issueInput(project(ref), change)),
    closeIssue: (actor, ref, iid) => actions.updateIssue(actor, ref, iid, { state: 'close' }),
    reopenIssue: (actor, ref, iid) => actions.updateIssue(actor, ref, iid, { state: 'reopen' }),
    addLabels: (actor, ref, iid, labels) => actions.updateIssue(actor, ref, iid, { addLabels: labels }),
    removeLabels: (actor, ref, iid, labels) => actions.updateIssue(actor, ref, iid, { removeLabels: labels }),
    setMilestone: (actor, ref, iid, milestone) => actions.updateIssue(actor, ref, iid, { milestone }),
    openMergeRequest(actor, ref, opening) {
      const where = project(ref);
      const target = opening.targetBranch ?? where.defaultBranch;
      if (opening.files)
        actions.push(actor, ref, { branch: opening.sourceBranch, startBranch: target, files: opening.files, message: opening.title });
      return openMergeRequest(ctx, user(actor), where, {
        ...issueInput(where, opening),
        sourceBranch: opening.sourceBranch,
        targetBranch: target,
        reviewerIds: ids(opening.reviewers),
        removeSourceBranch: opening.removeSourceBranch,
      });
    },
    updateMergeRequest: (actor, ref, iid, change) =>
      updateMergeRequest(ctx, user(actor), mergeRequest(ref, iid), {
        ...issueInput(project(ref), change),
        reviewerIds: ids(change.reviewers),
      }),
    closeMergeRequest: (actor, ref, iid) => actions.updateMergeRequest(actor, ref, iid, { state: 'close' }),
    reopenMergeRequest: (actor, ref, iid) => actions.updateMergeRequest(actor, ref, iid, { state: 'reopen' }),
    addMergeRequestLabels: (actor, ref, iid, labels) => actions.updateMergeRequest(actor, ref, iid, { addLabels: labels }),
    removeMergeRequestLabels: (actor, ref, iid, labels) => actions.updateMergeRequest(actor, ref, iid, { removeLabels: labels }),
    addReviewer(actor, ref, iid, reviewer) {
      const mr = mergeRequest(ref, iid);
      return updateMergeRequest(ctx, user(actor), mr, { reviewerIds: [...mr.reviewerIds, user(reviewer).id] });
    },
    approveMergeRequest: (actor, ref, iid) => approveMergeRequest(ctx, user(actor), mergeRequest(ref, iid)),
    unapproveMergeRequest: (actor, ref, iid) => unapproveMergeRequest(ctx, user(actor), mergeRequest(ref, iid)),
    mergeMergeRequest: (actor, ref, iid, options) => mergeMergeRequest(ctx, user(actor), mergeRequest(ref, iid), options),
    createNote: (actor, ref, on, body, options) => createNote(ctx, user(actor), noteable(ref, on), body, options?.internal ?? false).note,
    startThread: (actor, ref, on, body, options) =>
      savedNote('startThread', createNote(ctx, user(actor), noteable(ref, on), body, options?.internal ?? false, { kind: 'thread' })),
    reply: (actor, ref, on, discussionId, body) =>
      savedNote('reply', replyToDiscussion(ctx, user(actor), noteable(ref, on), discussionId, body)),
    moveIssue: (actor, ref, iid, to) => moveIssue(ctx, user(actor), issue(ref, iid), project(to)),
    push(actor, ref, push) {
      const where = project(ref);
      const { branches, commits } = where.repository;
      const head = commits.get(branches.get(push.branch) ?? branches.get(push.startBranch ?? where.defaultBranch) ?? '');
      return commitFiles(ctx, user(actor), where, {
        branch: push.branch,
        startBranch: push.startBranch,
        message: push.message ?? `Update ${Object.keys(push.files).join(', ')}`,
        actions: Object.entries(push.files).map(([path, content]) =>
          content === null
            ? { action: 'delete' as const, path }
            : { action: head?.tree.has(path) ? ('update' as const) : ('create' as const), path, content },
        ),
      });
    },
    createPipeline: (actor, ref, gitRef) => createPipeline(ctx, user(actor), project(ref), { ref: gitRef, source: 'web' }),
    setPipelineStatus(ref, id, status) {
      const pipeline = state.requirePipeline(project(ref), id);
      return setPipelineStatus(ctx, state.requireUser(pipeline.userId), pipeline, requireStatus(status));
    },
    createMilestone: (actor, where, title, options) => createMilestone(ctx, user(actor), owner(where), { title, ...options }),
    closeMilestone: (actor, where, title) => updateMilestone(ctx, user(actor), findMilestone(where, title), { stateEvent: 'close' }),
    deploy(actor, ref, deployment) {
      const where = project(ref);
      const gitRef = deployment.ref ?? where.defaultBranch;
      const sha = where.repository.branches.get(gitRef) ?? gitRef;
      return createDeployment(ctx, user(actor), where, {
        environment: deployment.environment,
        sha,
        ref: gitRef,
        tag: where.repository.tags.has(gitRef),
        status: deployment.status,
      });
    },
    setMember: (actor, target, username, role) =>
      setMembership(
        ctx,
        user(actor),
        owner(target),
        user(username),
        role === null ? null : typeof role === 'number' ? role : ACCESS_LEVELS[role],
      ),
  };
  return actions;
}
