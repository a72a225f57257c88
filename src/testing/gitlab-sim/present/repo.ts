import { restTime } from '../format.js';
import type { SimCommit, SimProject, SimRelease, SimTag } from '../model.js';
import type { SimState } from '../state.js';
import { archiveSources } from '../hooks/attributes.js';
import { type Entity, commitBasic, milestoneEntity, pipelineBasic, userOrNull } from './basic.js';

/** REST entities for the repository: commits, branches, files, tags, releases. */

/** Lines added and removed against the first parent, counted per whole line as `git diff --stat` would roughly. */
function stats(project: SimProject, commit: SimCommit): { additions: number; deletions: number; total: number } {
  const parent = commit.parentShas[0] === undefined ? undefined : project.repository.commits.get(commit.parentShas[0]);
  let additions = 0;
  let deletions = 0;
  for (const path of new Set([...commit.tree.keys(), ...(parent?.tree.keys() ?? [])])) {
    const before = parent?.tree.get(path)?.split('\n') ?? [];
    const after = commit.tree.get(path)?.split('\n') ?? [];
    if (before.join('\n') === after.join('\n')) continue;
    const kept = new Set(before);
    additions += after.filter((line) => !kept.has(line)).length;
    deletions += before.filter((line) => !after.includes(line)).length;
  }
  return { additions, deletions, total: additions + deletions };
}

export function commitDetail(state: SimState, project: SimProject, commit: SimCommit): Entity {
  const last = state
    .pipelinesOf(project)
    .filter((pipeline) => pipeline.sha === commit.sha)
    .at(-1);
  return {
    ...commitBasic(state, project, commit),
    stats: stats(project, commit),
    status: last?.status ?? null,
    project_id: project.id,
    last_pipeline: last ? pipelineBasic(state, last) : null,
  };
}

export function branchEntity(state: SimState, project: SimProject, name: string, sha: string): Entity {
  const rule = project.protectedBranches.get(name);
  const defaultHead = project.repository.branches.get(project.defaultBranch);
  const merged = name !== project.defaultBranch && defaultHead !== undefined && isAncestor(project, sha, defaultHead);
  return {
    name,
    commit: commitBasic(state, project, project.repository.commits.get(sha) as SimCommit),
    merged,
    protected: rule !== undefined,
    developers_can_push: rule === undefined || rule.push <= 30,
    developers_can_merge: rule === undefined || rule.merge <= 30,
    can_push: true,
    default: name === project.defaultBranch,
    web_url: state.webUrl(`${state.projectPath(project)}/-/tree/${name}`),
  };
}

function isAncestor(project: SimProject, sha: string, of: string): boolean {
  const queue = [of];
  const seen = new Set<string>();
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (next === sha) return true;
    if (seen.has(next)) continue;
    seen.add(next);
    queue.push(...(project.repository.commits.get(next)?.parentShas ?? []));
  }
  return false;
}

/**
 * A tag. `release` is the two-field stub GitLab's tags API has always sent, which the newer
 * `release.json` that `tag.json` references no longer describes (see the schema test).
 */
export function tagEntity(state: SimState, project: SimProject, tag: SimTag): Entity {
  const release = state.releases.find((r) => r.projectId === project.id && r.tagName === tag.name);
  return {
    name: tag.name,
    message: tag.message,
    target: tag.sha,
    commit: commitBasic(state, project, project.repository.commits.get(tag.sha) as SimCommit),
    release: release ? { tag_name: release.tagName, description: release.description } : null,
    protected: false,
    created_at: restTime(tag.createdAt),
  };
}

export function releaseEntity(state: SimState, release: SimRelease): Entity {
  const project = state.requireProject(release.projectId);
  const path = state.projectPath(project);
  const web = state.webUrl(path);
  const sha = project.repository.tags.get(release.tagName)?.sha ?? '';
  const commit = project.repository.commits.get(sha);
  const sources = archiveSources(state, project, release.tagName);
  return {
    name: release.name,
    tag_name: release.tagName,
    description: release.description,
    created_at: restTime(release.createdAt),
    released_at: restTime(release.releasedAt),
    upcoming_release: release.releasedAt > state.now(),
    author: userOrNull(state, release.authorId),
    commit: commit ? commitBasic(state, project, commit) : null,
    milestones: release.milestoneIds.flatMap((id) => {
      const milestone = state.milestones.get(id);
      if (!milestone) return [];
      const issues = [...state.issues.values()].filter((issue) => issue.milestoneId === id);
      return [
        {
          ...milestoneEntity(state, milestone),
          issue_stats: { total: issues.length, closed: issues.filter((issue) => issue.state === 'closed').length },
        },
      ];
    }),
    commit_path: `/${path}/-/commit/${sha}`,
    tag_path: `/${path}/-/tags/${release.tagName}`,
    assets: { count: sources.length, sources, links: [] },
    evidences: [],
    _links: { self: `${web}/-/releases/${release.tagName}`, edit_url: `${web}/-/releases/${release.tagName}/edit` },
  };
}
