import type { SimIssue, SimMergeRequest, SimProject } from '../model.js';
import type { SimState } from '../state.js';

/** GitLab references to issues (`#12`) and merge requests (`!3`) in text, and the objects they name. */

const KINDS = {
  issue: { sigil: '#', path: 'issues' },
  merge_request: { sigil: '!', path: 'merge_requests' },
} as const;

/** `#12`, `group/project#12` or a URL ending in `/-/issues/12` (and the same with `!` and `merge_requests`). */
function referencePattern(kind: keyof typeof KINDS): RegExp {
  const { sigil, path } = KINDS[kind];
  return new RegExp(
    String.raw`(?:((?:[\w.-]+\/)*[\w.-]+)?${sigil}(\d+))|(?:https?:\/\/[^\s]+?\/((?:[\w.-]+\/)*[\w.-]+)\/-\/${path}\/(\d+))`,
    'g',
  );
}

function referenced<T extends SimIssue | SimMergeRequest>(
  state: SimState,
  project: SimProject,
  text: string,
  kind: keyof typeof KINDS,
  itemsOf: (project: SimProject) => T[],
): T[] {
  const found = new Map<number, T>();
  for (const match of text.matchAll(referencePattern(kind))) {
    const path = match[1] ?? match[3];
    const iid = Number(match[2] ?? match[4]);
    const target = path === undefined ? project : state.findProject(path);
    const item = target && itemsOf(target).find((candidate) => candidate.iid === iid);
    if (item) found.set(item.id, item);
  }
  return [...found.values()];
}

/** Issues referenced as `#12`, `group/project#12` or by URL in `text`, resolved from `project`. */
export const referencedIssues = (state: SimState, project: SimProject, text: string): SimIssue[] =>
  referenced(state, project, text, 'issue', (target) => state.issuesOf(target));

/** Merge requests referenced as `!3`, `group/project!3` or by URL in `text`, resolved from `project`. */
export const referencedMergeRequests = (state: SimState, project: SimProject, text: string): SimMergeRequest[] =>
  referenced(state, project, text, 'merge_request', (target) => state.mergeRequestsOf(target));
