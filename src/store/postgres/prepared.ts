/**
 * Named statements: each pooled connection parses and plans a statement once and reuses it,
 * instead of doing so on every call (node-postgres sends unnamed statements by default). Every
 * statement text of the store is fixed or one of a few shapes, so the set of names stays small.
 */
import { createHash } from 'node:crypto';
import type { QueryConfig, QueryResult, QueryResultRow } from 'pg';

const names = new Map<string, string>();

export function prepared(text: string, values: unknown[]): QueryConfig<unknown[]> {
  let name = names.get(text);
  if (name === undefined) {
    name = `autoflow_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
  }
  return { name, text, values };
}

/** What the store's writes need of a connection: a query that runs a named statement. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

/** `connection`, with every query that has parameters made a named statement (a script without them may hold several statements). */
export function preparing(connection: {
  query<R extends QueryResultRow>(config: QueryConfig<unknown[]>): Promise<QueryResult<R>>;
  query<R extends QueryResultRow>(text: string): Promise<QueryResult<R>>;
}): Queryable {
  return { query: (text, values) => (values === undefined ? connection.query(text) : connection.query(prepared(text, values))) };
}
