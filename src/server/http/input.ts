import type { Context } from 'hono';
import { z } from 'zod';
import { toError, ValidationError } from '../../core/errors.js';
import { HttpError } from './errors.js';

/**
 * Parses `value` with `schema`; a violation becomes a ValidationError listing every issue as
 * `path: message`, so that a client can fix all of them at once.
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`);
  throw new ValidationError(`invalid ${what}`, issues);
}

/** The request body as JSON; an empty body is `undefined`. Malformed JSON is a 400 `invalid_json`. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (caught) {
    throw new HttpError(400, 'invalid_json', `request body is not valid JSON: ${toError(caught).message}`);
  }
}

export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parseWith(schema, await readJson(c), 'request body');
}

export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return parseWith(schema, c.req.query(), 'query');
}

/** A query parameter holding an integer within bounds. */
export function queryInteger(min: number, max: number) {
  const expected = `an integer from ${min} to ${max}`;
  return z.coerce.number(expected).int(expected).min(min, expected).max(max, expected);
}
