import { CapabilityError } from '../../core/errors.js';
import type { Json, JsonObject } from '../../core/model.js';
import type { Capability, CapabilityContext } from '../../core/ports.js';
import { type GitLabClient, type GitLabClientOptions, type GitLabResponse, type Route, createGitLabClient } from './client.js';
import { GitLabError } from './errors.js';
import { findMarked, isQuickActionsOnly, markerOf, unrepeatableQuickActions, withMarker } from './idempotency.js';
import { ciMethods } from './methods/ci.js';
import { type Method, type Plan, path } from './methods/define.js';
import { peopleMethods } from './methods/people.js';
import { workMethods } from './methods/work.js';
import { readList } from './pagination.js';
import { type PermissionGuard, type Target, createPermissionGuard } from './permissions.js';

export type GitLabCapabilityOptions = GitLabClientOptions;

/** Every method of the `gitlab` capability by name (`issues.create`, `request`…). */
export const GITLAB_METHODS: Readonly<Record<string, Method>> = { ...peopleMethods, ...workMethods, ...ciMethods };

/** The full path of a project or group given by numeric id, for checking it against path globs. */
async function resolvePath(client: GitLabClient, target: Target, now: number): Promise<string> {
  const route: Route =
    target.kind === 'project'
      ? { method: 'GET', path: path`/projects/${target.ref}` }
      : { method: 'GET', path: path`/groups/${target.ref}`, query: { with_projects: false } };
  const { body } = await client.send('GET', client.urlOf(route), undefined, now);
  const found =
    body !== null && typeof body === 'object' && !Array.isArray(body) ? (body['path_with_namespace'] ?? body['full_path']) : undefined;
  if (typeof found !== 'string') {
    throw new CapabilityError('unexpected_response', `GitLab's answer for ${target.kind} ${target.ref} has no path`, { retryable: false });
  }
  return found;
}

/**
 * A note of quick actions leaves nothing a retry could find (GitLab saves no note for it), so one whose commands do
 * something more each time (`/spend 1h` twice is two hours) is not sent again after an attempt that may have reached
 * GitLab: the call fails for good, and a person checks.
 */
function refuseUnrepeatable(text: Json | undefined, call: string): void {
  if (typeof text !== 'string' || !isQuickActionsOnly(text)) return;
  const commands = unrepeatableQuickActions(text);
  if (commands.length === 0) return;
  throw new CapabilityError(
    'unrepeatable_quick_action',
    `${call} was not sent again: an earlier attempt may have reached GitLab, which saves no note for quick actions, so nothing tells whether it ran ${commands.join(', ')}, and running ${commands.length === 1 ? 'it' : 'them'} again would count twice; check the issue or merge request, and make the note again if it did not`,
    { retryable: false, details: { commands } },
  );
}

async function execute(plan: Plan, call: string, client: GitLabClient, guard: PermissionGuard, context: CapabilityContext): Promise<Json> {
  const checked = async (route: Route): Promise<URL> => {
    const url = client.urlOf(route);
    await guard.check(route.method, url, client.apiPath(url), route.body, context);
    return url;
  };
  const send = (route: Route, url: URL): Promise<GitLabResponse> =>
    client.send(route.method, url, route.body, context.now, { text: route.text, signal: context.signal });

  // Checked before anything leaves, even the search of an idempotent create.
  const url = await checked(plan.route);
  // Later pages differ only in `page`: same path, same permissions.
  if (plan.paging) return readList((page) => send(plan.route, page), url, plan.paging, call);

  if (plan.create) {
    const { field, existing } = plan.create;
    const marker = markerOf(context.idempotencyKey);
    const body = plan.route.body as JsonObject;
    if (context.attemptedBefore === true) {
      const search = existing(marker);
      const found = findMarked((await send(search, await checked(search))).body, field, marker);
      if (found) return found;
      refuseUnrepeatable(body[field], call);
    }
    return (await send({ ...plan.route, body: { ...body, [field]: withMarker(body[field], marker, field) } }, url)).body;
  }

  try {
    const { body } = await send(plan.route, url);
    return plan.result ? plan.result(body) : body;
  } catch (error) {
    if (!(plan.onConflict && context.attemptedBefore === true && error instanceof GitLabError && error.status === 409)) throw error;
    return (await send(plan.onConflict, await checked(plan.onConflict))).body;
  }
}

/**
 * The `gitlab` capability: GitLab's REST API for workflows, within their `permissions.gitlab`,
 * checked here before any request leaves. Errors are typed for the engine's retries
 * (GitLabError: not retried; GitLabUnavailableError: retried, after GitLab's Retry-After);
 * issue, merge request and note creates are idempotent across retries. See
 * docs/gitlab-capability.md.
 *
 * @example
 * createGitLabCapability({ baseUrl: 'https://gitlab.example.com', token: config.gitlab.token })
 */
export function createGitLabCapability(options: GitLabCapabilityOptions): Capability {
  const client = createGitLabClient(options);
  const guard = createPermissionGuard((target, now) => resolvePath(client, target, now));
  return {
    name: 'gitlab',
    async invoke(method, args, context) {
      const define = Object.hasOwn(GITLAB_METHODS, method) ? GITLAB_METHODS[method] : undefined;
      if (!define) {
        throw new CapabilityError('unknown_method', `gitlab has no method '${method}'; docs/gitlab-capability.md lists them`, {
          retryable: false,
          details: { method },
        });
      }
      const call = `gitlab.${method}`;
      return execute(define(args, call), call, client, guard, context);
    },
  };
}
