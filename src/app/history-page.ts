/** Pages of a run's history (Operations.getHistoryPage), from its events. */
import type { HistoryEvent } from '../core/model.js';
import { DEFAULT_HISTORY_PAGE, HISTORY_PAGE_CHARS, MAX_HISTORY_PAGE, type HistoryPage } from './operations.js';

/**
 * Events read from the store at once: the first read, and the most. A page ends at HISTORY_PAGE_CHARS, so reading
 * all of `limit` (up to 10,000 events of up to 2 MiB) first would hold far more than the page; reading a few at a
 * time, more while they are small, holds at most a page and one read (≤ 64 events) more. Measured on SQLite: a
 * history of 60 calls that answered 1.9 MB each came in 30 pages of ≤ 3.8 MB, ≈160 ms each, reading 151 of its 122
 * events (the first page alone had read 122 events, 114 MB); one of 10,000 small events in 11 pages, 54 ms in all.
 */
const FIRST_READ = 4;
const MAX_READ = 64;

/** How many events to read next: more at a time while they are small, no more than `room` holds at the `largest` seen. */
function nextRead(batch: number, room: number, largest: number): number {
  return Math.max(1, Math.min(2 * batch, MAX_READ, Math.floor(room / largest) + 1));
}

/** The page size a request asks for, within bounds. */
export function historyPageLimit(limit: number | undefined): number {
  return Math.min(Math.max(1, Math.floor(limit ?? DEFAULT_HISTORY_PAGE)), MAX_HISTORY_PAGE);
}

/** Reads `count` events of the run from seq `from` on (fewer at the history's end). */
export type HistoryReader = (from: number, count: number) => Promise<HistoryEvent[]>;

/**
 * The page of at most `limit` events after seq `after`, ending early at `maxChars` of JSON (never empty while events
 * follow); `next` is where the following page begins, present whenever an event follows, as the store says.
 */
export async function readHistoryPage(
  read: HistoryReader,
  after: number,
  limit: number,
  maxChars = HISTORY_PAGE_CHARS,
): Promise<HistoryPage> {
  const events: HistoryEvent[] = [];
  let chars = 0;
  let largest = 1;
  let batch = FIRST_READ;
  for (let from = after + 1; ;) {
    // One event beyond `limit` is read, so that whether a next page exists needs no other read.
    const wanted = Math.min(batch, limit + 1 - events.length);
    const got = await read(from, wanted);
    for (const event of got) {
      const size = JSON.stringify(event).length;
      if (events.length === limit || (events.length > 0 && chars + size > maxChars)) return { events, next: events.at(-1)!.seq };
      events.push(event);
      chars += size;
      largest = Math.max(largest, size);
    }
    if (got.length < wanted) return { events };
    from = got.at(-1)!.seq + 1;
    batch = nextRead(batch, maxChars - chars, largest);
  }
}

/**
 * The latest `count` events of a history of `length` (the web UI's run page), fewer when their JSON would pass
 * `maxChars` (never none while the history has events), oldest first: read backwards, as readHistoryPage reads forwards.
 */
export async function readHistoryTail(
  read: HistoryReader,
  length: number,
  count: number,
  maxChars = HISTORY_PAGE_CHARS,
): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let chars = 0;
  let largest = 1;
  let batch = FIRST_READ;
  for (let end = length; end > 0 && events.length < count;) {
    const from = Math.max(0, end - Math.min(batch, count - events.length));
    const got = await read(from, end - from);
    for (let index = got.length - 1; index >= 0; index--) {
      const event = got[index]!;
      const size = JSON.stringify(event).length;
      if (events.length > 0 && chars + size > maxChars) return events.reverse();
      events.push(event);
      chars += size;
      largest = Math.max(largest, size);
    }
    if (got.length === 0) break;
    end = from;
    batch = nextRead(batch, maxChars - chars, largest);
  }
  return events.reverse();
}
