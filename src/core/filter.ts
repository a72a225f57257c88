import { DefinitionError } from './errors.js';
import { globMatches } from './glob.js';
import { jsonEqual } from './json.js';
import type { CloudEvent, Filter, FilterCondition, Json, TriggerSpec } from './model.js';
import { valuesAt } from './paths.js';

export const FILTER_OPERATORS = ['equals', 'in', 'exists', 'glob', 'not'] as const;
type OperatorName = (typeof FILTER_OPERATORS)[number];

/** What is wrong with one condition of a filter: where it is, and what it should have been. */
export interface FilterProblem {
  /** The field path as the filter names it (`object_attributes.iid`). */
  field: string;
  /** The operators down to the faulty one (`in`, `not.exists`, an unknown `inn`); absent when the condition as a whole is at fault. */
  operator?: string;
  /** What is at fault: `operator 'in'`, `unknown operator 'inn'`, `the condition`, `the field path`. */
  what: string;
  /** What is expected there, with an example. */
  expected: string;
  /** What was given, as JSON (cut short). */
  got: string;
}

const OPERAND_EXPECTED: Record<Exclude<OperatorName, 'not'>, string> = {
  equals: 'a JSON value',
  in: "a non-empty list of values, such as { in: ['opened', 'reopened'] }",
  exists: 'true or false',
  glob: "a non-empty string pattern, such as { glob: 'release-*' }",
};

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? `a ${typeof value}`;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The candidate nearest to `word`, when it is near enough to be a likely typo. */
export function closestWord(
  word: string,
  candidates: Iterable<string>,
  maxDistance = Math.max(1, Math.floor(word.length / 3)),
): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= maxDistance && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function checkCondition(condition: unknown, field: string, operators: string[], problems: FilterProblem[]): void {
  const at =
    operators.length > 0 ? { operator: operators.join('.'), what: `operator '${operators.join('.')}'` } : { what: 'the condition' };
  if (condition === null || ['string', 'number', 'boolean'].includes(typeof condition) || Array.isArray(condition)) return;
  if (!isPlainObject(condition)) {
    problems.push({ field, ...at, expected: 'a value to compare with, or an operator object', got: shown(condition) });
    return;
  }
  const keys = Object.keys(condition);
  const [key] = keys;
  if (keys.length === 1 && !(FILTER_OPERATORS as readonly string[]).includes(key!)) {
    // Before operators were checked, an object that was no operator was compared as a value: `{ inn: [...] }` matched nothing, silently.
    const guess = closestWord(key!, FILTER_OPERATORS);
    const operator = [...operators, key].join('.');
    problems.push({
      field,
      operator,
      what: `unknown operator '${key}'`,
      expected: `one of ${FILTER_OPERATORS.join(', ')}${guess ? ` (did you mean '${guess}'?)` : ''}; to compare with an object, write { equals: {...} }`,
      got: shown(condition),
    });
    return;
  }
  if (keys.length !== 1) {
    const many = keys.length > 1 ? ' (a condition has one operator; two conditions on one field cannot be written)' : '';
    problems.push({
      field,
      ...at,
      expected: `one operator: ${FILTER_OPERATORS.join(', ')}${many}; to compare with an object, write { equals: {...} }`,
      got: shown(condition),
    });
    return;
  }
  const operator = key as OperatorName;
  const operand = condition[operator];
  const chain = [...operators, operator].join('.');
  const path = { operator: chain, what: `operator '${chain}'` };
  if (operator === 'not') return checkCondition(operand, field, [...operators, operator], problems);
  const valid =
    operator === 'equals'
      ? operand !== undefined
      : operator === 'in'
        ? Array.isArray(operand) && operand.length > 0
        : operator === 'exists'
          ? typeof operand === 'boolean'
          : typeof operand === 'string' && operand !== '';
  if (!valid) problems.push({ field, ...path, expected: OPERAND_EXPECTED[operator], got: shown(operand) });
  // `in` compares values: an operator inside its list (`in: [{ glob: 'refs/*' }]`) is an object no field equals.
  else if (
    operator === 'in' &&
    (operand as unknown[]).some(
      (option) => isPlainObject(option) && Object.keys(option).some((name) => (FILTER_OPERATORS as readonly string[]).includes(name)),
    )
  ) {
    problems.push({
      field,
      ...path,
      expected: "a list of values: 'in' compares them, it applies no operator (for patterns, one trigger per glob)",
      got: shown(operand),
    });
  }
}

