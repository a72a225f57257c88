/** Pages of a run's history (Operations.getHistoryPage), from its events. */
import type { HistoryEvent } from '../core/model.js';
import { DEFAULT_HISTORY_PAGE, MAX_HISTORY_PAGE, type HistoryPage } from './operations.js';

/** The page size a request asks for, within bounds. */
export function historyPageLimit(limit: number | undefined): number {
  return Math.min(Math.max(1, Math.floor(limit ?? DEFAULT_HISTORY_PAGE)), MAX_HISTORY_PAGE);
}

/**
 * The page of `limit` events that `following` begins (the events after the page's `after`, in order):
 * read one more than `limit`, so that whether a next page exists needs no other read.
 */
export function historyPage(following: readonly HistoryEvent[], limit: number): HistoryPage {
  if (following.length <= limit) return { events: [...following] };
  const events = following.slice(0, limit);
  return { events, next: events.at(-1)!.seq };
}
