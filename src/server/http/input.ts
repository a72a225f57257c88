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

/**
 * Refuses bytes that are not UTF-8 instead of replacing them: a run's input or an event stored with U+FFFD in it is data
 * lost. A leading BOM is dropped (ignoreBOM false), as some Windows tools write one.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The request body as text, as every route that reads one decodes it (the API's JSON, GitLab's webhooks): UTF-8, else a
 * 400. A body sent compressed (`Content-Encoding: gzip`…) is a 415 naming the encoding: decoded as it comes, it read as
 * bytes that are not UTF-8, or as binary garbage echoed in a JSON parser's message.
 */
export async function readText(c: Context): Promise<string> {
  const encoding = c.req.header('content-encoding')?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    throw new HttpError(
      415,
      'unsupported_content_encoding',
      `request body has Content-Encoding ${encoding}, which this server does not decode: send it uncompressed, without Content-Encoding`,
    );
  }
  const bytes = await c.req.arrayBuffer();
  try {
    return UTF8.decode(bytes);
  } catch {
    // The decoder's TypeError says only that the bytes are not UTF-8, which this message says too.
    throw new HttpError(400, 'invalid_json', 'request body is not valid UTF-8: send JSON encoded as UTF-8');
  }
}

/**
 * The request body as JSON; an empty body is `undefined`. Malformed JSON, or bytes that are not UTF-8 (which JSON
 * must be), is a 400 `invalid_json`; a compressed body a 415 (readText).
 */
export async function readJson(c: Context): Promise<unknown> {
  const text = await readText(c);
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

/**
 * The query parameters, parsed with `schema`. One it does not know, or one given twice, is refused rather than
 * ignored: a mistyped filter (`?state=failed`) would otherwise answer with everything.
 */
export function readQuery<S extends z.ZodObject>(c: Context, schema: S): z.output<S> {
  const known = Object.keys(schema.shape);
  const issues: string[] = [];
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (!known.includes(name)) {
      issues.push(`${name}: not a parameter of this route, which takes ${known.length > 0 ? known.join(', ') : 'none'}`);
    } else if (values.length > 1) issues.push(`${name}: given ${values.length} times; give it once`);
  }
  if (issues.length > 0) throw new ValidationError('invalid query', issues);
  return parseWith(schema, c.req.query(), 'query');
}

/** A query parameter holding a number written in decimal digits (not `0x10`, `1e3` or empty), within bounds. */
function queryNumber(digits: RegExp, expected: string, check: z.ZodNumber) {
  return z.string(expected).regex(digits, expected).transform(Number).pipe(check);
}

/** A query parameter holding an integer within bounds. */
export function queryInteger(min: number, max: number) {
  const expected = `an integer from ${min} to ${max}`;
  return queryNumber(/^\d+$/, expected, z.number().int(expected).min(min, expected).max(max, expected));
}

/** A query parameter holding a number of seconds within bounds, fractions allowed (`0.5`). */
export function querySeconds(max: number) {
  const expected = `a number of seconds from 0 to ${max}`;
  return queryNumber(/^\d+(\.\d+)?$/, expected, z.number().max(max, expected));
}
