import { z } from 'zod';
import { type Method, id, list, method, ownedBy, ownerPath, paging, path, query, read, ref } from './define.js';

/** Projects, groups, members, users, audit events, and the raw `request`. */

const members = (suffix: string): Method =>
  method(ownedBy({ query, ...paging }), (args) => list(`${ownerPath(args)}/members${suffix}`, args));

export const peopleMethods: Record<string, Method> = {
  /**
   * Any REST call, `path` relative to `/api/v4`. Permissions apply to the project or group the
   * path names; a create through it carries no idempotency marker.
   */
  request: method(
    z.object({
      method: z
        .string()
        .toUpperCase()
        .pipe(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])),
      path: z.string().startsWith('/'),
      body: z.json().optional(),
      query,
    }),
    (args) => ({
      route: {
        method: args.method,
        path: args.path,
        ...(args.body !== undefined && { body: args.body }),
        ...(args.query && { query: args.query }),
        // Some endpoints answer text (raw files, job logs); a sign-in page (HTML) is still refused.
        text: true,
      },
    }),
  ),

  'projects.get': method(z.object({ project: ref }), (args) => read(path`/projects/${args.project}`)),
  // GitLab still embeds every project in a group's answer unless told not to: a big group would fill the history.
  'groups.get': method(z.object({ group: ref }), (args) => read(path`/groups/${args.group}`, { with_projects: false })),

  // `members/all` adds the members inherited from ancestor groups, each with the highest role they hold.
  'members.list': members(''),
  'members.listAll': members('/all'),

  'users.get': method(z.object({ userId: id }), (args) => read(path`/users/${args.userId}`)),
  'users.current': method(z.object({}).nullish(), () => read('/user')),
  // GitLab finds a user by username only through the list; the method answers the user or null.
  'users.byUsername': method(z.object({ username: z.string().min(1) }), (args) => ({
    ...read('/users', { username: args.username }),
    result: (body) => (Array.isArray(body) ? (body[0] ?? null) : null),
  })),

  'auditEvents.list': method(z.object({ project: ref, query, ...paging }), (args) =>
    list(path`/projects/${args.project}/audit_events`, args),
  ),
};
