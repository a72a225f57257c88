import type { TriageComparison, TriageConditions, TriageMemberCondition } from '../sdk/triage-policy.js';
import { TRIAGE_DOCS } from './triage-template-text.js';
import { YamlValues, type Place, type Value } from './yaml-values.js';

/**
 * The `conditions:` of a gitlab-triage rule, read into the model of src/sdk/triage-policy.ts: the half of the policy file
 * reader (triage-policy-file.ts) that decides which resources a rule selects, and so where ignoring a key is not harmless.
 */

// From the gem's README ("Available condition types") and its filters: known to the gem, but not run by AutoFlow.
const UNSUPPORTED_CONDITIONS = ['iteration', 'health_status', 'weight', 'issue_type', 'protected', 'name'];
export const ACTION_KEYS = [
  'labels',
  'remove_labels',
  'status',
  'mention',
  'move',
  'comment',
  'comment_type',
  'comment_internal',
  'redact_confidential_resources',
  'summarize',
  'comment_on_summary',
];
// Actions the gem has that AutoFlow does not run: an error, because dropping them would silently do less than the file says.
export const UNSUPPORTED_ACTIONS = ['issue', 'delete'];

export abstract class ConditionReader extends YamlValues {
  /** The resource type of the rules being read: some conditions exist for merge requests only. */
  protected resource: 'issues' | 'merge_requests' = 'issues';

  protected conditions(value: Value, place: Place): TriageConditions {
    const conditions: TriageConditions = {};
    const map = this.map(value, place);
    if (!map) return conditions;
    for (const [key, entry] of map.entries) {
      const at = { ...place, line: entry.line, path: `conditions.${key}` };
      switch (key) {
        case 'state': {
          const allowed = this.resource === 'issues' ? ['opened', 'closed', 'all'] : ['opened', 'closed', 'merged', 'locked', 'all'];
          const state = this.oneOf(entry, at, allowed);
          if (state) conditions.state = state as NonNullable<TriageConditions['state']>;
          break;
        }
        case 'date':
          this.date(entry, at, conditions);
          break;
        case 'labels': {
          const labels = this.labelCondition(entry, at);
          if (labels) conditions.labels = labels;
          break;
        }
        case 'forbidden_labels': {
          const labels = this.strings(entry, at);
          if (labels) conditions.forbiddenLabels = labels;
          break;
        }
        case 'no_additional_labels': {
          const flag = this.boolean(entry, at);
          if (flag === false) {
            this.warn(
              at,
              '`false` does not turn it off: the gem applies it whenever the key is there, and so does AutoFlow; remove the key to allow other labels',
            );
          }
          if (flag !== undefined) conditions.noAdditionalLabels = true;
          break;
        }
        case 'milestone':
          this.milestone(entry, at, conditions);
          break;
        case 'author_username': {
          const username = this.string(entry, at);
          if (username !== undefined) conditions.authorUsername = username.replace(/^@/, '');
          break;
        }
        case 'author_member':
        case 'assignee_member': {
          const member = this.member(entry, at);
          if (member && key === 'author_member') conditions.authorMember = member;
          else if (member) conditions.assigneeMember = member;
          break;
        }
        case 'votes':
        case 'upvotes': {
          if (conditions.votes) this.problem(at, 'give either `votes` or the legacy `upvotes`, not both');
          const votes = this.comparison(entry, at, ['upvotes', 'downvotes']);
          if (votes) conditions.votes = votes as NonNullable<TriageConditions['votes']>;
          break;
        }
        case 'discussions': {
          const discussions = this.comparison(entry, at, ['threads', 'notes']);
          if (discussions) conditions.discussions = discussions as NonNullable<TriageConditions['discussions']>;
          break;
        }
        case 'draft':
        case 'wip': {
          if (this.resource === 'issues') this.problem(at, 'only merge requests can be drafts; remove it from the issue rule');
          const flag = this.boolean(entry, at);
          if (flag !== undefined) conditions.draft = flag;
          break;
        }
        case 'source_branch':
        case 'target_branch': {
          const branch = this.string(entry, at);
          if (this.resource === 'issues') this.problem(at, 'only merge requests have branches; remove it from the issue rule');
          if (branch !== undefined) conditions[key === 'source_branch' ? 'sourceBranch' : 'targetBranch'] = branch;
          break;
        }
        case 'reviewer_id': {
          if (this.resource === 'issues') this.problem(at, 'only merge requests have reviewers; remove it from the issue rule');
          const reviewer = this.reviewer(entry, at);
          if (reviewer !== undefined) conditions.reviewerId = reviewer;
          break;
        }
        case 'title':
          this.problem(at, this.titleAdvice(entry));
          break;
        case 'ruby':
          this.problem(at, `Ruby code cannot run in AutoFlow; write this condition in a workflow instead (${TRIAGE_DOCS})`);
          break;
        default:
          if (ACTION_KEYS.includes(key) || UNSUPPORTED_ACTIONS.includes(key)) {
            this.warn(
              at,
              `\`${key}\` is an action, and the gem ignores actions under \`conditions\`, so this rule never does it; move it under \`actions\``,
            );
          } else if (UNSUPPORTED_CONDITIONS.includes(key)) {
            this.problem(at, `not supported by AutoFlow; write this condition in a workflow instead (${TRIAGE_DOCS})`);
          } else {
            this.problem(
              at,
              `unknown condition; the gem ignores it, so the rule would act on more than intended; remove it or use a supported condition (${TRIAGE_DOCS})`,
            );
          }
      }
    }
    this.noAdditionalLabelsNeedsLabels(map, place);
    return conditions;
  }

