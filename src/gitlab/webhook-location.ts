import type { Json, JsonObject } from '../core/model.js';
import { at, firstText, text } from './payload.js';

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

/** A field of a payload that names a project or group, and the path it names (below the instance, for a URL). */
export interface NamedPath {
  /** Where in the payload, dotted (`object_attributes.source.web_url`, `commits[].url`). */
  field: string;
  /** `path`: a project or group path, as is; `url`: the path of a URL, which names what its first segments name. */
  kind: 'path' | 'url';
  /** The path named; undefined for a URL that does not read as one. */
  path: string | undefined;
}

// Objects that describe a project: the hook's own; the repository (push hooks and older ones); a merge request's source
// and target, one of which may be a fork; an upstream pipeline's project; a wiki's.
const PROJECT_OBJECTS = [
  'project',
  'repository',
  'object_attributes.source',
  'object_attributes.target',
  'merge_request.source',
  'merge_request.target',
  'source_pipeline.project',
  'wiki',
];
const PROJECT_OBJECT_URLS = ['web_url', 'homepage', 'url', 'git_http_url', 'git_ssh_url', 'http_url', 'ssh_url'];
// Paths at the top (project, subgroup and member hooks) and of a group access token's group. `group_path` is a group's
// last segment only; it is still what a workflow would filter member hooks on.
const PATHS = [
  ...PROJECT_OBJECTS.map((object) => `${object}.path_with_namespace`),
  'path_with_namespace',
  'full_path',
  'parent_full_path',
  'group_path',
  'group.full_path',
  'group.group_path',
];
// URLs of the objects a hook is about or mentions, which GitLab writes below their project's URL.
const URLS = [
  ...PROJECT_OBJECTS.flatMap((object) => PROJECT_OBJECT_URLS.map((field) => `${object}.${field}`)),
  'url',
  'object_attributes.url',
  'object_attributes.diff_url',
  'object_attributes.awarded_on_url',
  'object_attributes.last_commit.url',
  'object_attributes.issues[].url',
  'commit.url',
  'commits[].url',
  'commit_url',
  'deployable_url',
  'merge_request.url',
  'merge_request.last_commit.url',
  'issue.url',
  'note.url',
  'snippet.url',
  'assets.sources[].url',
];

/** The strings at a dotted path whose `[]` segments look into arrays. */
function stringsAt(payload: JsonObject, field: string): string[] {
  let current: Json[] = [payload];
  for (const segment of field.split('.')) {
    const key = segment.replace(/\[\]$/, '');
    current = current.flatMap((value) => {
      const found = at(value, key);
      if (found === undefined) return [];
      return segment.endsWith('[]') ? (Array.isArray(found) ? found : []) : [found];
    });
  }
  return current.filter((value): value is string => typeof value === 'string' && value.trim() !== '');
}

// `https://h:8080/a/b?x#y` and `ssh://git@h:2222/a/b.git` (the path after the authority), `git@h:a/b.git` (after the colon).
const URL_PATH = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*\/([^?#]*)|^[\w.-]+@[^\s:/]+:([^/?#][^?#]*)/i;

/** `acme/app.wiki.git` → `acme/app`: a wiki's repository is its project's. */
function withoutSuffixes(path: string): string {
  return path
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .replace(/\.wiki$/i, '');
}

/**
 * A `.` or `..` segment, also written `%2e` (a URL parser reads it so), or a backslash (a separator to a URL parser):
 * GitLab writes none in a URL, and the event's `source` and `subject` are made with a URL parser, which resolves them,
 * while the scope check reads the text — `team-b/x/../../team-a/app` would pass as team-b's and become team-a's.
 */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)|\\|%5c/i;

/** `path` as named, or undefined (unreadable, refused by a scoped source) when it holds a dot segment. */
function withoutDotSegments(path: string | undefined): string | undefined {
  return path === undefined || DOT_SEGMENT.test(path) ? undefined : path;
}

/**
 * The project or group path a URL names, as written (not resolved: a filter matches the text, so `team-a/../team-b`
 * is not taken for `team-b`): below `instance` when the URL is under it, else the URL's whole path; up to GitLab's `/-/`
 * separator, without `.git`, a wiki's `.wiki` and the `groups/` of a group's URL.
 */
function urlPath(value: string, instance: string | undefined): string | undefined {
  const url = value.trim();
  let written: string | undefined;
  if (instance !== undefined && url.toLowerCase().startsWith(`${instance.toLowerCase()}/`)) {
    written = url.slice(instance.length + 1).replace(/[?#][\s\S]*$/, '');
  } else {
    const match = URL_PATH.exec(url);
    written = match?.[1] ?? match?.[2];
  }
  if (written === undefined || DOT_SEGMENT.test(written)) return undefined;
  const path = withoutSuffixes(written.replace(/\/-(\/[\s\S]*)?$/, '')).replace(/^groups\//i, '');
  return path === '' ? undefined : path;
}

/**
 * Every field of `payload` that names a project or group by its path or by a URL, and what it names: what a source
 * limited to some projects must check, since a workflow may filter on any of them. URLs are read below `instance`
 * (the configured one only: one the payload or a header gave would let a payload choose how its URLs are read).
 */
export function namedPaths(payload: JsonObject, instance: string | undefined): NamedPath[] {
  const paths = PATHS.flatMap((field) =>
    stringsAt(payload, field).map((path) => ({ field, kind: 'path' as const, path: withoutDotSegments(withoutSuffixes(path)) })),
  );
  const urls = URLS.flatMap((field) =>
    stringsAt(payload, field).map((url) => ({ field, kind: 'url' as const, path: urlPath(url, instance) })),
  );
  return [...paths, ...urls];
}
