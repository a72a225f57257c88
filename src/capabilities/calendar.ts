import { Cron } from 'croner';
import { z } from 'zod';
import { cronPatternProblem } from '../core/cron-pattern.js';
import { CapabilityError } from '../core/errors.js';
import { timeZoneProblem } from '../core/time-zone.js';
import type { Json } from '../core/model.js';
import type { Capability } from '../core/ports.js';
import { parseArgs } from './args.js';

/**
 * `calendar`: time arithmetic the sandbox cannot do deterministically by itself because it needs
 * the IANA time-zone database (QuickJS has no `Intl`). Pure functions of their arguments — the
 * workflow passes the time (`now()`), so the recorded answer replays exactly. No permission needed.
 *
 * - `freezeStatus({ periods, at })`: whether `at` falls in one of GitLab's deploy freeze periods
 *   (`freeze_start`/`freeze_end` cron expressions in `cron_timezone`, as `GET /freeze_periods`
 *   answers them). A period is active from an occurrence of `freeze_start` until the next
 *   occurrence of `freeze_end` — GitLab's own rule (`CI_DEPLOY_FREEZE`).
 * - `next({ cron, timezone, after })`: the first time after `after` (epoch ms) that the pattern
 *   matches in the zone, summer time included ("next Monday 09:00 in Europe/Berlin").
 * - `date({ at, timezone })`: the calendar date (`YYYY-MM-DD`) that `at` (epoch ms) falls on in the zone.
 */
const freezeSchema = z.object({
  periods: z.array(
    z.object({
      freeze_start: z.string().min(1),
      freeze_end: z.string().min(1),
      cron_timezone: z.string().nullable().optional(),
      id: z.number().optional(),
    }),
  ),
  at: z.union([z.string(), z.number()]),
});

const nextSchema = z.object({
  cron: z.string().min(1).max(200),
  timezone: z.string().min(1).max(100).optional(),
  after: z.number().int(),
});

const dateSchema = z.object({
  at: z.number().int(),
  timezone: z.string().min(1).max(100),
});

/** Refuses a zone that is not the IANA name of a place (core/time-zone.ts), naming the method it was given to. */
function requireTimeZone(method: string, zone: string): void {
  const problem = timeZoneProblem(zone);
  if (problem !== undefined) throw new CapabilityError('invalid_arguments', `calendar.${method}: ${problem}`, { retryable: false });
}

function nextOccurrence(args: z.infer<typeof nextSchema>): number {
  const timezone = args.timezone ?? 'UTC';
  requireTimeZone('next', timezone);
  const next = cron(args.cron, timezone).nextRun(new Date(args.after));
  if (!next) throw new CapabilityError('no_occurrence', `calendar.next: '${args.cron}' never matches again`, { retryable: false });
  return next.getTime();
}

function calendarDate(args: z.infer<typeof dateSchema>): string {
  requireTimeZone('date', args.timezone);
  const parts = new Intl.DateTimeFormat('en', { timeZone: args.timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(
    new Date(args.at),
  );
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((item) => item.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

export interface FreezeStatus {
  frozen: boolean;
  /** The period in force (the first, when several overlap). */
  period: { id: number | null; freeze_start: string; freeze_end: string; cron_timezone: string } | null;
  /** When it ends (ISO), null when not frozen. */
  endsAt: string | null;
}

function cron(pattern: string, timezone: string): Cron {
  const problem = cronPatternProblem(pattern);
  if (problem !== undefined) throw new CapabilityError('invalid_arguments', `the pattern ${problem}`, { retryable: false });
  try {
    return new Cron(pattern, { paused: true, timezone });
  } catch (caught) {
    throw new CapabilityError(
      'invalid_arguments',
      `'${pattern}' in time zone '${timezone}' is not a valid cron expression: ${String(caught)}`,
      {
        retryable: false,
      },
    );
  }
}

export function freezeStatus(periods: z.infer<typeof freezeSchema>['periods'], at: Date): FreezeStatus {
  // Occurrences at `at` itself count as passed: a freeze starts at its start minute and is over at its end minute.
  const reference = new Date(at.getTime() + 1);
  for (const period of periods) {
    const timezone = period.cron_timezone ?? 'UTC';
    const start = cron(period.freeze_start, timezone).previousRuns(1, reference)[0];
    const end = cron(period.freeze_end, timezone).previousRuns(1, reference)[0];
    if (start === undefined || (end !== undefined && end.getTime() >= start.getTime())) continue;
    const endsAt = cron(period.freeze_end, timezone).nextRun(at);
    return {
      frozen: true,
      period: { id: period.id ?? null, freeze_start: period.freeze_start, freeze_end: period.freeze_end, cron_timezone: timezone },
      endsAt: endsAt ? endsAt.toISOString() : null,
    };
  }
  return { frozen: false, period: null, endsAt: null };
}

export function createCalendarCapability(): Capability {
  return {
    name: 'calendar',
    invoke(method, raw): Promise<Json> {
      return Promise.resolve().then(() => {
        if (method === 'next') return nextOccurrence(parseArgs(nextSchema, raw, 'calendar.next'));
        if (method === 'date') return calendarDate(parseArgs(dateSchema, raw, 'calendar.date'));
        if (method !== 'freezeStatus') {
          throw new CapabilityError('unknown_method', `calendar has no method '${method}'; it has date, freezeStatus and next`, {
            retryable: false,
          });
        }
        const args = parseArgs(freezeSchema, raw, 'calendar.freezeStatus');
        const at = new Date(args.at);
        if (Number.isNaN(at.getTime()))
          throw new CapabilityError('invalid_arguments', `'${String(args.at)}' is not a time`, { retryable: false });
        return freezeStatus(args.periods, at) as unknown as Json;
      });
    },
  };
}
