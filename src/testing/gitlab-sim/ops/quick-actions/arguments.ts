import type { SimIssue, SimLabel, SimMergeRequest, SimMilestone, SimProject, SimUser } from '../../model.js';
import type { SimState } from '../../state.js';
import { canSeeIssue } from '../access.js';
import { referencedIssues, referencedMergeRequests } from '../references.js';
import { QuickActionParseError, sentence } from './definition.js';

/** Quick action arguments read as GitLab reads them, and GitLab's references to what they name. */

const unique = <T>(items: readonly T[]): T[] => [...new Set(items)];

/**
 * The project's labels an argument names: `~bug ~"needs attention" ~12` (by name, or by id), or, with
 * no `~` at all, `bug "needs attention"`. Labels that do not exist are left out: quick actions never create one.
 */
export function findLabels(state: SimState, project: SimProject, arg: string): SimLabel[] {
  const available = state.availableLabels(project);
  const tilde = arg.includes('~');
  const pattern = tilde ? /~"([^"]+)"|~(\d+)\b|~([\w\-?.&]+(?:::[\w\-?.&]+)*)/g : /"([^"]+)"|()(\S+)/g;
  const found = [...arg.matchAll(pattern)].map((match) =>
    match[2] ? available.find((label) => label.id === Number(match[2])) : available.find((label) => label.name === (match[1] ?? match[3])),
  );
  return unique(found.filter((label): label is SimLabel => label !== undefined));
}

/**
 * Users named as `@alice @bob`, `alice, bob`, `@alice and @bob`, or `me` (the actor), as GitLab's
 * `UsersExtractor` reads them. A name that is no user fails the command.
 */
export function findUsers(state: SimState, actor: SimUser, arg: string): SimUser[] {
  const words = unique(arg.split(/[\s,]+/).filter((word) => word !== '' && word !== 'and'));
  const references = words.filter((word) => word !== 'me').map((word) => word.replaceAll('\\_', '_'));
  const users = references.map((reference) => state.userByUsername(reference.replace(/^@/, '')));
  const missing = references.filter((_, i) => users[i] === undefined).map((reference) => `'${reference}'`);
  if (missing.length > 0) throw new QuickActionParseError(`Failed to find users for ${sentence(missing)}`);
  return unique([...(words.includes('me') ? [actor] : []), ...users.filter((user): user is SimUser => user !== undefined)]);
}

/** A milestone of the project or its groups, any state: `%"Sprint 1"`, `%v1`, `%3` (a project milestone's iid) or a bare title. */
export function findMilestone(state: SimState, project: SimProject, arg: string): SimMilestone | undefined {
  const available = state.availableMilestones(project);
  const reference = arg.match(/%(?:"([^"]+)"|(\d+)\b|([^"\s<]+))/);
  if (reference?.[2] !== undefined) {
    const iid = Number(reference[2]);
    return available.find((milestone) => milestone.owner.kind === 'project' && milestone.iid === iid);
  }
  const title = reference ? (reference[1] ?? reference[3]) : arg.trim();
  return available.find((milestone) => milestone.title === title);
}

/** The issue (`#12`) or merge request (`!3`, or by URL) an argument names, if `actor` may see it. */
export function findItem(state: SimState, actor: SimUser, project: SimProject, arg: string): SimIssue | SimMergeRequest | undefined {
  const issue = referencedIssues(state, project, arg).find((candidate) => canSeeIssue(state, actor, candidate));
  if (issue) return issue;
  return referencedMergeRequests(state, project, arg).find((mr) => state.canRead(actor, state.requireProject(mr.projectId)));
}

/** `~"bug"`, as GitLab's messages refer to labels (by id when the name holds a `"`). */
export const labelReference = (label: SimLabel): string => (label.name.includes('"') ? `~${label.id}` : `~"${label.name}"`);

/** `%"Sprint 1"` (by iid when the title holds a `"`). */
export const milestoneReference = (milestone: SimMilestone): string =>
  milestone.title.includes('"') ? `%${milestone.iid}` : `%"${milestone.title}"`;

export const userReference = (user: SimUser): string => `@${user.username}`;

/** `#12` or `!3`. */
export const itemReference = (item: SimIssue | SimMergeRequest): string => `${'sourceBranch' in item ? '!' : '#'}${item.iid}`;
