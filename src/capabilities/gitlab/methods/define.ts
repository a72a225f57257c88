import { z } from 'zod';
import type { Json, JsonObject } from '../../../core/model.js';
import { parseArgs } from '../../args.js';
import type { Route } from '../client.js';
import type { Marker } from '../idempotency.js';
import type { Paging } from '../pagination.js';

/** What one capability method does, decided from its arguments before anything is sent. */
export interface Plan {
  route: Route;
  /** A list endpoint, read one page or all of them. */
  paging?: Paging;
  /**
   * An idempotent create: the body's `field` carries the call's marker, and from the second
   * attempt on `existing(marker)` (a GET list) is searched for an object an earlier attempt created.
   */
  create?: { field: 'description' | 'body'; existing: (marker: Marker) => Route };
  /** From the second attempt on, a 409 means an earlier attempt created the object: it is read from here. */
  onConflict?: Route;
  /** Shapes GitLab's answer, where GitLab's endpoint answers more than the method promises. */
  result?: (body: Json) => Json;
}

export type Method = (args: Json, call: string) => Plan;

/** A method: its arguments checked by `schema` on the host, then turned into a plan. */
export function method<S extends z.ZodType>(schema: S, plan: (args: z.output<S>) => Plan): Method {
  return (args, call) => plan(parseArgs(schema, args, call) as z.output<S>);
}

/** A path with every interpolated id, path or name URL-encoded, as GitLab wants `acme%2Fapp`. */
export function path(strings: TemplateStringsArray, ...values: ReadonlyArray<string | number>): string {
  return strings.reduce((out, text, i) => out + text + (i < values.length ? encodeURIComponent(String(values[i])) : ''), '');
}

// --- argument schemas shared by the methods ----------------------------------------------------

/** A project or group: numeric id, or full path (`acme/app`). */
export const ref = z.union([z.number().int().positive(), z.string().min(1)]);
export const id = z.number().int().positive();
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const scalars = z.union([scalar, z.array(scalar)]);
const NESTING =
  "query values are strings, numbers, booleans, arrays of them, or one level of object (`not: { labels: 'bug' }`, sent as `not[labels]=bug`)";
/**
 * List filters, by GitLab's parameter names (`state`, `labels`, `search`…). One level of nesting
 * is Grape's `not[labels]`: `{ not: { labels: 'bug' } }` and `{ 'not[labels]': 'bug' }` send the same.
 */
export const query = z.record(z.string(), z.union([scalars, z.record(z.string(), scalars)], NESTING)).optional();
/** The fields of a create or update, by GitLab's parameter names. */
export const attributes = z.record(z.string(), z.json());
export const optionalAttributes = attributes.optional();

export const paging = {
  all: z.boolean().optional(),
  page: z.number().int().positive().optional(),
  perPage: z.number().int().min(1).max(100).optional(),
  maxPages: z.number().int().min(1).max(1000).optional(),
  cursor: z.string().min(1).optional(),
};

// --- plans most methods are made of ------------------------------------------------------------

export const read = (at: string, query?: Route['query']): Plan => ({ route: { method: 'GET', path: at, ...(query && { query }) } });

export const list = (at: string, args: Paging & { query?: Route['query'] }): Plan => ({
  route: { method: 'GET', path: at, ...(args.query && { query: args.query }) },
  paging: { all: args.all, page: args.page, perPage: args.perPage, maxPages: args.maxPages, cursor: args.cursor },
});

export const write = (verb: 'POST' | 'PUT', at: string, body?: JsonObject): Plan => ({
  route: { method: verb, path: at, ...(body && { body }) },
});

/** A refinement: exactly one of the two keys is given. */
export const exactlyOne =
  (a: string, b: string) =>
  (args: Record<string, unknown>): boolean =>
    (args[a] === undefined) !== (args[b] === undefined);

/** Exactly one of `project` and `group`, for what both have (labels, milestones, members). */
export function ownedBy<T extends z.ZodRawShape>(shape: T) {
  return z.object({ project: ref.optional(), group: ref.optional(), ...shape }).refine(exactlyOne('project', 'group'), {
    // A workflow that gives the path alone (`labels.create('grp/app', …)`) names neither: the message shows the call's shape.
    message:
      "give exactly one of project and group, as { project: 'grp/app' } or { group: 'grp' } (an id or a full path): a path alone does not say which it is",
  });
}

export const ownerPath = (args: { project?: string | number | undefined; group?: string | number | undefined }): string =>
  args.project !== undefined ? path`/projects/${args.project}` : path`/groups/${args.group as string | number}`;
