import { CapabilityError, PermissionDeniedError } from '../../core/errors.js';
import { gitLabPathMatches } from '../../core/glob.js';
import type { GitLabPermissions, Json } from '../../core/model.js';
import type { CapabilityContext } from '../../core/ports.js';
import type { GitLabVerb } from './client.js';
import { GitLabError } from './errors.js';

/** A project or group a request acts on: its numeric id or full path, as the request names it. */
export interface Target {
  kind: 'project' | 'group';
  ref: string;
  /** The body or query parameter that names it (`target_project_id`), when not the path. */
  param?: string;
}

/**
 * Parameters through which a request on one project reads or writes another (`target_project_id`,
 * `to_project_id`, `from_project_id`, …): every body or query parameter so named. The project
 * they name must be granted too.
 */
const PROJECT_PARAM = /(^|_)project_id$/;

/** Endpoints that name a second project in their path: `/projects/:id/import_project_members/:project_id`. */
const SECOND_PROJECT_IN_PATH = /^\/projects\/[^/]+\/import_project_members\/([^/]+)/;

/**
 * Endpoints that move or share a project or group into a namespace given in the body. Globs over
 * project and group paths cannot say which destinations are fine, so these are refused.
 */
const REFUSED = /^\/(projects|groups)\/[^/]+\/(fork|transfer|share)(\/|$)/;

/**
 * The only requests outside `/projects/:id` and `/groups/:id` a workflow may make: GETs that show
 * nothing of any project or group — the instance's version and metadata, the token's user, one
 * user by id or by username (what `users.current`, `users.get` and `users.byUsername` send).
 * Instance-wide lists and searches (`/issues?scope=all`, `/search`, `/merge_requests`, `/projects`)
 * would show, with the bot's token, projects the workflow is not granted.
 */
const INSTANCE_READS = 'GET /version, /metadata, /user, /users/:id and /users?username=…';

function instanceRead(apiPath: string, url: URL): boolean {
  if (apiPath === '/version' || apiPath === '/metadata' || apiPath === '/user') return true;
  if (/^\/users\/\d+$/.test(apiPath)) return true;
  // `/users` lists every user unless it is the lookup by username, and nothing else.
  const keys = [...url.searchParams.keys()];
  return apiPath === '/users' && keys.length === 1 && keys[0] === 'username' && url.searchParams.get('username') !== '';
}

/**
 * The id or full path in a `:id` segment. A path with empty, `.` or `..` parts is refused: GitLab
 * would not find it, and a glob such as `acme/*` would otherwise grant `acme/app/../../other`.
 */
function decodeSegment(segment: string): string {
  let ref: string;
  try {
    ref = decodeURIComponent(segment);
  } catch {
    throw new CapabilityError('invalid_path', `'${segment}' in the path is not properly URL-encoded; encode a full path as acme%2Fapp`, {
      retryable: false,
    });
  }
  // Quoted as the caller gave it: the typed methods encode the path themselves.
  const bad = ref.split('/').find((part) => part === '' || part === '.' || part === '..');
  if (bad !== undefined) {
    throw new CapabilityError(
      'invalid_path',
      `'${ref}' is not a GitLab id or full path: it has ${bad === '' ? 'an empty part' : `a '${bad}' part`}; give a path such as 'acme/app'`,
      { retryable: false },
    );
  }
  return ref;
}

/** The projects and groups a request acts on: the one its path names (`/projects/:id/…`, `/groups/:id/…`), and cross-project parameters. */
export function targetsOf(apiPath: string, url: URL, body: Json | undefined): Target[] {
  const targets: Target[] = [];
  const [, scope, id] = apiPath.split('/');
  if ((scope === 'projects' || scope === 'groups') && id)
    targets.push({ kind: scope === 'projects' ? 'project' : 'group', ref: decodeSegment(id) });
  const second = SECOND_PROJECT_IN_PATH.exec(apiPath)?.[1];
  if (second !== undefined) targets.push({ kind: 'project', ref: decodeSegment(second) });
  const fields = body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {};
  const named: Array<[string, unknown]> = [...Object.entries(fields), ...url.searchParams.entries()];
  for (const [name, value] of named) {
    if (!PROJECT_PARAM.test(name) || value === null || value === undefined) continue;
    // Any other value (a list, an object) names no project GitLab would take: refused rather than let through.
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new CapabilityError('invalid_parameter', `${name} must be the id or full path of one project`, { retryable: false });
    }
    targets.push({ kind: 'project', ref: String(value), param: name });
  }
  return targets;
}

const isNumeric = (value: string): boolean => /^\d+$/.test(value);

