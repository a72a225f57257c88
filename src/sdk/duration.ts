/**
 * A span of time: milliseconds, or a string of one or more `<number><unit>` parts such as
 * `'500ms'`, `'90s'`, `'15m'`, `'2h'`, `'7d'`, `'1w'` or `'1h30m'`.
 */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*/y;
const HINT = "use milliseconds or a string like '500ms', '90s', '15m', '2h', '7d', '1w' or '1h30m'";

/** Converts a Duration to milliseconds; throws a TypeError naming the bad value. */
export function toMilliseconds(duration: Duration, what = 'duration'): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration) || duration < 0) {
      throw new TypeError(`Invalid ${what} ${String(duration)}: ${HINT}`);
    }
    return duration;
  }
  if (typeof duration !== 'string') {
    throw new TypeError(`Invalid ${what} of type ${typeof duration}: ${HINT}`);
  }
  const text = duration.trim();
  if (text.length === 0) throw new TypeError(`Invalid ${what} '': ${HINT}`);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const match = PART.exec(text);
    if (!match || match.index !== start) {
      throw new TypeError(`Invalid ${what} '${duration}': ${HINT}`);
    }
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  return total;
}
