import { CAN, type SimContext, authorize, publish } from '../context.js';
import { badRequest, conflict, forbidden, notFound, refused } from '../errors.js';
import { mergeRequestHook } from '../hooks/attributes.js';
import { pushEvent } from '../hooks/ci-events.js';
import { mergeRequestEvent, releaseEvent } from '../hooks/events.js';
import type { SimCommit, SimMilestone, SimProject, SimRelease, SimUser } from '../model.js';
import { canPush } from './access.js';
import { createPipeline } from './ci.js';
import { CI_CONFIG, history, resolveRef, writeCommit } from './git.js';

export interface FileAction {
  action: 'create' | 'update' | 'delete';
  path: string;
  content?: string;
}

export interface CommitInput {
  branch: string;
  /** Branch to start from when `branch` does not exist yet. @default the default branch */
  startBranch?: string | undefined;
  message: string;
  actions: FileAction[];
  authorName?: string | undefined;
  authorEmail?: string | undefined;
}

/** Pushing needs Developer, and the branch's push level when it is protected (`canPush`). */
export function authorizePush(ctx: SimContext, actor: SimUser, project: SimProject, branch: string): void {
  authorize(ctx.state, actor, project, CAN.develop);
  if (!canPush(ctx.state, actor, project, branch)) throw forbidden();
}

/**
 * Moves a branch and tells the world as a `git push` would: push hook, merge requests from the
 * branch updated, and a pipeline when the project has CI configured.
 */
export function moveBranch(ctx: SimContext, actor: SimUser, project: SimProject, branch: string, to: string | null): void {
  const { state } = ctx;
  const { repository } = project;
  const before = repository.branches.get(branch) ?? null;
  if (to === null) repository.branches.delete(branch);
  else repository.branches.set(branch, to);
  const known = before === null ? new Set<string>() : new Set(history(project, before).map((commit) => commit.sha));
  const added =
    to === null
      ? []
      : history(project, to)
          .filter((commit) => !known.has(commit.sha))
          .reverse();
  publish(ctx, { actor, on: project, hook: pushEvent(state, actor, project, `refs/heads/${branch}`, before, to, added) });
  if (to === null) return;
  for (const mr of state.mergeRequestsOf(project)) {
    if (mr.state !== 'opened' || mr.sourceBranch !== branch) continue;
    const beforeHook = mergeRequestHook(state, mr);
    mr.updatedAt = state.now();
    mr.sha = to;
    // GitLab tells merge request hooks about new commits with `oldrev`, the previous head.
    publish(ctx, { actor, on: project, hook: mergeRequestEvent(state, actor, mr, 'update', beforeHook, before ?? undefined) });
  }
  const head = repository.commits.get(to);
  if (head?.tree.has(CI_CONFIG)) createPipeline(ctx, actor, project, { ref: branch, source: 'push', beforeSha: before });
}

export function commitFiles(ctx: SimContext, actor: SimUser, project: SimProject, input: CommitInput): SimCommit {
  authorizePush(ctx, actor, project, input.branch);
  const { repository } = project;
  const start = repository.branches.get(input.branch) ?? repository.branches.get(input.startBranch ?? project.defaultBranch);
  if (start === undefined && repository.branches.size > 0) throw badRequest('You can only create or edit files when you are on a branch');
  const tree = new Map(start === undefined ? [] : (repository.commits.get(start)?.tree ?? []));
  for (const change of input.actions) {
    const exists = tree.has(change.path);
    if (change.action === 'create' && exists) throw refused('A file with this name already exists');
    if (change.action !== 'create' && !exists) throw refused("A file with this name doesn't exist");
    if (change.action === 'delete') tree.delete(change.path);
    else tree.set(change.path, change.content ?? '');
  }
  const commit = writeCommit(ctx, project, start === undefined ? [] : [start], tree, input.message, {
    name: input.authorName ?? actor.name,
    email: input.authorEmail ?? actor.email,
  });
  moveBranch(ctx, actor, project, input.branch, commit.sha);
  return commit;
}

export function createBranch(ctx: SimContext, actor: SimUser, project: SimProject, name: string, ref: string): SimCommit {
  authorizePush(ctx, actor, project, name);
  if (project.repository.branches.has(name)) throw refused('Branch already exists');
  const commit = resolveRef(project, ref);
  if (!commit) throw refused('Invalid reference name');
  moveBranch(ctx, actor, project, name, commit.sha);
  return commit;
}

export function deleteBranch(ctx: SimContext, actor: SimUser, project: SimProject, name: string): void {
  authorizePush(ctx, actor, project, name);
  if (!project.repository.branches.has(name)) throw notFound('Branch');
  if (name === project.defaultBranch) throw refused('The default branch can not be deleted');
  moveBranch(ctx, actor, project, name, null);
}

export function createTag(
  ctx: SimContext,
  actor: SimUser,
  project: SimProject,
  name: string,
  ref: string,
  message: string | null,
): SimCommit {
  authorize(ctx.state, actor, project, CAN.develop);
  if (project.repository.tags.has(name)) throw refused(`Tag ${name} already exists`);
  const commit = resolveRef(project, ref);
  if (!commit) throw refused('Target ' + ref + ' is invalid');
  project.repository.tags.set(name, { name, sha: commit.sha, message, createdAt: ctx.state.now() });
  publish(ctx, { actor, on: project, hook: pushEvent(ctx.state, actor, project, `refs/tags/${name}`, null, commit.sha, []) });
  return commit;
}

export interface ReleaseInput {
  tagName?: string | undefined;
  name?: string | undefined;
  description?: string | undefined;
  /** Where to create the tag when it does not exist yet. */
  ref?: string | undefined;
  /** Milestone titles. */
  milestones?: string[] | undefined;
}

export function createRelease(ctx: SimContext, actor: SimUser, project: SimProject, input: ReleaseInput): SimRelease {
  const { state } = ctx;
  authorize(state, actor, project, CAN.develop);
  const tagName = input.tagName;
  if (tagName === undefined) throw badRequest('tag_name is missing');
  if (state.releases.some((release) => release.projectId === project.id && release.tagName === tagName))
    throw conflict('Release already exists');
  const available = state.availableMilestones(project);
  const milestones = (input.milestones ?? []).map((title) => available.find((m) => m.title === title) ?? title);
  const missing = milestones.filter((m): m is string => typeof m === 'string');
  if (missing.length > 0) throw refused(`Milestone(s) not found: ${missing.join(', ')}`);
  if (!project.repository.tags.has(tagName)) {
    if (input.ref === undefined) throw refused('Ref is not specified');
    createTag(ctx, actor, project, tagName, input.ref, null);
  }
  const now = state.now();
  const release: SimRelease = {
    projectId: project.id,
    tagName,
    name: input.name ?? tagName,
    description: input.description ?? '',
    authorId: actor.id,
    milestoneIds: milestones.map((m) => (m as SimMilestone).id),
    createdAt: now,
    releasedAt: now,
  };
  state.releases.push(release);
  publish(ctx, { actor, on: project, audit: 'release_created', details: { tag: tagName }, hook: releaseEvent(state, release, 'create') });
  return release;
}
