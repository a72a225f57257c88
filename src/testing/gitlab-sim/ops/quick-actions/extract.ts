/** A quick action as written: its name in lower case, and what follows it on the line, if anything. */
export interface WrittenCommand {
  name: string;
  arg: string | undefined;
}

export interface Extraction {
  /** The text without the command lines, as GitLab stores it: carriage returns removed, trailing whitespace trimmed. */
  text: string;
  commands: WrittenCommand[];
}

const escape = (name: string): string => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * GitLab's extractor (`Gitlab::QuickActions::Extractor`), its regular expression kept as it is, quirks
 * included: a command is a line that starts with `/name`, then optionally one space and an argument;
 * the blank lines after it go with it. Fenced code, text between backticks that span lines, HTML blocks
 * and `>>>` quotes are skipped. Names it is not given (unknown commands, GitLab's no-op `/cc`) stay as text.
 */
function commandsPattern(names: readonly string[]): RegExp {
  const code = '(?<code>^```.+?\\n```$)';
  const inlineCode = '(?<inline>^.*`\\n*.+?\\n*`$)';
  const html = '(?<html>^<[^>]+?>\\n.+?\\n<\\/[^>]+?>$)';
  const quote = '(?<quote>^>>>.+?\\n>>>$)';
  const command = `(?:^\\/(?<cmd>${names.map(escape).join('|')})(?:[ ](?<arg>[^\\n]*))?(?:\\s*\\n|$))`;
  // Ruby's `m` (dot matches newline) is `s` here; Ruby's `^`/`$` always match at lines, hence `m`.
  return new RegExp([code, inlineCode, html, quote, command].join('|'), 'gims');
}

const patterns = new Map<string, RegExp>();

/** The commands of `text` among `names`, in order, and the text without them. */
export function extractCommands(text: string, names: readonly string[]): Extraction {
  const key = names.join('\0');
  const pattern = patterns.get(key) ?? commandsPattern(names);
  patterns.set(key, pattern);
  const commands: WrittenCommand[] = [];
  const kept = text.replaceAll('\r', '').replace(pattern, (match: string, ...rest: unknown[]) => {
    const groups = rest.at(-1) as Record<string, string | undefined>;
    if (groups['cmd'] === undefined) return match;
    const arg = groups['arg']?.trim();
    commands.push({ name: groups['cmd'].toLowerCase(), arg: arg === '' ? undefined : arg });
    return '';
  });
  return { text: kept.trimEnd(), commands };
}