type Denial = (reason: string, details: Record<string, string>) => PermissionDeniedError;

/**
 * A parameter (`target_project_id: 999`) whose project GitLab does not show the token: a refusal
 * of the call the workflow made, not a 404 of the lookup it never wrote.
 */
const unresolved =
  (target: Target, permission: string, denied: Denial) =>
  (error: unknown): never => {
    if (target.param === undefined || !(error instanceof GitLabError) || (error.status !== 404 && error.status !== 403)) throw error;
    throw denied(
      `${target.param} ${target.ref} is not a granted project (GitLab answered ${error.status} when AutoFlow looked it up, so it cannot be checked against ${permission}); give the id of a granted project`,
      { [target.kind]: target.ref, parameter: target.param, permission },
    );
  };

export interface PermissionGuard {
  /**
   * Throws PermissionDeniedError unless `context.permissions.gitlab` grants the request; runs
   * before the request is sent. A numeric project or group id is resolved to its path (one GET,
   * cached) only when the grants hold globs that the id does not match by itself.
   */
  check(method: GitLabVerb, url: URL, apiPath: string, body: Json | undefined, context: CapabilityContext): Promise<void>;
}

/** `resolvePath` reads the full path of a project or group given by numeric id (`now`: the attempt's time). */
export function createPermissionGuard(resolvePath: (target: Target, now: number) => Promise<string>): PermissionGuard {
  // Per capability instance: a project's path changes only on rename or transfer, which is rare
  // enough that the next process start is soon enough to see it.
  const paths = new Map<string, string>();
  const pathOf = async (target: Target, now: number): Promise<string> => {
    const key = `${target.kind}:${target.ref}`;
    let path = paths.get(key);
    if (path === undefined) {
      path = await resolvePath(target, now);
      paths.set(key, path);
    }
    return path;
  };

  async function checkTarget(target: Target, grants: GitLabPermissions, denied: Denial, now: number): Promise<void> {
    const list = target.kind === 'project' ? 'projects' : 'groups';
    const permission = `permissions.gitlab.${list}`;
    const patterns = grants[list] ?? [];
    if (patterns.includes(target.ref)) return;
    const globs = patterns.filter((pattern) => !isNumeric(pattern));
    if (isNumeric(target.ref) && globs.length === 0) {
      throw denied(`GitLab ${target.kind} ${target.ref} is not granted; add '${target.ref}' or its path to ${permission}`, {
        [target.kind]: target.ref,
        permission,
      });
    }
    const path = isNumeric(target.ref) ? await pathOf(target, now).catch(unresolved(target, permission, denied)) : target.ref;
    if (globs.some((glob) => gitLabPathMatches(glob, path))) return;
    const parent = path.includes('/') ? `${path.slice(0, path.lastIndexOf('/'))}/*` : undefined;
    throw denied(
      `GitLab ${target.kind} '${path}' is not granted; add '${path}'${parent ? ` (or a glob such as '${parent}')` : ''} to ${permission}`,
      {
        [target.kind]: path,
        permission,
      },
    );
  }

  return {
    async check(method, url, apiPath, body, context) {
      const request = `${method} ${apiPath}`;
      const denied: Denial = (reason, details) =>
        new PermissionDeniedError(`workflow '${context.workflow}' may not ${request}: ${reason}`, { request, ...details });
      const grants = context.permissions.gitlab;
      if (!grants) {
        throw denied('it has no GitLab permissions; add permissions.gitlab.projects (or groups) to its definition', {
          permission: 'permissions.gitlab',
        });
      }
      if (method !== 'GET' && (grants.access ?? 'write') === 'read') {
        throw denied("its GitLab access is read-only (GET); set permissions.gitlab.access to 'write'", {
          permission: 'permissions.gitlab.access',
        });
      }
      if (REFUSED.test(apiPath)) throw denied('forks, transfers and shares into other namespaces are not available to workflows', {});
      const targets = targetsOf(apiPath, url, body);
      // A project named by a parameter only (`/issues?target_project_id=…`) does not scope the path.
      if (!targets.some((target) => target.param === undefined) && (method !== 'GET' || !instanceRead(apiPath, url))) {
        throw denied(
          `outside /projects/:id and /groups/:id a workflow may only ${INSTANCE_READS} (instance-wide lists and searches would show projects it is not granted); ` +
            "use the granted project's or group's own endpoint instead, such as /projects/:id/issues, /groups/:id/merge_requests or /projects/:id/search",
          { permission: 'permissions.gitlab' },
        );
      }
      for (const target of targets) await checkTarget(target, grants, denied, context.now);
    },
  };
}
