/**
 * A deterministic `Date` for the sandbox.
 *
 * - `new Date()`, `Date()` and `Date.now()` return the time of the current workflow task, which is
 *   recorded in history, so a replay sees the same value.
 * - Local time is UTC. QuickJS takes its time zone from the host process, so without this a run
 *   replayed on a node with another `TZ` would compute different `getHours()` and fail as
 *   nondeterministic. The local-time methods are therefore aliased to their UTC twins.
 */

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Parts with a UTC getter and setter; `Day` has a getter only. */
const UTC_TWINS = ['FullYear', 'Month', 'Date', 'Hours', 'Minutes', 'Seconds', 'Milliseconds'];
/**
 * A date-time string carrying its own offset is not in local time: `Z`, `+02:00`, `GMT`, or one of the abbreviations
 * QuickJS's parser knows (`EST`, `CEST`…, in any case; others, such as `BST`, it refuses).
 */
const HAS_ZONE = /(?:\d[zZ]\b|[+-]\d\d:?\d\d\b|\b(?:GMT|UTC|UT|Z|[ECMP][SD]T|WES?T|CES?T|EES?T)\b)/i;
/** ISO date-only forms are UTC by the spec already. */
const ISO_DATE_ONLY = /^[+-]?\d{4,6}(?:-\d\d){0,2}$/;

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

function datePart(d: Date): string {
  return `${WEEKDAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCFullYear(), 4)}`;
}
function timePart(d: Date): string {
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} GMT+0000`;
}
function localeDate(d: Date): string {
  return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCFullYear(), 4)}`;
}
function localeTime(d: Date): string {
  const hours = d.getUTCHours();
  return `${pad(hours % 12 || 12)}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${hours < 12 ? 'AM' : 'PM'}`;
}

/** Replaces the local-time methods of `proto` (the built-in Date.prototype) with UTC ones. */
function makeLocalTimeUtc(proto: Date & Record<string, unknown>): void {
  const define = (name: string, value: unknown): void => {
    Object.defineProperty(proto, name, { value, writable: true, configurable: true, enumerable: false });
  };
  for (const part of UTC_TWINS) {
    define(`get${part}`, proto[`getUTC${part}`]);
    define(`set${part}`, proto[`setUTC${part}`]);
  }
  define('getDay', Reflect.get(proto, 'getUTCDay'));
  define('getTimezoneOffset', () => 0);
  const formatted = (format: (d: Date) => string) =>
    function (this: Date): string {
      return Number.isNaN(this.getTime()) ? 'Invalid Date' : format(this);
    };
  define(
    'toString',
    formatted((d) => `${datePart(d)} ${timePart(d)}`),
  );
  define('toDateString', formatted(datePart));
  define('toTimeString', formatted(timePart));
  define(
    'toLocaleString',
    formatted((d) => `${localeDate(d)}, ${localeTime(d)}`),
  );
  define('toLocaleDateString', formatted(localeDate));
  define('toLocaleTimeString', formatted(localeTime));
}

/**
 * Builds the sandbox's `Date` from the built-in one. `now` returns the current task's time; `api` says which call
 * asked, for its errors. The built-in prototype is shared, so `instanceof Date` holds for every date either makes.
 */
export function createDeterministicDate(Builtin: DateConstructor, now: (api: string) => number): DateConstructor {
  const builtinParse = Builtin.parse;
  // Taken before makeLocalTimeUtc replaces it: parse needs the host's real offset.
  const builtinOffset: (this: Date) => number = Reflect.get(Builtin.prototype, 'getTimezoneOffset');

  /**
   * Date.parse in UTC. A string in local time is read with `Z` added, which every form QuickJS reads takes as UTC.
   * Undoing the host's offset afterwards, as a last resort, is wrong for times the host's clocks skip (02:30 on a
   * day Berlin moves to summer time), so it is kept for strings that do not parse with the `Z`.
   */
  const parse = (text: string): number => {
    const trimmed = String(text).trim();
    if (HAS_ZONE.test(trimmed) || ISO_DATE_ONLY.test(trimmed)) return builtinParse(trimmed);
    const utc = builtinParse(`${trimmed}Z`);
    if (!Number.isNaN(utc)) return utc;
    const value = builtinParse(trimmed);
    return Number.isNaN(value) ? value : value - builtinOffset.call(new Builtin(value)) * 60_000;
  };

  const toTimeValue = (value: unknown): unknown => {
    if (typeof value === 'string') return parse(value);
    if (value instanceof Builtin) return value.getTime();
    return value;
  };

  function DeterministicDate(this: unknown, ...args: unknown[]): Date | string {
    if (!new.target) return new Builtin(now('Date()')).toString();
    let timeValue: unknown;
    if (args.length === 0) timeValue = now('new Date()');
    else if (args.length === 1) timeValue = toTimeValue(args[0]);
    else timeValue = Builtin.UTC(...(args.map(Number) as [number, number]));
    return Reflect.construct(Builtin, [timeValue], new.target) as Date;
  }

  const constructor = DeterministicDate as unknown as DateConstructor;
  Object.defineProperties(constructor, {
    prototype: { value: Builtin.prototype, writable: false },
    now: { value: () => now('Date.now()'), writable: true, configurable: true },
    parse: { value: parse, writable: true, configurable: true },
    UTC: { value: Builtin.UTC, writable: true, configurable: true },
  });
  Object.defineProperty(Builtin.prototype, 'constructor', { value: constructor, writable: true, configurable: true });
  makeLocalTimeUtc(Builtin.prototype as Date & Record<string, unknown>);
  return constructor;
}
