/**
 * Glob over strings: `*` matches any run of characters (newlines and slashes included, so `acme/*`
 * covers subgroups and `*deploy*` a comment of many lines), `?` one character. Everything else is
 * literal.
 *
 * Not a regular expression: `^.*a.*b.*$` backtracks, and a trigger filter meets text an outsider
 * wrote (a 1 MB comment made routing take 75 s). Here each `*` moves on to the leftmost place where
 * the next literal part matches, which is enough for globs, so a match costs at most the text's
 * length times the pattern's.
 */

/** A glob split at its stars: parts of literal characters and `?`, one character (code point) each. */
type Parts = readonly (readonly string[])[];

function partsOf(glob: string): Parts {
  return glob.split(/\*+/).map((part) => Array.from(part));
}

/** Code units of the character at `index`: 2 for a surrogate pair. */
function widthAt(text: string, index: number): number {
  return (text.codePointAt(index) ?? 0) > 0xffff ? 2 : 1;
}

/** Whether `index` falls between the two halves of a surrogate pair. */
function insidePair(text: string, index: number): boolean {
  return index > 0 && index < text.length && widthAt(text, index - 1) === 2;
}

/** Where `part` ends when it matches `text` from `start`, or -1. */
function matchAt(part: readonly string[], text: string, start: number): number {
  let index = start;
  for (const char of part) {
    if (index >= text.length) return -1;
    if (char === '?') index += widthAt(text, index);
    else if (text.startsWith(char, index)) index += char.length;
    else return -1;
  }
  return index;
}

/** Where the leftmost match of `part` at or after `from` ends, or -1. */
function matchFrom(part: readonly string[], text: string, from: number): number {
  for (let start = from; start + part.length <= text.length; start++) {
    if (insidePair(text, start)) continue;
    const end = matchAt(part, text, start);
    if (end >= 0) return end;
  }
  return -1;
}

/** The index `count` characters before the end of `text`, or -1 when it has fewer. */
function startOfLast(text: string, count: number): number {
  let index = text.length;
  for (let n = 0; n < count; n++) {
    if (index === 0) return -1;
    index -= index >= 2 && widthAt(text, index - 2) === 2 ? 2 : 1;
  }
  return index;
}

function matchParts(parts: Parts, text: string): boolean {
  const first = parts[0]!;
  if (parts.length === 1) return matchAt(first, text, 0) === text.length;
  let index = matchAt(first, text, 0);
  for (const middle of parts.slice(1, -1)) {
    if (index < 0) return false;
    index = matchFrom(middle, text, index);
  }
  if (index < 0) return false;
  const last = parts.at(-1)!;
  const start = startOfLast(text, last.length);
  return start >= index && matchAt(last, text, start) === text.length;
}

const compiled = new Map<string, Parts>();

export function globMatches(glob: string, value: string): boolean {
  let parts = compiled.get(glob);
  if (!parts) {
    parts = partsOf(glob);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(glob, parts);
  }
  return matchParts(parts, value);
}

/**
 * A glob over GitLab project and group paths (`acme/*` covers subgroups), compared without case as GitLab compares
 * paths: what a workflow's `permissions.gitlab` grants, and what a webhook source's `projects` speak for.
 */
export function gitLabPathMatches(glob: string, path: string): boolean {
  return globMatches(glob.toLowerCase(), path.toLowerCase());
}
