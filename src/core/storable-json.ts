/**
 * What JSON AutoFlow stores as it came: how deep it may nest, and what text and numbers it may hold. The same on every
 * store, so that a workflow behaves the same on SQLite and PostgreSQL.
 *
 * How deep an event's data, or a run's input, may nest arrays and objects. Real payloads nest under 20; beyond a
 * thousand, SQLite's JSON functions refuse the event (it came back as a retryable "database
 * unavailable", and GitLab redelivered it until it disabled the hook), and far beyond, recursive
 * code such as JSON.stringify overflows the stack.
 */
export const MAX_EVENT_DEPTH = 128;

/** Whether `value` nests arrays and objects more than `limit` deep. Iterative: any depth is safe to ask about. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

const TOO_DEEP = `nests arrays and objects more than ${MAX_EVENT_DEPTH} levels deep; flatten it, or pass a reference to where the data is`;

/**
 * The longest event type the stores index (with the other attributes, within PostgreSQL's index entries: see the events
 * API's limits): a longer one could neither be posted nor waited for.
 */
export const MAX_EVENT_TYPE_CHARS = 400;

/** Why text is refused, or undefined. PostgreSQL's jsonb and text columns refuse U+0000 and lone surrogates alike. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'a NUL character (U+0000), which AutoFlow does not store: PostgreSQL cannot hold it';
  // With the u flag a surrogate pair is one code point outside this range: only a half of one matches.
  if (LONE_SURROGATE.test(text)) {
    return 'a lone surrogate (half of a UTF-16 pair, U+D800 to U+DFFF), which is not text: AutoFlow does not store it; send well-formed Unicode';
  }
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;

/**
 * `text` as PostgreSQL and SQLite both keep it, for text meant for people (log lines): each U+0000 and lone surrogate
 * becomes U+FFFD. (String.prototype.toWellFormed does the second half, but is not in this project's ES2023 lib.)
 */
export function wellFormedText(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATES, '\uFFFD');
}

const OUT_OF_RANGE =
  'is a number out of range (beyond ±1.7976931348623157e308, which JSON parsing turns into Infinity); send it as a string';

interface Visit {
  value: unknown;
  depth: number;
  /** The object or array holding it, and its key or index there: the path is only built for a problem. */
  parent?: Visit;
  key?: string;
}

function pathOf(field: string, visit: Visit): string {
  const keys: string[] = [];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) keys.push(at.key);
  return [field, ...keys.reverse()].join('.');
}

/**
 * Why a value from outside (a run's input, an event's data, a task's fields) cannot be stored as `field`, or undefined:
 * it nests more than MAX_EVENT_DEPTH deep, a string or key holds U+0000 or a lone surrogate, or a number is not finite
 * (`1e400` parses to Infinity, which JSON would store as null). The problem names the path (`data.labels.0.title`).
 * One walk, iterative: any depth is safe to ask about.
 */
export function storableJsonProblem(field: string, value: unknown): string | undefined {
  const stack: Visit[] = [{ value, depth: 1 }];
  for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
    const item = visit.value;
    if (typeof item === 'string') {
      const problem = textProblem(item);
      if (problem !== undefined) return `${pathOf(field, visit)}: contains ${problem}`;
    } else if (typeof item === 'number') {
      if (!Number.isFinite(item)) return `${pathOf(field, visit)}: ${OUT_OF_RANGE}`;
    } else if (item !== null && typeof item === 'object') {
      if (visit.depth > MAX_EVENT_DEPTH) return `${field}: ${TOO_DEEP}`;
      const entries: [string, unknown][] = Array.isArray(item) ? item.map((child: unknown, i) => [String(i), child]) : Object.entries(item);
      if (!Array.isArray(item)) {
        const keyProblem = entries.map(([key]) => textProblem(key)).find((problem) => problem !== undefined);
        if (keyProblem !== undefined) return `${pathOf(field, visit)}: has a key that contains ${keyProblem}`;
      }
      // Pushed last first, so that the first problem in the document's order is the one named.
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        stack.push({ value: child, depth: visit.depth + 1, parent: visit, key });
      }
    }
  }
  return undefined;
}

/**
 * Only how deep `value` nests, as `field`: for an answer a service gave a call, which may hold any text (it is
 * kept as JSON text, where U+0000 is an escape every store holds).
 */
export function nestingProblem(field: string, value: unknown): string | undefined {
  return nestsDeeperThan(value, MAX_EVENT_DEPTH) ? `${field}: ${TOO_DEEP}` : undefined;
}
