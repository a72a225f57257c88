/**
 * Long text cut for storage and display (a log line, an error's cause). What is left says how much
 * went, in a form that `redactText` (secrets.ts) recognises: a secret the cut split in two must not
 * leave its first half readable.
 */

const ELLIPSIS = '…';

/** Where to cut `text` at `at` or just before: never between the two halves of a character such as an emoji. */
export function cutPoint(text: string, at: number): number {
  const last = text.charCodeAt(at - 1);
  return last >= 0xd800 && last <= 0xdbff ? at - 1 : at;
}

/**
 * `text` within `maxChars`, and a note of how much went. The cut is made before any of `keepWhole`
 * (secret values) that it would split, so that the value is either kept whole, to be redacted, or cut away.
 */
export function cutText(text: string, maxChars: number, keepWhole: readonly string[] = []): string {
  if (text.length <= maxChars) return text;
  let at = maxChars;
  for (const value of keepWhole) {
    if (value === '') continue;
    const straddling = text.lastIndexOf(value, at - 1);
    if (straddling !== -1 && straddling + value.length > at) at = straddling;
  }
  at = cutPoint(text, at);
  return `${text.slice(0, at)}${ELLIPSIS} (${text.length - at} more characters cut)`;
}

/** The note `cutText` puts where it cut. */
export const CUT_NOTE = /… \(\d+ more characters cut\)/g;
/** A cheap test before looking for CUT_NOTE. */
export const CUT_NOTE_TAIL = 'more characters cut)';
