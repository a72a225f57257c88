import type { JsonObject } from '../core/model.js';
import { firstText, text } from './payload.js';

/** Where a hook's occurrence happened, as far as configuration, headers and payload tell. */
export interface HookLocation {
  /** Base URL of the GitLab instance, without a trailing slash. */
  instance?: string;
  /** The project's path with namespace, or the group's path for group-level hooks. */
  path?: string;
}

// Most specific first: a project hook names its project; group-level hooks (members, subgroups,
// group access tokens) only a group. Member hooks carry the group's last path segment only.
const PATH_FIELDS = ['project.path_with_namespace', 'path_with_namespace', 'group.full_path', 'full_path', 'group_path'];
// URLs whose whole path is the project's path.
const PROJECT_URL_FIELDS = ['project.web_url', 'project.homepage', 'repository.homepage'];
// URLs of the object itself; the project or group path is what precedes GitLab's `/-/` separator.
const OBJECT_URL_FIELDS = ['object_attributes.url', 'url'];

/** `https://gitlab.example.com/` → `https://gitlab.example.com`; blank → undefined. */
export function baseUrl(value: string | undefined): string | undefined {
  const trimmed = value?.trim().replace(/\/+$/, '');
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function httpUrl(value: string | undefined): URL | undefined {
  if (value === undefined || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
}

/** The URL (origin and path) of the project or group the payload is about, e.g. `https://h/acme/app`. */
function ownerUrl(payload: JsonObject): string | undefined {
  for (const field of PROJECT_URL_FIELDS) {
    const url = httpUrl(text(payload, field));
    if (url) return baseUrl(`${url.origin}${url.pathname}`);
  }
  for (const field of OBJECT_URL_FIELDS) {
    const url = httpUrl(text(payload, field));
    const cut = url?.pathname.indexOf('/-/') ?? -1;
    if (url && cut > 0) return `${url.origin}${url.pathname.slice(0, cut)}`;
  }
  return undefined;
}

function anyOrigin(payload: JsonObject): string | undefined {
  for (const field of [...PROJECT_URL_FIELDS, ...OBJECT_URL_FIELDS]) {
    const url = httpUrl(text(payload, field));
    if (url) return url.origin;
  }
  return undefined;
}

/**
 * The path of `url` below the instance: `https://h/acme/app/-/security/vulnerabilities/1` →
 * `acme/app/-/security/vulnerabilities/1`. When the URL is not under the instance (or the instance is
 * unknown) the whole URL path is taken.
 */
export function pathBelow(url: string | undefined, instance: string | undefined): string | undefined {
  const parsed = httpUrl(url);
  if (!parsed) return undefined;
  const full = baseUrl(`${parsed.origin}${parsed.pathname}`) ?? '';
  const rest = instance !== undefined && full.startsWith(`${instance}/`) ? full.slice(instance.length + 1) : parsed.pathname.slice(1);
  return rest === '' ? undefined : rest;
}

/**
 * Finds the instance and the project or group path. A configured instance (from the source, else the
 * `X-Gitlab-Instance` header) wins; otherwise it is what remains of the project's web URL once its
 * path is cut off — which keeps a relative URL root (`https://h/gitlab`) — or else a URL's origin.
 */
export function locateHook(payload: JsonObject, configuredInstance: string | undefined): HookLocation {
  const named = firstText(payload, PATH_FIELDS);
  const owner = ownerUrl(payload);
  let instance = configuredInstance;
  if (instance === undefined && owner !== undefined && named !== undefined && owner.endsWith(`/${named}`)) {
    // Group web URLs read `…/groups/<path>`; `groups` is GitLab's route, not part of the instance.
    instance = owner.slice(0, -named.length - 1).replace(/\/groups$/, '');
  }
  instance ??= anyOrigin(payload);
  const path = named ?? pathBelow(owner, instance)?.replace(/^groups\//, '');
  return { ...(instance === undefined ? {} : { instance }), ...(path === undefined ? {} : { path }) };
}
