/**
 * Time tracking durations as GitLab reads and writes them (`Gitlab::TimeTrackingFormatter`, on
 * ChronicDuration): a day is 8 hours, a week 5 days, a month 4 weeks; a bare number is hours.
 */

const UNITS: readonly (readonly [short: string, seconds: number, names: RegExp])[] = [
  ['mo', 4 * 5 * 8 * 3600, /^(mo|mos|months?)$/],
  ['w', 5 * 8 * 3600, /^(w|wks?|weeks?)$/],
  ['d', 8 * 3600, /^(d|days?)$/],
  ['h', 3600, /^(h|hrs?|hours?)$/],
  ['m', 60, /^(m|mins?|minutes?)$/],
  ['s', 1, /^(s|secs?|seconds?)$/],
];

/** Seconds of `1w 3d 2h 14m`, `1h30m`, `1.5h` or `3` (hours); a leading `-` subtracts. Undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  const negative = trimmed.startsWith('-');
  const body = negative ? trimmed.slice(1).trim() : trimmed;
  if (/^\d+(\.\d+)?$/.test(body)) return (negative ? -1 : 1) * Math.round(Number(body) * 3600);
  const parts = body.split(/(\d+(?:\.\d+)?)\s*([a-z]+)/);
  // `split` with groups leaves the separators at every third place: they must be blank or commas.
  if (parts.length < 4 || parts.some((part, i) => i % 3 === 0 && !/^[\s,]*(and)?[\s,]*$/.test(part))) return undefined;
  let seconds = 0;
  for (let i = 1; i < parts.length; i += 3) {
    const unit = UNITS.find(([, , names]) => names.test(parts[i + 1] ?? ''));
    if (!unit) return undefined;
    seconds += Number(parts[i]) * unit[1];
  }
  return (negative ? -1 : 1) * Math.round(seconds);
}

/** `1w 3d 2h 14m`, as GitLab writes durations (`human_time_estimate`, quick action messages); null for none. */
export function formatDuration(seconds: number): string | null {
  let left = Math.abs(Math.round(seconds));
  const parts: string[] = [];
  for (const [short, size] of UNITS) {
    const count = Math.floor(left / size);
    left -= count * size;
    if (count > 0) parts.push(`${count}${short}`);
  }
  return parts.length === 0 ? null : parts.join(' ');
}
