import { EMITTABLE_TYPE, MAX_EMIT_TYPE_CHARS, RESERVED_PREFIXES } from '../capabilities/emit.js';
import { TASK_OPENED_EVENT, TASK_REMINDER_EVENT } from '../capabilities/tasks.js';
import { globMatches } from '../core/glob.js';

/**
 * What a subscriber can be given (app/subscribers.ts delivers events from a workflow's source only): the types a
 * workflow's `emit` accepts, and of the server's own, the task events a run puts into the inbox as the workflow's.
 */
const SERVER_TYPES: readonly string[] = [TASK_OPENED_EVENT, TASK_REMINDER_EVENT];

const emittable = (type: string): boolean =>
  type.length <= MAX_EMIT_TYPE_CHARS && EMITTABLE_TYPE.test(type) && !RESERVED_PREFIXES.some((prefix) => type.startsWith(prefix));

/** Read as a trigger's `event` is: a glob when it has a `*`, else the exact type. */
const matcher =
  (type: string) =>
  (candidate: string): boolean =>
    type.includes('*') ? globMatches(type, candidate) : type === candidate;

/**
 * A type a glob can match, if any can be emitted: each `?` and `*` filled with one `x` (a letter no reserved prefix has,
 * so it ends one it would start), or each `*` left empty.
 */
function emittableMatch(glob: string): boolean {
  const matches = matcher(glob);
  return ['', 'x'].some((fill) => {
    const candidate = glob.replace(/\*+/g, fill).replace(/\?/g, 'x');
    return emittable(candidate) && matches(candidate);
  });
}

/**
 * Why an entry of a subscriber's `types` can never match an event it is given, in the words that follow "expected"
 * in a config error; undefined when it can.
 */
export function undeliverableTypeProblem(type: string): string | undefined {
  if (/\s/u.test(type)) return 'an event type without spaces: no event that reaches a subscriber has one';
  if (SERVER_TYPES.some(matcher(type))) return undefined;
  if (type.includes('*') ? emittableMatch(type) : emittable(type)) return undefined;
  const reserved = RESERVED_PREFIXES.find((prefix) => type.startsWith(prefix));
  if (reserved === 'com.gitlab.') {
    return (
      "a type a workflow may emit: subscribers get only the events workflows emit, and GitLab's own (com.gitlab.*) " +
      'are not among them; trigger a workflow on them and have it emit a type of your own (com.example.…)'
    );
  }
  if (reserved === 'autoflow.') {
    return `a type a workflow may emit: of the server's own autoflow.* events, subscribers get only ${SERVER_TYPES.join(' and ')}`;
  }
  return `a type or glob that matches a type a workflow may emit (at most ${MAX_EMIT_TYPE_CHARS} characters, not starting with ${RESERVED_PREFIXES.join(' or ')})`;
}
