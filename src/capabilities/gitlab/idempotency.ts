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
 * The quick actions GitLab takes out of a note's text (its user documentation's list, every edition and context:
 * a command the note's issue or merge request cannot take is taken out all the same). Left out: `/cc`, kept as
 * text for its mentions, and `/shrug` and `/tableflip`, which write text. A slash command GitLab does not know
 * stays in the note as text too, so a note of such lines is saved and must carry the marker.
 */
const GITLAB_QUICK_ACTIONS = new Set(
  [
    'add_child add_contacts add_email approve assign assign_reviewer award blocked_by blocks board_move',
    'checkin_reminder child clear_health_status clear_weight clone close confidential convert_to_ticket',
    'copy_metadata create_merge_request done draft due duplicate epic estimate estimate_time',
    'health_status iteration label labels link lock merge milestone move page parent promote promote_to',
    'promote_to_incident publish react ready reassign reassign_reviewer rebase relabel relate',
    'remove_child remove_contacts remove_due_date remove_email remove_epic remove_estimate',
    'remove_health_status remove_iteration remove_label remove_milestone remove_parent remove_reviewer',
    'remove_time_estimate remove_time_spent remove_weight remove_zoom reopen request_changes',
    'request_review reviewer set_parent severity spend spend_time spent squash status submit_review',
    'subscribe target_branch timeline title todo type unapprove unassign unassign_reviewer unlabel unlink',
    'unlock unsubscribe weight wip zoom',
  ]
    .join(' ')
    .split(' '),
);

/** A command line as GitLab's extractor reads it: `/name` at the start of a line, then one space and an argument. */
const COMMAND_LINE = /^\/([a-z_]+)(?: .*)?$/i;

function isQuickActionLine(line: string): boolean {
  const name = COMMAND_LINE.exec(line.trimEnd())?.[1];
  return name !== undefined && GITLAB_QUICK_ACTIONS.has(name.toLowerCase());
}

/**
 * Whether a note's body is only quick actions and blank lines. GitLab runs them and saves no note, unless
 * something else is left: the marker would be that something, a note that shows nothing and notifies everyone.
 */
export function isQuickActionsOnly(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  return lines.length > 0 && lines.every(isQuickActionLine);
}

/**
 * The quick actions that do something more each time they run: time spent is added again, an award emoji toggles off,
 * an issue is cloned or a merge request created twice, a timeline event is added again. The others set a state
 * (labels, assignees, a due date…), which running them again leaves as it is.
 */
const UNREPEATABLE_QUICK_ACTIONS = new Set(['spend', 'spend_time', 'spent', 'award', 'react', 'clone', 'timeline', 'create_merge_request']);

/** The lines of a note body of quick actions that GitLab would apply again if the note were sent again. */
export function unrepeatableQuickActions(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => UNREPEATABLE_QUICK_ACTIONS.has(COMMAND_LINE.exec(line)?.[1]?.toLowerCase() ?? ''));
}

/**
 * `text` with the marker appended on a line of its own. A note body of quick actions only is sent as it is:
 * GitLab saves no note for it, so there is nothing a retry could find; running commands that set a state again is
 * harmless, and the capability sends no other kind again (unrepeatableQuickActions).
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
