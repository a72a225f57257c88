/**
 * The permission checks of the real capabilities, run before a mock answers: a mock stands in for the other side
 * (GitLab, a web service, an activity), never for what the workflow is allowed to ask, so a test fails where
 * production would, with the same error. The rules live in the capabilities; only the plumbing is here.
 */
import { checkActivityAllowed } from '../capabilities/activities.js';
import { GITLAB_METHODS } from '../capabilities/gitlab/capability.js';
import { createGitLabClient } from '../capabilities/gitlab/client.js';
import { createPermissionGuard, type Target } from '../capabilities/gitlab/permissions.js';
import { checkHttpRequest } from '../capabilities/http.js';
import { checkSecretRead } from '../capabilities/secrets.js';
import { CapabilityError } from '../core/errors.js';
import type { Json } from '../core/model.js';
import type { Capability, CapabilityContext } from '../core/ports.js';

/** Throws what the real capability would throw before doing anything; resolves when the call is allowed. */
export type MockGuard = (method: string, args: Json, context: CapabilityContext) => void | Promise<void>;

/** Answers a capability call as the mock does: what a mocked `gitlab` is asked for a numeric id's path. */
type Answer = (method: string, args: Json, context: CapabilityContext) => Promise<Json>;

export interface MockGuardOptions {
  /**
   * The real `gitlab` capability on the test's simulated GitLab, when there is one: a numeric project or group id is
   * resolved there, as the real capability resolves it on GitLab. Without it the mock itself is asked.
   */
  gitlab?: Capability;
}

/** Only the URLs matter: the permission checks read the route a method would send, and nothing is sent. */
const ROUTES = createGitLabClient({ baseUrl: 'http://gitlab.invalid', token: 'unused' });

/** The lookup of a path is not the workflow's call: it is checked against a grant of exactly that id. */
function lookupContext(target: Target, now: number): CapabilityContext {
  return {
    runId: 'autoflow-permission-check',
    step: 0,
    attempt: 1,
    idempotencyKey: 'autoflow-permission-check',
    workflow: 'autoflow-permission-check',
    permissions: { gitlab: { [target.kind === 'project' ? 'projects' : 'groups']: [target.ref], access: 'read' } },
    now,
    signal: new AbortController().signal,
  };
}

function gitlabGuard(answer: Answer, options: MockGuardOptions): MockGuard {
  const real = options.gitlab;
  const lookup: Answer = real ? (method, args, context) => real.invoke(method, args, context) : answer;
  const guard = createPermissionGuard(async (target, now) => {
    const method = target.kind === 'project' ? 'projects.get' : 'groups.get';
    const body = await lookup(method, { [target.kind]: Number(target.ref) }, lookupContext(target, now));
    const found =
      body !== null && typeof body === 'object' && !Array.isArray(body) ? (body['path_with_namespace'] ?? body['full_path']) : undefined;
    if (typeof found === 'string') return found;
    throw new CapabilityError(
      'mock_without_path',
      `the mocked gitlab names ${target.kind} ${target.ref} by id, and permissions.gitlab holds globs: its path is needed to check it, ` +
        `and the mock's answer to gitlab.${method}({ ${target.kind}: ${target.ref} }) has no ${target.kind === 'project' ? 'path_with_namespace' : 'full_path'}. ` +
        'Answer that call in the mock, or give createTestEnv a simulated GitLab (gitlab: seed) that has it',
      { retryable: false },
    );
  });
  return async (method, args, context) => {
    // A method the capability does not have is the mock's to answer: there is no request to check.
    const define = Object.hasOwn(GITLAB_METHODS, method) ? GITLAB_METHODS[method] : undefined;
    if (!define) return;
    const { route } = define(args, `gitlab.${method}`);
    const url = ROUTES.urlOf(route);
    await guard.check(route.method, url, ROUTES.apiPath(url), route.body, context);
  };
}

/** The checks of the built-in capability `name` (http, activities, secrets, gitlab); none for the others. */
export function mockGuard(name: string, answer: Answer, options: MockGuardOptions = {}): MockGuard | undefined {
  switch (name) {
    case 'http':
      return (method, args, context) => void checkHttpRequest(method, args, context);
    case 'activities':
      return (method, _args, context) => checkActivityAllowed(method, context);
    case 'secrets':
      return (method, args, context) => void checkSecretRead(method, args, context);
    case 'gitlab':
      return gitlabGuard(answer, options);
    default:
      return undefined;
  }
}
