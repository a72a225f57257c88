import { GITLAB_VERBS } from '../core/gitlab-verbs.js';
import type { JsonObject } from '../core/model.js';
import { at, lookup, snakeCase, str, text } from './payload.js';
import { pathBelow, type HookLocation } from './webhook-location.js';

/** What a webhook is, once recognised: its event type, how to name its object, when it happened. */
export interface ResolvedHook {
  /** `com.gitlab.events.<object>_<verb>`, or `com.gitlab.events.<object>` when no verb is known. */
  type: string;
  /** The object's reference in GitLab's own syntax where it has one (`acme/app#42`). */
  subject: (payload: JsonObject, where: HookLocation) => string | undefined;
  /** Payload paths holding the time of the occurrence, best first; none found → time of receipt. */
  time: readonly string[];
}

interface HookKind extends Omit<ResolvedHook, 'type'> {
  /** The `<object>` part of the type. */
  object: string;
  /** GitLab's word for what happened: an action, a status or an event name. */
  verb?: (payload: JsonObject) => string | undefined;
}

/** What the CloudEvent types of GitLab's webhooks begin with. */
export const EVENT_TYPE_PREFIX = 'com.gitlab.events.';

/** Hooks without `object_kind` name the object and the change together in `event_name`. */
const EVENT_NAMES: Record<string, readonly [kind: string, verb: string]> = {
  user_add_to_group: ['group_member', 'added'],
  user_remove_from_group: ['group_member', 'removed'],
  user_update_for_group: ['group_member', 'updated'],
  user_access_request_to_group: ['group_member', 'access_requested'],
  user_access_request_denied_for_group: ['group_member', 'access_denied'],
  project_create: ['project', 'created'],
  project_destroy: ['project', 'destroyed'],
  subgroup_create: ['subgroup', 'created'],
  subgroup_destroy: ['subgroup', 'removed'],
  expiring_access_token: ['access_token', 'expiring'],
};

/** `X-Gitlab-Event` → kind, for payloads that carry neither `object_kind` nor `event_name`. */
const HEADERS: Record<string, string> = {
  'Push Hook': 'push',
  'Tag Push Hook': 'tag_push',
  'Issue Hook': 'issue',
  'Confidential Issue Hook': 'issue',
  'Note Hook': 'note',
  'Confidential Note Hook': 'note',
  'Merge Request Hook': 'merge_request',
  'Wiki Page Hook': 'wiki_page',
  'Pipeline Hook': 'pipeline',
  'Job Hook': 'build',
  'Deployment Hook': 'deployment',
  'Member Hook': 'group_member',
  'Project Hook': 'project',
  'Subgroup Hook': 'subgroup',
  'Feature Flag Hook': 'feature_flag',
  'Release Hook': 'release',
  'Milestone Hook': 'milestone',
  'Emoji Hook': 'emoji',
  'Resource Access Token Hook': 'access_token',
  'Vulnerability Hook': 'vulnerability',
};

const OBJECT_TIME = ['object_attributes.updated_at', 'object_attributes.created_at'];
const TOP_TIME = ['updated_at', 'created_at'];

const word = (path: string) => (payload: JsonObject) => str(payload, path);
const eventNameVerb = (payload: JsonObject) => {
  const name = str(payload, 'event_name');
  return lookup(EVENT_NAMES, name)?.[1] ?? name;
};

/** `path` + `sigil` + `id` (`acme/app` `!` `7`) when both are known. */
function ref(path: string | undefined, sigil: string, id: string | undefined): string | undefined {
  return path === undefined || id === undefined ? undefined : `${path}${sigil}${id}`;
}

