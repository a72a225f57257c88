import type { TriageActions, TriageSummarize, TriageTemplate, TriageTemplatePart } from '../sdk/triage-policy.js';

/** An issue or merge request as GitLab's list API gives it, with the resource type the gem adds as `type`. */
export type TriageResource = Record<string, unknown> & { iid: number; type: 'issues' | 'merge_requests' };

/** What a template is rendered with: a resource (absent in a summary's title), the items of a summary, the run's time. */
export interface TemplateContext {
  resource?: TriageResource;
  items?: string;
  type: 'issues' | 'merge_requests';
  at: Date;
  /**
   * `redact_confidential_resources`: on a confidential resource, placeholders show `(confidential)`.
   * @default false
   */
  redactConfidential?: boolean;
}

/** A field as text: objects as JSON, absent as nothing. */
function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

const username = (user: unknown): string | undefined => {
  const name = (user as { username?: unknown } | null | undefined)?.username;
  return typeof name === 'string' ? `@${name}` : undefined;
};

const CONFIDENTIAL = '(confidential)';

/**
 * What the gem's TextContentBuilder redacts: every placeholder but these, which a reader of the summary or comment
 * needs to reach the resource and which say nothing of its content. `#{resource[:field]}` is never redacted (the gem
 * evaluates it on the raw resource).
 */
const NEVER_REDACTED = ['web_url', 'full_reference', 'type', 'items'];

/** A redacted placeholder keeps the gem's wrapping of its value: `@(confidential)`, `~"(confidential)"`. */
function redacted(name: string): string {
  switch (name) {
    case 'author':
    case 'assignee':
    case 'assignees':
    case 'reviewers':
    case 'closed_by':
    case 'merged_by':
      return `@${CONFIDENTIAL}`;
    case 'milestone':
      return `%"${CONFIDENTIAL}"`;
    case 'labels':
      return `~"${CONFIDENTIAL}"`;
    default:
      return CONFIDENTIAL;
  }
}

/** The gem's placeholders, as GitLab text: users as mentions, labels and milestones as references. */
function placeholder(name: string, context: TemplateContext): string {
  const resource = context.resource;
  if (name === 'items') return context.items ?? '';
  if (name === 'type') return context.type;
  if (!resource) return '';
  if (context.redactConfidential && resource.confidential === true && !NEVER_REDACTED.includes(name)) return redacted(name);
  switch (name) {
    case 'author':
      return username(resource.author) ?? '';
    case 'assignee':
      return username((resource.assignees as unknown[] | undefined)?.[0] ?? resource.assignee) ?? '';
    case 'assignees':
      return ((resource.assignees as unknown[] | undefined) ?? []).flatMap((user) => username(user) ?? []).join(', ');
    case 'reviewers':
      return ((resource.reviewers as unknown[] | undefined) ?? []).flatMap((user) => username(user) ?? []).join(', ');
    case 'closed_by':
    case 'merged_by':
      return username(resource[name]) ?? '';
    case 'milestone': {
      const title = (resource.milestone as { title?: unknown } | null | undefined)?.title;
      return typeof title === 'string' ? `%"${title}"` : '';
    }
    case 'labels':
      return ((resource.labels as unknown[] | undefined) ?? []).map((label) => `~"${String(label)}"`).join(', ');
    case 'full_reference':
      return asText((resource.references as { full?: unknown } | undefined)?.full);
    default:
      return asText(resource[name]);
  }
}

