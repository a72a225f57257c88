import type { SimContext } from '../context.js';
import { refused } from '../errors.js';
import type { SimMergeRequest, SimUser } from '../model.js';
import { rebaseCommits } from './git.js';
import { authorizePush, moveBranch } from './repository.js';

/**
 * Rebases a merge request's source branch onto its target branch, as GitLab's rebase does (there in
 * the background, here at once): its own commits replayed on the target's head and the branch
 * force-pushed, which fires the push hook and updates the merge request. Needs the right to push the
 * source branch; a protected one refuses the force push. Nothing happens when the branch is up to date.
 */
export function rebaseMergeRequest(ctx: SimContext, actor: SimUser, mr: SimMergeRequest): SimMergeRequest {
  const project = ctx.state.requireProject(mr.projectId);
  authorizePush(ctx, actor, project, mr.sourceBranch);
  if (project.protectedBranches.has(mr.sourceBranch)) throw refused('This merge request branch is protected from force push.');
  const { branches, commits } = project.repository;
  const head = commits.get(branches.get(mr.sourceBranch) ?? '');
  const onto = commits.get(branches.get(mr.targetBranch) ?? '');
  if (!head || !onto) throw refused('Rebase failed: the source or target branch is gone.');
  const rebased = rebaseCommits(ctx, project, head, onto);
  if (rebased.sha !== head.sha) moveBranch(ctx, actor, project, mr.sourceBranch, rebased.sha);
  return mr;
}
