import { toMilliseconds } from '../sdk/duration.js';
import { UsageError } from './errors.js';

/**
 * A `--since` flag (`runs`, `retry --failed`): an ISO 8601 time, or a duration back from `now` (`2h`, `30m`, `1d`).
 * Epoch ms, or a UsageError that says what it takes.
 * @example sinceTime('2h', Date.now()) // two hours ago
 */
export function sinceTime(given: string, now: number): number {
  if (/^\d{4}-\d\d-\d\d/.test(given)) {
    // Every time the CLI prints is UTC: a time given without a zone is read as UTC too, whatever this machine's zone.
    const zoned = given.length === 10 || /(?:Z|[+-]\d\d:?\d\d)$/i.test(given);
    const at = Date.parse(zoned ? given : `${given}Z`);
    if (Number.isFinite(at)) return at;
  } else {
    try {
      return now - toMilliseconds(given, '--since');
    } catch {
      // Reported below, with both forms.
    }
  }
  throw new UsageError(`--since ${given}: give a time (2026-12-06T10:00:00Z) or how long ago (2h, 30m, 1d)`);
}