/** Every problem of a filter's shape, in the order of its fields; none for a filter the router can evaluate. */
export function filterProblems(filter: unknown): FilterProblem[] {
  if (!isPlainObject(filter)) {
    return [{ field: '', what: 'the filter', expected: 'an object of field path → condition', got: shown(filter) }];
  }
  const problems: FilterProblem[] = [];
  for (const [field, condition] of Object.entries(filter)) {
    if (field === '' || field.split('.').includes('')) {
      problems.push({ field, what: 'the field path', expected: "a dotted path such as 'object_attributes.iid'", got: shown(field) });
      continue;
    }
    checkCondition(condition, field, [], problems);
  }
  return problems;
}

/** One line per problem: `field 'status': operator 'in': expected a non-empty list …; got "paid"`. */
export function describeFilterProblem(problem: FilterProblem): string {
  return `field '${problem.field}': ${problem.what}: expected ${problem.expected}; got ${problem.got}`;
}

/** Is `operand` found at this one value: for a scalar, the value or any element of an array value; else the whole value. */
function valueEquals(value: Json, operand: Json): boolean {
  if (operand !== null && typeof operand === 'object') return jsonEqual(value, operand);
  return jsonEqual(value, operand) || (Array.isArray(value) && value.some((item) => jsonEqual(item, operand)));
}

/** An array counts as present when an element is not null: `labels: []` is an issue without labels. */
const present = (value: Json): boolean => (Array.isArray(value) ? value.some((item) => item !== null) : value !== null);

const strings = (values: Json[]): string[] =>
  values.flatMap((value) => (Array.isArray(value) ? value : [value])).filter((value): value is string => typeof value === 'string');

/** Does a condition hold for the values found at its path? The condition must have passed filterProblems. */
export function conditionHolds(condition: FilterCondition, values: Json[]): boolean {
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) {
    return values.some((value) => valueEquals(value, condition));
  }
  if ('not' in condition) return !conditionHolds(condition.not, values);
  if ('exists' in condition) return values.some(present) === condition.exists;
  if ('equals' in condition) return values.some((value) => valueEquals(value, condition.equals));
  if ('in' in condition) return values.some((value) => condition.in.some((option) => valueEquals(value, option)));
  const { glob } = condition;
  return strings(values).some((value) => globMatches(glob, value));
}

/**
 * Filters are checked once each (they are the deployed definitions' own objects): a filter deployed
 * before its shape was checked at deploy throws here, for the router to report, instead of throwing
 * a TypeError from deep inside an operator or matching by accident.
 */
const checked = new WeakMap<object, DefinitionError | null>();

function checkedFilter(filter: Filter): Filter {
  if (!isPlainObject(filter)) {
    throw new DefinitionError(`invalid filter: expected an object of field path → condition; got ${shown(filter)}`);
  }
  let error = checked.get(filter);
  if (error === undefined) {
    const problems = filterProblems(filter);
    error = problems.length === 0 ? null : new DefinitionError(`invalid filter: ${problems.map(describeFilterProblem).join('; ')}`);
    checked.set(filter, error);
  }
  if (error) throw error;
  return filter;
}

/** Throws a DefinitionError when the filter's shape is invalid (see filterProblems). */
export function matchesFilter(event: CloudEvent, filter: Filter | undefined): boolean {
  if (filter === undefined) return true;
  return Object.entries(checkedFilter(filter)).every(([path, condition]) => conditionHolds(condition, valuesAt(event, path)));
}

/** An event trigger's `event` may be an exact type or a glob (`com.gitlab.events.issue_*`). */
export function triggerTypeMatches(trigger: TriggerSpec, type: string): boolean {
  if (!('event' in trigger)) return false;
  return trigger.event.includes('*') ? globMatches(trigger.event, type) : trigger.event === type;
}

/** Type and filter; throws a DefinitionError when the filter's shape is invalid. */
export function triggerMatches(trigger: TriggerSpec, event: CloudEvent): boolean {
  return triggerTypeMatches(trigger, event.type) && 'event' in trigger && matchesFilter(event, trigger.filter);
}
