/**
 * The event types GitLab's webhooks become (docs/gitlab-events.md; the mapping is src/gitlab/webhook-kinds.ts, which
 * the sandbox layer may not import). A trigger on a type outside this list is accepted, since GitLab may add words
 * later, but `autoflow check` and deploy warn of it: `issue_opened` is a likely slip for `issue_created`, and a trigger
 * on it would never fire. test/gitlab-event-types.test.ts keeps the list in step with the mapping and the docs.
 */
import { closestWord } from '../core/filter.js';
import { globMatches } from '../core/glob.js';
import { GITLAB_VERBS } from '../core/gitlab-verbs.js';

export const GITLAB_EVENT_PREFIX = 'com.gitlab.events.';

const CI_STATUSES = [
  'created',
  'waiting_for_resource',
  'preparing',
  'waiting_for_callback',
  'pending',
  'running',
  'succeeded',
  'failed',
  'canceling',
  'canceled',
  'skipped',
  'manual',
  'scheduled',
];

/** Object → the verbs its hook gives; each object is also a type alone, for payloads without their action or status. */
const VERBS: Record<string, readonly string[]> = {
  issue: ['created', 'updated', 'closed', 'reopened'],
  work_item: ['created', 'updated', 'closed', 'reopened'],
  note: ['created', 'updated'],
  merge_request: ['created', 'updated', 'merged', 'closed', 'reopened', 'approved', 'unapproved', 'approval', 'unapproval'],
  wiki_page: ['created', 'updated', 'deleted'],
  pipeline: CI_STATUSES,
  job: CI_STATUSES,
  deployment: ['running', 'succeeded', 'failed', 'canceled'],
  group_member: ['added', 'updated', 'removed', 'access_requested', 'access_denied'],
  project: ['created', 'destroyed'],
  subgroup: ['created', 'removed'],
  feature_flag: ['activated', 'deactivated'],
  release: ['created', 'updated', 'deleted'],
  milestone: ['created', 'closed', 'reopened', 'deleted', 'updated'],
  emoji: ['awarded', 'revoked'],
  access_token: ['expiring'],
  vulnerability: ['detected', 'confirmed', 'dismissed', 'resolved'],
};

/** Hooks without a verb of their own, and system hooks, which arrive under their `event_name` as GitLab writes it. */
const OTHERS = [
  'push',
  'tag_push',
  'repository_update',
  'project_rename',
  'project_transfer',
  'project_update',
  'user_create',
  'user_destroy',
  'user_rename',
  'user_failed_login',
  'user_add_to_team',
  'user_remove_from_team',
  'user_update_for_team',
  'key_create',
  'key_destroy',
  'group_create',
  'group_destroy',
  'group_rename',
  'unknown',
];

/** Every type GitLab's webhooks become, without the prefix. */
export const GITLAB_EVENT_NAMES: ReadonlySet<string> = new Set([
  ...Object.entries(VERBS).flatMap(([object, verbs]) => [object, ...verbs.map((verb) => `${object}_${verb}`)]),
  ...OTHERS,
]);

/** GitLab's own words, and the forms people write, → the verb AutoFlow's types use (`open` → `created`). */
const VERB_ALIASES: Record<string, string> = {
  ...GITLAB_VERBS,
  opened: 'created',
  new: 'created',
  successful: 'succeeded',
  passed: 'succeeded',
  cancel: 'canceled',
  approve: 'approved',
};

/** GitLab's own object names where AutoFlow's differ (`object_kind: build` is a job). */
const OBJECT_ALIASES: Record<string, string> = { build: 'job', mr: 'merge_request', merge_requests: 'merge_request', issues: 'issue' };

/** The known name `name` most likely meant: GitLab's own words translated first, then the nearest by spelling. */
function suggestion(name: string): string | undefined {
  for (const [object, verbs] of Object.entries(VERBS)) {
    for (const spelt of [object, ...Object.keys(OBJECT_ALIASES).filter((alias) => OBJECT_ALIASES[alias] === object)]) {
      if (!name.startsWith(`${spelt}_`)) continue;
      const verb = name.slice(spelt.length + 1);
      const meant = VERB_ALIASES[verb] ?? verb;
      if (verbs.includes(meant)) return `${object}_${meant}`;
    }
  }
  return closestWord(name, GITLAB_EVENT_NAMES, Math.max(2, Math.floor(name.length / 3)));
}

/** For a glob (`issues_*`): the known objects' globs, whose nearest is the likely meaning. */
const OBJECT_GLOBS = [...Object.keys(VERBS).map((object) => `${object}_*`), 'user_*', 'project_*', 'group_*', 'key_*'];

/**
 * Why a trigger's type is one GitLab never sends, with what it probably meant; undefined for a type outside
 * `com.gitlab.events.`, a known one, or a glob that matches a known one.
 */
export function unknownGitLabEventType(type: string): string | undefined {
  if (!type.startsWith(GITLAB_EVENT_PREFIX)) return undefined;
  const name = type.slice(GITLAB_EVENT_PREFIX.length);
  const where = 'docs/gitlab-events.md lists the types';
  if (type.includes('*')) {
    if ([...GITLAB_EVENT_NAMES].some((known) => globMatches(type, GITLAB_EVENT_PREFIX + known))) return undefined;
    const meant = closestWord(name, OBJECT_GLOBS, Math.max(2, Math.floor(name.length / 3)));
    const hint = meant === undefined ? '' : `; did you mean ${GITLAB_EVENT_PREFIX}${meant}?`;
    return `the glob ${type} matches no event type GitLab sends, so the trigger never fires${hint} (${where})`;
  }
  if (GITLAB_EVENT_NAMES.has(name)) return undefined;
  const meant = suggestion(name);
  const hint = meant === undefined ? '' : `; did you mean ${GITLAB_EVENT_PREFIX}${meant}?`;
  return `GitLab sends no event of type ${type}, so the trigger never fires${hint} (${where})`;
}
