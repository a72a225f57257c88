/**
 * Long text cut for storage and display (a log line, an error's cause). What is left says how much
 * went, in a form that `redactText` (secrets.ts) recognises: a secret the cut split in two must not
 * leave its first half readable.
 */

const ELLIPSIS = '…';

export function cutText(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}${ELLIPSIS} (${text.length - maxChars} more characters cut)`;
}

/** The note `cutText` puts where it cut. */
export const CUT_NOTE = /… \(\d+ more characters cut\)/g;
/** A cheap test before looking for CUT_NOTE. */
export const CUT_NOTE_TAIL = 'more characters cut)';
