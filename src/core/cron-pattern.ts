/**
 * What a cron pattern may be, wherever a workflow gives one (a trigger, `calendar.next`): five or six fields
 * (minutes first, or seconds first), each made of cron characters with its numbers in range, or a nickname. The
 * cron library also reads a seventh field (years) and patterns that differ between its versions; what it reads
 * beyond this is refused, so that a pattern means the same in a schedule and in a workflow.
 */

const CRON_FIELD = /^[\d*?/,\-A-Za-z#]+$/;
/** The nicknames of cron (and of GitLab's pipeline schedules) that the scheduler's cron library reads; `@reboot` has no time. */
export const CRON_NICKNAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
/** Ranges of the cron fields, seconds first (a five-field expression has no seconds). */
const CRON_RANGES: Array<[number, number]> = [
  [0, 59],
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

/** A pattern's fields, as the forms above count them (a nickname is one). */
function cronFields(pattern: string): string[] {
  return pattern.trim().split(/\s+/);
}

/** Whether a pattern is read seconds first: six fields. */
export function cronHasSeconds(pattern: string): boolean {
  return cronFields(pattern).length === 6;
}

/** What a refused pattern is told: the forms above. */
export function invalidCronPattern(pattern: unknown): string {
  return (
    `is not a valid cron expression (five or six fields, e.g. "0 6 * * 1", or one of ${CRON_NICKNAMES.join(', ')}), ` +
    `got ${JSON.stringify(pattern)}`
  );
}

/** Why `pattern` is not a cron pattern of the forms above, or undefined when it is one. */
export function cronPatternProblem(pattern: unknown): string | undefined {
  const problem = invalidCronPattern(pattern);
  if (typeof pattern !== 'string') return problem;
  if (CRON_NICKNAMES.includes(pattern.trim().toLowerCase())) return undefined;
  const fields = cronFields(pattern);
  if (fields.length !== 5 && fields.length !== 6) return problem;
  const ranges = CRON_RANGES.slice(6 - fields.length);
  const inRange = fields.every((field, index) => {
    if (!CRON_FIELD.test(field)) return false;
    const [low, high] = ranges[index] as [number, number];
    return [...field.matchAll(/(^|[^/\d])(\d+)/g)].every((match) => Number(match[2]) >= low && Number(match[2]) <= high);
  });
  return inRange ? undefined : problem;
}

const SIX_FIELDS = ['second', 'minute', 'hour', 'day of month', 'month', 'day of week'];

/**
 * A warning for a pattern that is valid but likely not what its author meant: six fields are read seconds first, so a
 * five-field pattern with a field added at the end (a year, as Quartz and EventBridge write it) runs every hour or
 * minute instead of once a week.
 */
export function cronPatternWarning(pattern: string): string | undefined {
  if (!cronHasSeconds(pattern)) return undefined;
  const fields = cronFields(pattern);
  const readAs = fields.map((field, index) => `${SIX_FIELDS[index]} ${field}`).join(', ');
  return (
    `${JSON.stringify(pattern)} has six fields, and six are read seconds first: ${readAs}. ` +
    `Cron has no year field; for "minute hour day month weekday" write five fields, as ${JSON.stringify(fields.slice(0, 5).join(' '))} ` +
    `if the last field was meant as a year`
  );
}
