import { jsonEqual } from './json.js';
import type { CloudEvent, Filter, FilterCondition, Json, TriggerSpec } from './model.js';
import { valuesAt } from './paths.js';

/**
 * Glob over strings: `*` matches any run of characters (slashes included, so `acme/*` covers
 * subgroups), `?` one character. Everything else is literal.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const char of glob) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source.replace(/(\.\*)+/g, '.*')}$`);
}

const globCache = new Map<string, RegExp>();
export function globMatches(glob: string, value: string): boolean {
  let re = globCache.get(glob);
  if (!re) {
    re = globToRegExp(glob);
    if (globCache.size > 1000) globCache.clear();
    globCache.set(glob, re);
  }
  return re.test(value);
}

type Operator = { equals: Json } | { in: Json[] } | { exists: boolean } | { glob: string } | { not: FilterCondition };

function isOperator(condition: FilterCondition): condition is Operator {
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) return false;
  const keys = Object.keys(condition);
  return keys.length === 1 && ['equals', 'in', 'exists', 'glob', 'not'].includes(keys[0] as string);
}

/** Does a condition hold for the values found at its path? */
export function conditionHolds(condition: FilterCondition, values: Json[]): boolean {
  if (!isOperator(condition)) return values.some((value) => jsonEqual(value, condition));
  const operator: Operator = condition;
  if ('not' in operator) return !conditionHolds(operator.not, values);
  if ('exists' in operator) {
    const present = values.some((value) => value !== null);
    return operator.exists ? present : !present;
  }
  if ('equals' in operator) return values.some((value) => jsonEqual(value, operator.equals));
  if ('in' in operator) return values.some((value) => operator.in.some((option) => jsonEqual(value, option)));
  const glob = operator.glob;
  return values.some((value) => typeof value === 'string' && globMatches(glob, value));
}

export function matchesFilter(event: CloudEvent, filter: Filter | undefined): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([path, condition]) => conditionHolds(condition, valuesAt(event, path)));
}

/** An event trigger's `event` may be an exact type or a glob (`com.gitlab.events.issue_*`). */
export function triggerMatches(trigger: TriggerSpec, event: CloudEvent): boolean {
  if (!('event' in trigger)) return false;
  const typeMatches = trigger.event.includes('*') ? globMatches(trigger.event, event.type) : trigger.event === event.type;
  return typeMatches && matchesFilter(event, trigger.filter);
}
