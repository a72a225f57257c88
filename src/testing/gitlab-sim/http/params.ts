import type { Context } from 'hono';
import { badRequest } from '../errors.js';

type Raw = Record<string, unknown>;

/** A parameter value as text: strings, numbers and booleans are; anything else is Grape's 400. */
export function scalarText(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw badRequest(`${name} is invalid`);
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : value === undefined ? [] : [value]);

/**
 * Request parameters as Grape (GitLab's API framework) sees them: the query string and the JSON
 * or form body in one bag, `name[]` and `name` meaning the same key, lists given as arrays or
 * comma-separated strings. Malformed values answer `400 {"error":"<name> is invalid"}`.
 */
export class Params {
  constructor(private readonly raw: Raw) {}

  static async of(c: Context): Promise<Params> {
    const raw: Raw = {};
    const put = (key: string, value: unknown): void => {
      const name = key.replace(/\[\]$/, '');
      const list = key.endsWith('[]') || Array.isArray(value);
      raw[name] = list ? [...asList(raw[name]), ...asList(value)] : value;
    };
    for (const [key, values] of Object.entries(c.req.queries())) for (const value of values) put(key, value);
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const type = c.req.header('content-type') ?? '';
      if (type.includes('application/json')) {
        const text = await c.req.text();
        let body: unknown = null;
        try {
          // An empty body is fine: GitLab clients send `Content-Type: application/json` on bodiless PUTs.
          body = text.trim() === '' ? null : JSON.parse(text);
        } catch {
          throw badRequest('The request body could not be parsed as JSON');
        }
        if (body !== null && typeof body === 'object' && !Array.isArray(body))
          for (const [key, value] of Object.entries(body)) raw[key.replace(/\[\]$/, '')] = value;
      } else if (type.includes('form')) {
        for (const [key, value] of Object.entries(await c.req.parseBody({ all: true }))) put(key, value);
      }
    }
    return new Params(raw);
  }

  has(name: string): boolean {
    return this.raw[name] !== undefined;
  }

  string(name: string): string | undefined {
    const value = this.raw[name];
    return value === undefined || value === null ? undefined : scalarText(name, value);
  }

  /** A string that may be sent empty or null to clear the field. */
  nullableString(name: string): string | null | undefined {
    if (this.raw[name] === null) return null;
    const value = this.string(name);
    return value === '' ? null : value;
  }

  int(name: string): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value.trim())) throw badRequest(`${name} is invalid`);
    return Number(value);
  }

  /** An id where 0, an empty value or null means "none" (as `milestone_id=0`). */
  optionalId(name: string): number | null | undefined {
    if (this.raw[name] === null || this.raw[name] === '') return this.has(name) ? null : undefined;
    const value = this.int(name);
    return value === 0 ? null : value;
  }

  bool(name: string): boolean | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (/^(true|t|1|yes)$/i.test(value)) return true;
    if (/^(false|f|0|no)$/i.test(value)) return false;
    throw badRequest(`${name} is invalid`);
  }

  list(name: string): string[] | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    const items = Array.isArray(value) ? asList(value).map((item) => scalarText(name, item)) : scalarText(name, value).split(',');
    return items.map((item) => item.trim()).filter((item) => item !== '');
  }

  ints(name: string): number[] | undefined {
    const items = this.list(name);
    if (items === undefined) return undefined;
    if (items.some((item) => !/^\d+$/.test(item))) throw badRequest(`${name} is invalid`);
    return items.map(Number);
  }

  /** One of `allowed`, as Grape's `values:` validation answers. */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) throw badRequest(`${name} does not have a valid value`);
    return value as T;
  }

  /** A list of objects, such as pipeline `variables` or commit `actions`. */
  objects(name: string): Record<string, unknown>[] | undefined {
    const value = this.raw[name];
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || !value.every((item) => item !== null && typeof item === 'object')) throw badRequest(`${name} is invalid`);
    return value as Record<string, unknown>[];
  }
}
