/**
 * What `autoflow show` and the web UI's run page say of a run's concurrency group, in the same words: its limit,
 * whether a newer run cancels it, and, while it is queued, what it waits for.
 */
import type { GroupSlotHolder } from '../core/ports.js';
import type { RunView } from './operations.js';

/** What the list of a queued run's slot holders says of one, after its id: `deploy, running, cancelling`. */
export function holderNote({ workflow, status, cancelling }: GroupSlotHolder): string {
  return `${workflow}, ${status}${cancelling ? ', cancelling' : ''}`;
}

/** The notes after the group's name: `limit 1; cancelInProgress: …; queued: …`. */
export function concurrencyNotes({ status, concurrency }: Pick<RunView, 'status' | 'concurrency'>): string[] {
  if (concurrency === undefined) return [];
  const notes = [`limit ${concurrency.limit}`];
  if (concurrency.cancelInProgress) notes.push('cancelInProgress: a newer run of the group cancels it');
  if (status === 'queued') {
    notes.push(
      concurrency.heldBy?.length === 0
        ? 'queued: it starts after the runs of the group queued before it'
        : 'queued: it starts when a run holding a slot of the group ends',
    );
    // A stuck holder does not end by itself.
    const stuck = concurrency.heldBy?.filter((holder) => holder.status === 'stuck').map((holder) => holder.id) ?? [];
    if (stuck.length > 0) {
      const [who, them] =
        stuck.length === 1
          ? [`${stuck[0]} is stuck and keeps its slot`, 'it']
          : [`${stuck.join(', ')} are stuck and keep their slots`, 'them'];
      notes.push(`${who} until retried on code that replays ${them} (autoflow retry --latest) or ended (autoflow terminate)`);
    }
  }
  return notes;
}