  /**
   * The gem's `no_additional_labels` subtracts the rule's `labels` from each resource's: with no `labels` it raises an
   * ArgumentError on the first resource listed, which stops its whole run. Refused here, saying what was likely meant.
   */
  private noAdditionalLabelsNeedsLabels(map: Extract<Value, { kind: 'map' }>, place: Place): void {
    const flag = map.entries.get('no_additional_labels');
    if (flag === undefined || map.entries.has('labels')) return;
    this.problem(
      { ...place, line: flag.line, path: 'conditions.no_additional_labels' },
      'needs a `labels` condition to compare with: without one the gem stops its run with an ArgumentError on the first resource it lists; ' +
        'to select resources that have no label at all, replace it with `labels: [None]`',
    );
  }

  /** The gem has no `title` condition and ignores it; what to write instead, where that can be told. */
  private titleAdvice(value: Value): string {
    const ignored = 'the gem has no `title` condition and ignores it, so this rule would act on everything its other conditions select';
    const draftWord = value.kind === 'scalar' && typeof value.value === 'string' && /^\s*\[?(wip|draft)\b/i.test(value.value);
    if (this.resource === 'merge_requests' && draftWord) return `${ignored}; for draft merge requests write \`draft: true\` instead`;
    return `${ignored}; remove it, or write a workflow that selects by title (${TRIAGE_DOCS})`;
  }

  /** `reviewer_id`, as GitLab's merge request filter takes it: a user id, `none` or `any`. */
  private reviewer(value: Value, place: Place): TriageConditions['reviewerId'] {
    if (value.kind === 'scalar' && typeof value.value === 'number' && Number.isInteger(value.value) && value.value > 0) return value.value;
    const text = value.kind === 'scalar' && typeof value.value === 'string' ? value.value.trim().toLowerCase() : undefined;
    if (text === 'none' || text === 'any') return text;
    this.problem({ ...place, line: value.line }, 'must be a user id (a number), `none` or `any`');
    return undefined;
  }

  private date(value: Value, place: Place, conditions: TriageConditions): void {
    const map = this.map(value, place);
    if (!map) return;
    const field = (name: string): Value | undefined => {
      const found = map.entries.get(name);
      if (found === undefined) this.problem({ ...place, line: map.line }, `\`${name}\` is required`);
      return found;
    };
    const attributes = ['created_at', 'updated_at', 'closed_at', ...(this.resource === 'merge_requests' ? ['merged_at'] : [])];
    const read = (name: string, allowed: string[]): string | undefined => {
      const entry = field(name);
      return entry && this.oneOf(entry, { ...place, line: entry.line, path: `${place.path}.${name}` }, allowed);
    };
    const attribute = read('attribute', attributes);
    const condition = read('condition', ['older_than', 'newer_than']);
    const intervalType = read('interval_type', ['minutes', 'hours', 'days', 'weeks', 'months', 'years']);
    const intervalValue = field('interval');
    const interval = intervalValue && this.number(intervalValue, { ...place, line: intervalValue.line, path: `${place.path}.interval` });
    let filterInRuby: boolean | undefined;
    for (const [key, entry] of map.entries) {
      const at = { ...place, line: entry.line, path: `${place.path}.${key}` };
      // The gem then compares dates itself instead of asking GitLab, which draws the line a day apart for newer_than.
      if (key === 'filter_in_ruby') filterInRuby = this.boolean(entry, at);
      else if (!['attribute', 'condition', 'interval_type', 'interval'].includes(key)) {
        this.problem(at, 'unknown key; a date condition has attribute, condition, interval_type, interval and filter_in_ruby');
      }
    }
    if (attribute && condition && intervalType && interval !== undefined) {
      conditions.date = {
        attribute: attribute as NonNullable<TriageConditions['date']>['attribute'],
        condition: condition as 'older_than' | 'newer_than',
        intervalType: intervalType as NonNullable<TriageConditions['date']>['intervalType'],
        interval,
        ...(filterInRuby && { filterInRuby }),
      };
    }
  }

  private labelCondition(value: Value, place: Place): TriageConditions['labels'] {
    const labels = this.strings(value, place);
    if (!labels || labels.length === 0) return undefined;
    const special = labels.map(labelFilter);
    if (labels.length === 1 && special[0]) return { kind: special[0] };
    if (special.some(Boolean)) {
      this.problem(place, '`None` and `Any` stand alone: a resource cannot have no label and a label; remove the other labels');
      return undefined;
    }
    // The gem runs the rule once per combination of the `{a, b}` / `{1..3}` alternatives of every label.
    let alternatives: string[][] = [[]];
    for (const label of labels) {
      const expanded = expandBraces(label);
      alternatives = alternatives.flatMap((prefix) => expanded.map((one) => [...prefix, one]));
    }
    return { kind: 'all_of_one', alternatives };
  }

  private milestone(value: Value, place: Place, conditions: TriageConditions): void {
    // The gem passes the first value to the API's `milestone` parameter, so a one-item list works like a scalar.
    const values = this.strings(value, place);
    if (!values || values.length === 0) return;
    if (values.length > 1) this.problem(place, 'give one milestone: a resource has at most one');
    const title = values[0] as string;
    const lower = title.toLowerCase();
    if (lower === 'none' || lower === 'no milestone') conditions.milestone = { kind: 'none' };
    else if (lower === 'any' || lower === 'any milestone') conditions.milestone = { kind: 'any' };
    else {
      // `upcoming` and `started` stay as written, as in the gem, which decides per resource type what to ask GitLab.
      conditions.milestone = { kind: 'title', title };
      if (this.resource === 'merge_requests' && (lower === 'upcoming' || lower === 'started')) {
        this.warn(
          place,
          `\`${title}\` is a timebox of GitLab's issue lists only: for merge requests the gem sends it as a milestone title, so this rule ` +
            `selects merge requests in a milestone titled '${title}', and so does AutoFlow; give the milestone's title instead`,
        );
      }
    }
  }

  private member(value: Value, place: Place): TriageMemberCondition | undefined {
    const map = this.map(value, place);
    if (!map) return undefined;
    const source = this.required(map, place, 'source', (entry, at) => this.oneOf(entry, at, ['group', 'project']));
    const condition = this.required(map, place, 'condition', (entry, at) => this.oneOf(entry, at, ['member_of', 'not_member_of']));
    const sourceId = this.required(map, place, 'source_id', (entry, at) => {
      if (entry.kind === 'scalar' && typeof entry.value === 'number' && Number.isInteger(entry.value)) return String(entry.value);
      return this.string(entry, at);
    });
    this.onlyKeys(map, place, ['source', 'condition', 'source_id']);
    if (!source || !condition || sourceId === undefined) return undefined;
    return { source: source as 'group' | 'project', condition: condition as 'member_of' | 'not_member_of', sourceId };
  }

  private comparison(
    value: Value,
    place: Place,
    attributes: string[],
  ): { attribute: string; condition: TriageComparison; threshold: number } | undefined {
    const map = this.map(value, place);
    if (!map) return undefined;
    const attribute = this.required(map, place, 'attribute', (entry, at) => this.oneOf(entry, at, attributes));
    const condition = this.required(map, place, 'condition', (entry, at) => this.oneOf(entry, at, ['greater_than', 'less_than']));
    const threshold = this.required(map, place, 'threshold', (entry, at) => this.number(entry, at));
    this.onlyKeys(map, place, ['attribute', 'condition', 'threshold']);
    if (!attribute || !condition || threshold === undefined) return undefined;
    return { attribute, condition: condition as TriageComparison, threshold };
  }
}

/** GitLab's label filter specials, matched case-insensitively like its API; `No Label` / `Any Label` are the legacy titles. */
function labelFilter(label: string): 'none' | 'any' | undefined {
  const lower = label.trim().toLowerCase();
  if (lower === 'none' || lower === 'no label') return 'none';
  if (lower === 'any' || lower === 'any label') return 'any';
  return undefined;
}

/**
 * The gem's label expansion: `{a, b}` lists (items trimmed) and `{1..3}` integer sequences, every brace group of a
 * label multiplied out.
 */
export function expandBraces(label: string): string[] {
  const match = /\{([^{}]*)\}/.exec(label);
  if (!match) return [label];
  const body = match[1] as string;
  const range = /^\s*(-?\d+)\.\.(-?\d+)\s*$/.exec(body);
  let options: string[];
  if (range) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    const step = from <= to ? 1 : -1;
    options = Array.from({ length: Math.abs(to - from) + 1 }, (_, index) => String(from + index * step));
  } else if (body.includes(',')) options = body.split(',').map((item) => item.trim());
  else return [label];
  const before = label.slice(0, match.index);
  const after = label.slice(match.index + match[0].length);
  return options.flatMap((option) => expandBraces(`${before}${option}${after}`));
}