/** The reference of what a note or an emoji reaction is on, from the object the payload adds beside it. */
function targetRef(payload: JsonObject, path: string | undefined, type: string | undefined, commitId: string | undefined) {
  switch (type) {
    case 'Issue':
      return ref(path, '#', text(payload, 'issue.iid'));
    case 'MergeRequest':
      return ref(path, '!', text(payload, 'merge_request.iid'));
    case 'Snippet':
      return ref(path, '$', text(payload, 'snippet.id'));
    case 'Commit':
      return ref(path, '@', commitId ?? text(payload, 'commit.id'));
    default:
      return undefined;
  }
}

/** A note's reference: its target's, then `#note_<id>` as in GitLab's note URLs. */
function noteRef(payload: JsonObject, path: string | undefined, note: string): string | undefined {
  const target = targetRef(payload, path, text(payload, `${note}.noteable_type`), text(payload, `${note}.commit_id`));
  return ref(target ?? path, '#note_', text(payload, `${note}.id`)) ?? target;
}

/** Keyed by `object_kind`, and by the kinds `EVENT_NAMES` and `HEADERS` name. */
const KINDS: Record<string, HookKind> = {
  push: {
    object: 'push',
    // A deleted branch has no checkout_sha; `after` is then GitLab's all-zero sha.
    subject: (p, { path }) => ref(path, '@', text(p, 'checkout_sha') ?? text(p, 'after')),
    time: [],
  },
  tag_push: {
    object: 'tag_push',
    subject: (p, { path }) => ref(path, '/-/tags/', text(p, 'ref')?.replace(/^refs\/tags\//, '')),
    time: [],
  },
  issue: {
    object: 'issue',
    verb: word('object_attributes.action'),
    subject: (p, { path }) => ref(path, '#', text(p, 'object_attributes.iid')),
    time: OBJECT_TIME,
  },
  work_item: {
    object: 'work_item',
    verb: word('object_attributes.action'),
    subject: (p, { path }) => ref(path, text(p, 'object_attributes.type') === 'Epic' ? '&' : '#', text(p, 'object_attributes.iid')),
    time: OBJECT_TIME,
  },
  merge_request: {
    object: 'merge_request',
    verb: word('object_attributes.action'),
    subject: (p, { path }) => ref(path, '!', text(p, 'object_attributes.iid')),
    time: OBJECT_TIME,
  },
  note: {
    object: 'note',
    // `action` exists since GitLab 16.11; before it, note hooks fired on creation only.
    verb: (p) => str(p, 'object_attributes.action') ?? 'create',
    subject: (p, { path }) => noteRef(p, path, 'object_attributes'),
    time: OBJECT_TIME,
  },
  wiki_page: {
    object: 'wiki_page',
    verb: word('object_attributes.action'),
    subject: (p, { path }) => ref(path, '/-/wikis/', text(p, 'object_attributes.slug')),
    time: [],
  },
  pipeline: {
    object: 'pipeline',
    verb: word('object_attributes.status'),
    subject: (p, { path }) => ref(path, '/-/pipelines/', text(p, 'object_attributes.id')),
    time: ['object_attributes.finished_at', 'object_attributes.created_at'],
  },
  build: {
    object: 'job',
    verb: word('build_status'),
    subject: (p, { path }) => ref(path, '/-/jobs/', text(p, 'build_id')),
    time: ['build_finished_at', 'build_started_at', 'build_created_at'],
  },
  deployment: {
    object: 'deployment',
    verb: word('status'),
    subject: (p, { path }) => ref(path, '/-/deployments/', text(p, 'deployment_id')),
    time: ['status_changed_at'],
  },
  milestone: {
    object: 'milestone',
    // The documentation names `object_attributes.action`; its payload example has a top-level `action`.
    verb: (p) => str(p, 'action') ?? str(p, 'object_attributes.action'),
    subject: (p, { path }) => ref(path, '%', text(p, 'object_attributes.iid')),
    time: OBJECT_TIME,
  },
  release: {
    object: 'release',
    verb: (p) => str(p, 'action') ?? str(p, 'object_attributes.action'),
    subject: (p, { path }) => ref(path, '/-/releases/', text(p, 'tag')),
    time: TOP_TIME,
  },
  emoji: {
    object: 'emoji',
    verb: (p) => str(p, 'object_attributes.action') ?? str(p, 'event_type'),
    subject: (p, { path }) => {
      const type = text(p, 'object_attributes.awardable_type');
      return type === 'Note' ? noteRef(p, path, 'note') : targetRef(p, path, type, undefined);
    },
    time: OBJECT_TIME,
  },
  feature_flag: {
    object: 'feature_flag',
    verb: (p) => {
      const active = at(p, 'object_attributes.active');
      return active === true ? 'activated' : active === false ? 'deactivated' : undefined;
    },
    subject: (p, { path }) => ref(path, '/-/feature_flags/', text(p, 'object_attributes.name')),
    time: [],
  },
  access_token: {
    object: 'access_token',
    verb: eventNameVerb,
    subject: (p, { path }) => ref(path, '/-/access_tokens/', text(p, 'object_attributes.id')),
    // Its `created_at` is the token's creation, not the expiry warning: the time of receipt is truer.
    time: [],
  },
  vulnerability: {
    object: 'vulnerability',
    // The payload has no action: its state (`detected`, `confirmed`, `dismissed`, `resolved`) is what changed.
    verb: word('object_attributes.state'),
    subject: (p, { instance }) => pathBelow(text(p, 'object_attributes.url'), instance),
    time: OBJECT_TIME,
  },
  group_member: {
    object: 'group_member',
    verb: eventNameVerb,
    subject: (p) => {
      const username = text(p, 'user_username');
      return username === undefined ? undefined : `@${username}`;
    },
    time: TOP_TIME,
  },
  project: {
    object: 'project',
    verb: eventNameVerb,
    subject: (_p, { path }) => path,
    time: TOP_TIME,
  },
  subgroup: {
    object: 'subgroup',
    verb: eventNameVerb,
    subject: (p) => text(p, 'full_path'),
    time: TOP_TIME,
  },
};

/** Hooks nobody has mapped yet keep their payload; their subject is the object's URL path if it has one. */
const UNKNOWN: Omit<HookKind, 'object'> = {
  subject: (p, { instance }) => pathBelow(text(p, 'object_attributes.url'), instance),
  time: [...OBJECT_TIME, ...TOP_TIME],
};

/**
 * Recognises a webhook by its payload's `object_kind`, else its `event_name`, else the
 * `X-Gitlab-Event` header — the first of them present decides, so a hook GitLab adds later is named
 * after it rather than dropped.
 */
function identify(payload: JsonObject, eventHeader: string | undefined): { name: string | undefined; kind: HookKind | undefined } {
  const objectKind = str(payload, 'object_kind');
  if (objectKind !== undefined) return { name: objectKind, kind: lookup(KINDS, objectKind) };
  const eventName = str(payload, 'event_name');
  if (eventName !== undefined) return { name: eventName, kind: lookup(KINDS, lookup(EVENT_NAMES, eventName)?.[0]) };
  const header = eventHeader?.trim();
  return { name: header?.replace(/ hook$/i, ''), kind: lookup(KINDS, lookup(HEADERS, header)) };
}

/** The event type of a webhook, and how to find its subject and time. */
export function resolveHook(payload: JsonObject, eventHeader: string | undefined): ResolvedHook {
  const { name, kind } = identify(payload, eventHeader);
  if (kind === undefined) return { ...UNKNOWN, type: EVENT_TYPE_PREFIX + (snakeCase(name) ?? 'unknown') };
  const said = kind.verb?.(payload);
  const verb = snakeCase(lookup(GITLAB_VERBS, said) ?? said);
  return {
    subject: kind.subject,
    time: kind.time,
    type: EVENT_TYPE_PREFIX + (verb === undefined ? kind.object : `${kind.object}_${verb}`),
  };
}
