import type { SimContext } from '../context.js';
import { notFound } from '../errors.js';
import { gitSha } from '../format.js';
import type { SimCommit, SimProject } from '../model.js';

/** The repository as git sees it: objects and refs, no permissions and no hooks. */

/** The path of the file that makes GitLab run pipelines on push. */
export const CI_CONFIG = '.gitlab-ci.yml';

/** A branch name, tag name or commit sha (7 characters or more), as `ref` parameters accept. */
export function resolveRef(project: SimProject, ref: string): SimCommit | undefined {
  const { repository } = project;
  const sha = repository.branches.get(ref) ?? repository.tags.get(ref)?.sha ?? ref;
  return repository.commits.get(sha) ?? [...repository.commits.values()].find((commit) => ref.length >= 7 && commit.sha.startsWith(ref));
}

export function requireRef(project: SimProject, ref: string): SimCommit {
  const commit = resolveRef(project, ref);
  if (!commit) throw notFound('Commit');
  return commit;
}

/**
 * Commits reachable from `sha`, newest first, as `git log` lists them. Breadth-first from the head
 * rather than by date: under a virtual clock many commits share one instant.
 */
export function history(project: SimProject, sha: string): SimCommit[] {
  const seen = new Set<string>();
  const queue = [sha];
  const out: SimCommit[] = [];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const commit = project.repository.commits.get(next);
    if (!commit || seen.has(next)) continue;
    seen.add(next);
    out.push(commit);
    queue.push(...commit.parentShas);
  }
  return out;
}

/** Writes a commit object without moving any ref. */
export function writeCommit(
  ctx: SimContext,
  project: SimProject,
  parents: string[],
  tree: Map<string, string>,
  message: string,
  author: { name: string; email: string },
): SimCommit {
  const createdAt = ctx.state.now();
  // The sequence number keeps two identical commits in one virtual instant distinct.
  const sha = gitSha(
    String(project.id),
    parents.join(','),
    message,
    String(createdAt),
    String(ctx.state.nextId('commit')),
    ...[...tree].flat(),
  );
  const commit: SimCommit = { sha, parentShas: parents, message, authorName: author.name, authorEmail: author.email, createdAt, tree };
  project.repository.commits.set(sha, commit);
  return commit;
}

/**
 * The tree of a merge: `ours` plus every change `theirs` made since the merge base. The
 * simulator has no conflicts; when both sides changed a file, theirs wins.
 */
export function mergeTrees(project: SimProject, ours: SimCommit, theirs: SimCommit): Map<string, string> {
  const ancestors = new Set(history(project, ours.sha).map((commit) => commit.sha));
  const base = history(project, theirs.sha).find((commit) => ancestors.has(commit.sha));
  const baseTree = base?.tree ?? new Map<string, string>();
  const tree = new Map(ours.tree);
  for (const [path, content] of theirs.tree) if (baseTree.get(path) !== content) tree.set(path, content);
  for (const path of baseTree.keys()) if (!theirs.tree.has(path)) tree.delete(path);
  return tree;
}

/** Whether `commit` changed `path` against its first parent. */
export function touches(project: SimProject, commit: SimCommit, path: string): boolean {
  const parent = commit.parentShas[0] === undefined ? undefined : project.repository.commits.get(commit.parentShas[0]);
  return parent?.tree.get(path) !== commit.tree.get(path);
}

/**
 * `git rebase onto`: the commits of `head` that `onto` lacks, oldest first, written again on top of
 * `onto` with the same messages and authors, each carrying its own change. Merge commits are dropped,
 * as `git rebase` drops them. Returns the new head: `head` itself when it already contains `onto`.
 */
export function rebaseCommits(ctx: SimContext, project: SimProject, head: SimCommit, onto: SimCommit): SimCommit {
  const { commits } = project.repository;
  const mine = history(project, head.sha);
  if (mine.some((commit) => commit.sha === onto.sha)) return head;
  const inOnto = new Set(history(project, onto.sha).map((commit) => commit.sha));
  const own = mine.filter((commit) => !inOnto.has(commit.sha) && commit.parentShas.length === 1).reverse();
  let base = onto;
  for (const commit of own) {
    const parentTree = commits.get(commit.parentShas[0] ?? '')?.tree ?? new Map<string, string>();
    const tree = new Map(base.tree);
    for (const [path, content] of commit.tree) if (parentTree.get(path) !== content) tree.set(path, content);
    for (const path of parentTree.keys()) if (!commit.tree.has(path)) tree.delete(path);
    base = writeCommit(ctx, project, [base.sha], tree, commit.message, { name: commit.authorName, email: commit.authorEmail });
  }
  return base;
}
