import { formatDuration, parseDuration } from '../../durations.js';
import { isDate } from '../../format.js';
import { canSetMetadata } from '../access.js';
import type { CommandScope, QuickActionDefinition } from './definition.js';

/**
 * `/estimate` and `/spend`, after GitLab's time tracking actions: GitLab's `admin_issue` /
 * `admin_merge_request`, which the simulator grants with the item's metadata.
 */

const tracksTime = (scope: CommandScope): boolean => canSetMetadata(scope.state, scope.actor, scope.item);

/** An estimate: a duration, 0 included (it removes the estimate); never negative. */
function estimateOf(arg: string | undefined): number | undefined {
  const seconds = arg === undefined ? undefined : parseDuration(arg);
  return seconds === undefined || seconds < 0 ? undefined : seconds;
}

/**
 * `1h 30m`, `-30m`, optionally followed by the day it was spent (`2026-01-05`), which may not be in
 * the future (GitLab's `SpendTimeAndDateSeparator`). Undefined when GitLab would not read it.
 */
function spentOf(scope: CommandScope, arg: string | undefined): { seconds: number; date: string | null } | undefined {
  if (arg === undefined) return undefined;
  const dated = arg.match(/^(.*?)\s*(\d{4}-\d{2}-\d{2})$/);
  const date = dated?.[2] ?? null;
  if (date !== null && (!isDate(date) || Number.isNaN(Date.parse(date)) || Date.parse(date) > scope.state.now())) return undefined;
  const seconds = parseDuration(dated?.[1] ?? arg);
  return seconds === undefined || seconds === 0 ? undefined : { seconds, date };
}

export const TIME_TRACKING_ACTIONS: readonly QuickActionDefinition[] = [
  {
    names: ['estimate', 'estimate_time'],
    on: ['issue', 'merge_request'],
    available: tracksTime,
    run(scope, arg) {
      const seconds = estimateOf(arg);
      if (seconds !== undefined) scope.updates.time_estimate = seconds;
    },
    message(_scope, arg) {
      const seconds = estimateOf(arg);
      if (seconds === 0) return 'Removed time estimate.';
      return seconds === undefined ? undefined : `Set time estimate to ${formatDuration(seconds)}.`;
    },
  },
  {
    names: ['spend', 'spent', 'spend_time'],
    on: ['issue', 'merge_request'],
    available: tracksTime,
    run(scope, arg) {
      const spent = spentOf(scope, arg);
      if (spent) scope.updates.spend_time = { duration: spent.seconds, user_id: scope.actor.id, spent_at: spent.date, category: null };
    },
    message(scope, arg) {
      const spent = spentOf(scope, arg);
      return spent && `${spent.seconds > 0 ? 'Added' : 'Subtracted'} ${formatDuration(spent.seconds)} spent time.`;
    },
  },
  {
    names: ['remove_estimate', 'remove_time_estimate'],
    on: ['issue', 'merge_request'],
    available: (scope) => !scope.isNew && tracksTime(scope),
    run: (scope) => void (scope.updates.time_estimate = 0),
    message: () => 'Removed time estimate.',
  },
  {
    names: ['remove_time_spent'],
    on: ['issue', 'merge_request'],
    available: (scope) => !scope.isNew && tracksTime(scope),
    run: (scope) => void (scope.updates.spend_time = { duration: 'reset', user_id: scope.actor.id, spent_at: null, category: null }),
    message: () => 'Removed spent time.',
  },
];