function field(path: (string | number)[], context: TemplateContext): unknown {
  let value: unknown = context.resource ?? { type: context.type };
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

function transformed(text: string, transform: 'capitalize' | 'upcase' | 'downcase' | undefined): string {
  if (transform === 'upcase') return text.toUpperCase();
  if (transform === 'downcase') return text.toLowerCase();
  // Ruby's String#capitalize also lowers the rest.
  if (transform === 'capitalize') return text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();
  return text;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/** Ruby's `strftime` for the directives date formats use, in UTC; any other directive stays as written. */
export function strftime(date: Date, format: string): string {
  return format.replace(/%([%YymdeHMSbBaAj])/g, (_, directive: string) => {
    switch (directive) {
      case 'Y':
        return String(date.getUTCFullYear());
      case 'y':
        return pad(date.getUTCFullYear() % 100);
      case 'm':
        return pad(date.getUTCMonth() + 1);
      case 'd':
        return pad(date.getUTCDate());
      case 'e':
        return String(date.getUTCDate()).padStart(2, ' ');
      case 'H':
        return pad(date.getUTCHours());
      case 'M':
        return pad(date.getUTCMinutes());
      case 'S':
        return pad(date.getUTCSeconds());
      case 'b':
        return MONTHS[date.getUTCMonth()]!.slice(0, 3);
      case 'B':
        return MONTHS[date.getUTCMonth()]!;
      case 'a':
        return DAYS[date.getUTCDay()]!.slice(0, 3);
      case 'A':
        return DAYS[date.getUTCDay()]!;
      case 'j': {
        const startOfYear = Date.UTC(date.getUTCFullYear(), 0, 1);
        return pad(Math.floor((date.getTime() - startOfYear) / 86_400_000) + 1, 3);
      }
      default:
        return '%';
    }
  });
}

function renderPart(part: TriageTemplatePart, context: TemplateContext): string {
  switch (part.kind) {
    case 'text':
      return part.text;
    case 'placeholder':
      return placeholder(part.name, context);
    case 'field':
      return transformed(asText(field(part.path, context)), part.transform);
    case 'date':
      return strftime(new Date(context.at.getTime() + part.days * 86_400_000), part.format);
  }
}

export function renderTemplate(template: TriageTemplate, context: TemplateContext): string {
  return template.map((part) => renderPart(part, context)).join('');
}

/** The note a rule posts on `resource`: its comment, then a `/cc` of `mention`; empty when it posts none. */
export function renderComment(actions: TriageActions, resource: TriageResource, at: Date): string {
  const redactConfidential = actions.redactConfidential !== false;
  return [
    actions.comment ? renderTemplate(actions.comment, { resource, type: resource.type, at, redactConfidential }) : '',
    actions.mention?.length ? `/cc ${actions.mention.map((name) => `@${name}`).join(' ')}` : '',
  ]
    .map((part) => part.trimEnd())
    .filter((part) => part !== '')
    .join('\n\n');
}

/**
 * A summary's `{{items}}`: the `item` line of each resource. A confidential resource keeps its line, its reference
 * and URL; its other placeholders show `(confidential)` unless the summary has `redact_confidential_resources: false`.
 */
export function renderItems(summarize: TriageSummarize, resources: TriageResource[], at: Date): string {
  const redactConfidential = summarize.redactConfidential;
  return resources.map((resource) => renderTemplate(summarize.item, { resource, type: resource.type, at, redactConfidential })).join('\n');
}

/** What a rule does to each resource, in words, for its report and log line (`label ~"stale"`, `close`, `comment`…). */
export function describeActions(actions: TriageActions): string[] {
  const words: string[] = [];
  if (actions.labels?.length) words.push(`label ${actions.labels.map((label) => `~"${label}"`).join(' ')}`);
  if (actions.removeLabels?.length) words.push(`unlabel ${actions.removeLabels.map((label) => `~"${label}"`).join(' ')}`);
  if (actions.status) words.push(actions.status);
  if (actions.comment)
    words.push(actions.commentType === 'thread' ? 'start a thread' : actions.commentInternal ? 'internal comment' : 'comment');
  if (actions.mention?.length) words.push(`mention ${actions.mention.map((name) => `@${name}`).join(' ')}`);
  if (actions.move) words.push(`move to ${actions.move}`);
  if (actions.summarize) words.push('summarize');
  if (actions.commentOnSummary) words.push('comment on the summary');
  return words;
}
