import { createHash } from 'node:crypto';
import type { Json, JsonObject } from '../../core/model.js';

/**
 * The hidden marker an idempotent create carries on every attempt, derived from the call's
 * idempotency key (`runId:step`), so that a retry can find what an earlier attempt created.
 * `token` is one word of letters and digits: GitLab's issue and merge request `search` (trigram
 * `ILIKE` on small instances, full-text on large ones) finds it either way, where punctuation
 * inside it could split it into terms. 96 bits of SHA-256 keep collisions out of reach.
 */
export interface Marker {
  token: string;
  /** `<!-- autoflow… -->`: invisible in GitLab's rendered Markdown. */
  comment: string;
}

export function markerOf(idempotencyKey: string): Marker {
  const token = `autoflow${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 24)}`;
  return { token, comment: `<!-- ${token} -->` };
}

/**
 * A line GitLab may run as a quick action (`/label ~stale`, `/milestone %v1`): a slash command at the start of a
 * line. `/cc` is not one: GitLab keeps it in the note as text, for its mentions.
 */
const QUICK_ACTION_LINE = /^\/(?!cc(?:\s|$))[a-z_]+(?:\s.*)?$/i;

/**
 * Whether a note's body is only quick actions and blank lines. GitLab runs them and saves no note, unless
 * something else is left: the marker would be that something, a note that shows nothing and notifies everyone.
 */
export function isQuickActionsOnly(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  return lines.length > 0 && lines.every((line) => QUICK_ACTION_LINE.test(line));
}

/**
 * `text` with the marker appended on a line of its own. A note body of quick actions only is sent as it is:
 * GitLab saves no note for it, so there is nothing a retry could find, and running the commands again is harmless.
 * A description keeps its marker, which stays after GitLab takes its quick actions out.
 */
export function withMarker(text: Json | undefined, marker: Marker, field: 'description' | 'body'): string {
  if (typeof text !== 'string' || text === '') return marker.comment;
  if (field === 'body' && isQuickActionsOnly(text)) return text;
  return `${text}\n\n${marker.comment}`;
}

/**
 * The object an earlier attempt created, among `candidates`: the one whose `field` holds the
 * marker. The oldest wins, should someone have copied the marker into another object since.
 */
export function findMarked(candidates: Json, field: 'description' | 'body', marker: Marker): JsonObject | undefined {
  if (!Array.isArray(candidates)) return undefined;
  const marked = candidates.filter(
    (item): item is JsonObject =>
      item !== null &&
      typeof item === 'object' &&
      !Array.isArray(item) &&
      typeof item[field] === 'string' &&
      item[field].includes(marker.comment),
  );
  return marked.sort((a, b) => Number(a['id']) - Number(b['id']))[0];
}
