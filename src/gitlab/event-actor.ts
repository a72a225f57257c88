import type { CloudEvent } from '../core/model.js';
import { isObject, str } from './payload.js';
import { EVENT_TYPE_PREFIX } from './webhook-kinds.js';

/** Hooks that name their actor only in `user_username` (they have no `user` object): pushes of branches and tags. */
const PUSHES = new Set([`${EVENT_TYPE_PREFIX}push`, `${EVENT_TYPE_PREFIX}tag_push`]);

/**
 * The username of whoever caused a GitLab event, as its payload names it; undefined when it does not, or when the
 * event is not a GitLab one. Triggers skip the events whose actor is AutoFlow's own account (core/router.ts).
 *
 * - Issues, work items, merge requests, comments, wiki pages, pipelines, jobs, deployments, feature flags and emoji
 *   reactions: `user.username` (GitLab's example of a job hook has a `user` without one: such an event names nobody).
 * - Pushes and tag pushes: `user_username`.
 * - Member hooks carry `user_username` too, but there it is the member added or removed, not who did it: they name
 *   nobody, as milestones, releases, projects, subgroups, access tokens and vulnerabilities do (no actor in the payload).
 *
 * @example
 * gitlabEventActor({ type: 'com.gitlab.events.issue_updated', data: { user: { username: 'autoflow-bot' } }, … }) // 'autoflow-bot'
 */
export function gitlabEventActor(event: CloudEvent): string | undefined {
  if (!event.type.startsWith(EVENT_TYPE_PREFIX) || !isObject(event.data)) return undefined;
  if (PUSHES.has(event.type)) return str(event.data, 'user_username');
  return str(event.data, 'user.username');
}
