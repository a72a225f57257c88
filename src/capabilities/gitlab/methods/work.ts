import { z } from 'zod';
import type { JsonObject } from '../../../core/model.js';
import type { Route } from '../client.js';
import type { Marker } from '../idempotency.js';
import {
  type Method,
  attributes,
  exactlyOne,
  id,
  list,
  method,
  optionalAttributes,
  ownedBy,
  ownerPath,
  paging,
  path,
  query,
  read,
  ref,
  write,
} from './define.js';

/** Issues, merge requests, their notes, labels and milestones. */

const item = z.object({ project: ref, iid: id });
const itemList = z.object({ project: ref, iid: id, ...paging });
const create = z.object({ project: ref, attributes });
const edit = z.object({ project: ref, iid: id, attributes });
const action = z.object({ project: ref, iid: id, attributes: optionalAttributes });

const noteable = <T extends z.ZodRawShape>(shape: T) =>
  z
    .object({ project: ref, issueIid: id.optional(), mergeRequestIid: id.optional(), ...shape })
    .refine(exactlyOne('issueIid', 'mergeRequestIid'), { message: 'give exactly one of issueIid and mergeRequestIid' });

const notesPath = (args: { project: string | number; issueIid?: number | undefined; mergeRequestIid?: number | undefined }): string =>
  args.issueIid !== undefined
    ? path`/projects/${args.project}/issues/${args.issueIid}/notes`
    : path`/projects/${args.project}/merge_requests/${args.mergeRequestIid as number}/notes`;

/**
 * Where an earlier attempt's issue or merge request would be: GitLab's `search` over the
 * description for the marker's token (any state; the oldest match is taken).
 */
const searchDescriptions =
  (at: string) =>
  (marker: Marker): Route => ({
    method: 'GET',
    path: at,
    query: { search: marker.token, in: 'description', order_by: 'created_at', sort: 'asc', per_page: 100 },
  });

/** Issues and merge requests share every verb but their path. */
function workItems(kind: 'issues' | 'merge_requests'): Record<string, Method> {
  const at = (project: string | number): string => `${path`/projects/${project}`}/${kind}`;
  const one = (args: { project: string | number; iid: number }): string => `${at(args.project)}/${args.iid}`;
  return {
    // A project's, or a group's with its subgroups' (`/groups/:id/issues`).
    list: method(ownedBy({ query, ...paging }), (args) => list(`${ownerPath(args)}/${kind}`, args)),
    get: method(item, (args) => read(one(args))),
    create: method(create, (args) => ({
      ...write('POST', at(args.project), args.attributes),
      create: { field: 'description', existing: searchDescriptions(at(args.project)) },
    })),
    edit: method(edit, (args) => write('PUT', one(args), args.attributes)),
  };
}

const prefixed = (prefix: string, methods: Record<string, Method>): Record<string, Method> =>
  Object.fromEntries(Object.entries(methods).map(([name, m]) => [`${prefix}.${name}`, m]));

const stateEvent = (event: 'close' | 'reopen'): Method =>
  method(item, (args) => write('PUT', path`/projects/${args.project}/issues/${args.iid}`, { state_event: event }));

export const workMethods: Record<string, Method> = {
  ...prefixed('issues', {
    ...workItems('issues'),
    close: stateEvent('close'),
    reopen: stateEvent('reopen'),
    relatedMergeRequests: method(itemList, (args) => list(path`/projects/${args.project}/issues/${args.iid}/related_merge_requests`, args)),
    closedBy: method(itemList, (args) => list(path`/projects/${args.project}/issues/${args.iid}/closed_by`, args)),
  }),
  ...prefixed('mergeRequests', {
    ...workItems('merge_requests'),
    merge: method(action, (args) => write('PUT', path`/projects/${args.project}/merge_requests/${args.iid}/merge`, args.attributes)),
    approve: method(action, (args) => write('POST', path`/projects/${args.project}/merge_requests/${args.iid}/approve`, args.attributes)),
    closesIssues: method(itemList, (args) => list(path`/projects/${args.project}/merge_requests/${args.iid}/closes_issues`, args)),
  }),

  'notes.list': method(noteable({ query, ...paging }), (args) => list(notesPath(args), args)),
  'notes.create': method(noteable({ body: z.string().min(1), internal: z.boolean().optional() }), (args) => ({
    ...write('POST', notesPath(args), { body: args.body, ...(args.internal !== undefined && { internal: args.internal }) }),
    // Notes have no search: an earlier attempt's note is among the newest of its issue or merge request.
    create: {
      field: 'body',
      existing: (): Route => ({ method: 'GET', path: notesPath(args), query: { order_by: 'created_at', sort: 'desc', per_page: 100 } }),
    },
  })),

  'labels.list': method(ownedBy({ query, ...paging }), (args) => list(`${ownerPath(args)}/labels`, args)),
  'labels.create': method(ownedBy({ attributes }), (args) => {
    const name = (args.attributes as JsonObject)['name'];
    // Label names are unique per project or group: a 409 on a retry is the label the lost attempt created.
    return {
      ...write('POST', `${ownerPath(args)}/labels`, args.attributes),
      ...(typeof name === 'string' && { onConflict: { method: 'GET', path: `${ownerPath(args)}${path`/labels/${name}`}` } }),
    };
  }),

  'milestones.list': method(ownedBy({ query, ...paging }), (args) => list(`${ownerPath(args)}/milestones`, args)),
  'milestones.get': method(ownedBy({ milestoneId: id }), (args) => read(`${ownerPath(args)}/milestones/${args.milestoneId}`)),
};
