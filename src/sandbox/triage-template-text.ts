import type { TriageTemplate, TriageTemplatePart } from '../sdk/triage-policy.js';

/**
 * The text of a gitlab-triage comment or summary, parsed into the parts the runner fills in
 * (src/blocks/triage-template.ts): text, `{{placeholder}}`s, and the few Ruby interpolations AutoFlow evaluates.
 */

export const TRIAGE_DOCS = 'docs/triage.md';

/** Where a template's problems go: the policy reader names the file, line, rule and key. */
export interface TemplateReport {
  problem(message: string): void;
  warn(message: string): void;
}

/** gitlab-triage's TextContentBuilder::SUPPORTED_PLACEHOLDERS (1.45.0). */
export const TRIAGE_PLACEHOLDERS = [
  'created_at',
  'updated_at',
  'closed_at',
  'merged_at',
  'state',
  'author',
  'assignee',
  'assignees',
  'reviewers',
  'source_branch',
  'target_branch',
  'closed_by',
  'merged_by',
  'milestone',
  'labels',
  'upvotes',
  'downvotes',
  'title',
  'web_url',
  'full_reference',
  'type',
  'items',
  'name',
];

/**
 * The gem evaluates every comment and summary text as a Ruby double-quoted string (`%Q`), so backslash escapes and
 * `#{...}` apply, then replaces `{{placeholder}}`s in the result.
 */
export function parseTriageTemplate(text: string, report: TemplateReport): TriageTemplate | undefined {
  const parts: TriageTemplatePart[] = [];
  const pushText = (chunk: string): void => {
    const last = parts[parts.length - 1];
    if (last?.kind === 'text') last.text += chunk;
    else if (chunk) parts.push({ kind: 'text', text: chunk });
  };
  let buffer = '';
  const flush = (): void => {
    placeholders(buffer, report, parts, pushText);
    buffer = '';
  };
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index] as string;
    if (char === '\\' && index + 1 < text.length) {
      const [decoded, used] = rubyEscape(text, index + 1);
      buffer += decoded;
      index += used;
    } else if (char === '#' && text[index + 1] === '{') {
      const end = closingBrace(text, index + 2);
      if (end < 0) {
        report.problem('an unclosed `#{`; write `\\#{` for the literal text');
        return undefined;
      }
      flush();
      const expression = text.slice(index + 2, end).trim();
      const part = rubyExpression(expression);
      if (part) parts.push(part);
      else {
        report.problem(
          `\`#{${expression}}\`: AutoFlow cannot evaluate Ruby; it understands only \`resource[:field]\` (optionally .capitalize/.upcase/.downcase) and \`N.days.from_now.strftime('%Y-%m-%d')\` / \`N.days.ago.strftime(...)\`; compute other text in a workflow (${TRIAGE_DOCS})`,
        );
      }
      index = end;
    } else buffer += char;
  }
  flush();
  return parts;
}

function placeholders(text: string, report: TemplateReport, parts: TriageTemplatePart[], pushText: (chunk: string) => void): void {
  let last = 0;
  for (const match of text.matchAll(/\{\{(\s*)([\w.]+)(\s*)\}\}/g)) {
    const [whole, before, name, after] = match as unknown as [string, string, string, string];
    pushText(text.slice(last, match.index));
    last = match.index + whole.length;
    if (before || after) {
      // The gem's PLACEHOLDER_REGEX is /{{([\w.]+)}}/: with spaces it posts the braces as written.
      report.warn(`\`${whole}\` has spaces, so the gem posts it as written; write \`{{${name}}}\` to fill it in`);
      pushText(whole);
    } else if (TRIAGE_PLACEHOLDERS.includes(name)) parts.push({ kind: 'placeholder', name });
    else {
      // The gem fills in the placeholders it knows and leaves any other as written.
      report.warn(`unknown placeholder \`${whole}\`, posted as written (as the gem does); known ones: ${TRIAGE_PLACEHOLDERS.join(', ')}`);
      pushText(whole);
    }
  }
  pushText(text.slice(last));
}

/** One Ruby double-quoted-string escape starting after the backslash at `text[at - 1]`: the text and how many characters it used. */
function rubyEscape(text: string, at: number): [string, number] {
  const char = text[at] as string;
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', s: ' ', a: '\x07', b: '\b', e: '\x1b', f: '\f', v: '\v', '\n': '' };
  if (char in simple) return [simple[char] as string, 1];
  const octal = /^[0-7]{1,3}/.exec(text.slice(at));
  if (octal) return [String.fromCharCode(parseInt(octal[0], 8)), octal[0].length];
  const hex = /^x([0-9a-fA-F]{1,2})/.exec(text.slice(at));
  if (hex) return [String.fromCharCode(parseInt(hex[1] as string, 16)), hex[0].length];
  const unicode = /^u(?:([0-9a-fA-F]{4})|\{([0-9a-fA-F]{1,6})\})/.exec(text.slice(at));
  if (unicode) return [String.fromCodePoint(parseInt((unicode[1] ?? unicode[2]) as string, 16)), unicode[0].length];
  // Any other escaped character stands for itself (`\#`, `\\`, `\"`, `\-`).
  return [char, 1];
}

/** The index of the `}` closing a `#{` whose body starts at `from`, skipping quoted strings; -1 if none. */
function closingBrace(text: string, from: number): number {
  let depth = 0;
  for (let index = from; index < text.length; index += 1) {
    const char = text[index];
    if (char === "'" || char === '"') {
      const end = text.indexOf(char, index + 1);
      if (end < 0) return -1;
      index = end;
    } else if (char === '{') depth += 1;
    else if (char === '}') {
      if (depth === 0) return index;
      depth -= 1;
    }
  }
  return -1;
}

const FIELD = /^resource((?:\[(?::\w+|"[^"]*"|'[^']*'|\d+)\])+)(?:\.(capitalize|upcase|downcase))?$/;
const DATE = /^(\d+)\.(days?|weeks?)\.(from_now|ago)\.strftime\(\s*(?:'([^']*)'|"([^"]*)")\s*\)$/;

/** The Ruby interpolations AutoFlow evaluates itself; anything else is undefined. */
function rubyExpression(expression: string): TriageTemplatePart | undefined {
  const field = FIELD.exec(expression);
  if (field) {
    const path = [...(field[1] as string).matchAll(/\[(?::(\w+)|"([^"]*)"|'([^']*)'|(\d+))\]/g)].map((index) =>
      index[4] !== undefined ? Number(index[4]) : ((index[1] ?? index[2] ?? index[3]) as string),
    );
    const part: TriageTemplatePart = { kind: 'field', path };
    if (field[2]) part.transform = field[2] as 'capitalize' | 'upcase' | 'downcase';
    return part;
  }
  const date = DATE.exec(expression);
  if (date) {
    const days = Number(date[1]) * ((date[2] as string).startsWith('week') ? 7 : 1);
    return { kind: 'date', days: date[3] === 'ago' ? -days : days, format: (date[4] ?? date[5]) as string };
  }
  return undefined;
}
