import { dateOnly } from '../../format.js';

/**
 * `/due` dates. GitLab reads them with Chronic, a natural-language parser; the simulator reads the
 * forms people and bots write most: `2026-01-31`, `today`, `tomorrow`, `yesterday`, `in 3 days`
 * (days, weeks, months, years), `friday` / `this friday` / `next friday` (the next one after today),
 * `December 31st`, `Dec 31, 2026`, `31 December`. A month and day without a year mean the next such
 * day, as Chronic reads dates in the future. Dates are days in UTC, the default time zone of users.
 */

const DAY = 86_400_000;
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** Midnight UTC of a calendar day, or undefined when there is no such day (February 30th). */
function day(year: number, month: number, date: number): number | undefined {
  const at = Date.UTC(year, month, date);
  const back = new Date(at);
  return back.getUTCFullYear() === year && back.getUTCMonth() === month && back.getUTCDate() === date ? at : undefined;
}

/** A month by its name or first three letters (`dec`, `december`); -1 for anything else. */
const monthIndex = (name: string): number => MONTHS.findIndex((month) => name === month || name === month.slice(0, 3));

function relative(today: number, count: number, unit: string): number {
  const at = new Date(today);
  if (unit.startsWith('day')) return today + count * DAY;
  if (unit.startsWith('week')) return today + count * 7 * DAY;
  if (unit.startsWith('month')) at.setUTCMonth(at.getUTCMonth() + count);
  else at.setUTCFullYear(at.getUTCFullYear() + count);
  return at.getTime();
}

/** The month and day in the year given, or the next one from `today` on. */
function monthDay(today: number, month: number, date: number, year: string | undefined): number | undefined {
  if (month < 0) return undefined;
  if (year !== undefined) return day(Number(year), month, date);
  const thisYear = new Date(today).getUTCFullYear();
  const candidate = day(thisYear, month, date);
  return candidate !== undefined && candidate >= today ? candidate : day(thisYear + 1, month, date);
}

/** `text` as a `YYYY-MM-DD` date, read at `now`; undefined when the simulator cannot read it. */
export function parseDueDate(text: string, now: number): string | undefined {
  const input = text.trim().toLowerCase().replace(/\s+/g, ' ');
  const today = Math.floor(now / DAY) * DAY;
  let match: RegExpMatchArray | null;
  let at: number | undefined;
  if ((match = input.match(/^(\d{4})-(\d{1,2})-(\d{1,2})$/))) at = day(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  else if (input === 'today') at = today;
  else if (input === 'tomorrow') at = today + DAY;
  else if (input === 'yesterday') at = today - DAY;
  else if ((match = input.match(/^in (\d+) (days?|weeks?|months?|years?)$/))) at = relative(today, Number(match[1]), match[2] ?? '');
  else if ((match = input.match(/^(?:(?:this|next) )?([a-z]+)$/)) && WEEKDAYS.includes(match[1] ?? '')) {
    const ahead = (WEEKDAYS.indexOf(match[1] ?? '') - new Date(today).getUTCDay() + 7) % 7 || 7;
    at = today + ahead * DAY;
  } else if ((match = input.match(/^([a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?(?:,? (\d{4}))?$/))) {
    at = monthDay(today, monthIndex(match[1] ?? ''), Number(match[2]), match[3]);
  } else if ((match = input.match(/^(\d{1,2})(?:st|nd|rd|th)? ([a-z]+)(?:,? (\d{4}))?$/))) {
    at = monthDay(today, monthIndex(match[2] ?? ''), Number(match[1]), match[3]);
  }
  return at === undefined ? undefined : dateOnly(at);
}

/** `Jan 31, 2026`, as GitLab's `/due` messages write a date (`%b %-d, %Y`). */
export function spokenDate(date: string): string {
  const [year, month, dayOfMonth] = date.split('-').map(Number) as [number, number, number];
  const name = MONTHS[month - 1] ?? '';
  return `${name.charAt(0).toUpperCase()}${name.slice(1, 3)} ${dayOfMonth}, ${year}`;
}
