const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** '90s', '2h', '1h30m', '7d' or a number of ms. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`duration must be a non-negative number of ms, got ${value}`);
    return value;
  }
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== value.replace(/\s+/g, '')) {
    throw new Error(`'${value}' is not a duration: use e.g. '500ms', '90s', '15m', '2h', '7d', '1w' or '1h30m'`);
  }
  return parts.reduce((total, part) => total + Number(part[1]) * (UNITS[part[2] as string] as number), 0);
}
