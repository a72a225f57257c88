import { parseDocument } from 'yaml';
import { DefinitionError } from '../core/errors.js';
import type {
  TriageActions,
  TriageComparison,
  TriageConditions,
  TriageMemberCondition,
  TriagePolicies,
  TriageResourcePolicies,
  TriageRule,
  TriageSummarize,
  TriageSummaryPolicy,
  TriageTemplate,
} from '../sdk/triage-policy.js';
import { parseTriageTemplate, TRIAGE_DOCS } from './triage-template-text.js';
import { YamlValues, type Place, type Value } from './yaml-values.js';

/**
 * Reads a gitlab-triage policy file (`.triage-policies.yml`) into the model of src/sdk/triage-policy.ts.
 *
 * The gem silently ignores much of what it does not know; AutoFlow follows it where ignoring is harmless (a warning) and
 * refuses where ignoring would make a rule act on more resources than its author meant, or where the gem would run Ruby.
 * Throws a DefinitionError listing every problem, each with file, line, rule and key path.
 */
export function readTriagePolicies(text: string, file: string): { policies: TriagePolicies; warnings: string[] } {
  const reader = new PolicyReader(file);
  const policies = reader.read(text);
  if (reader.problems.length > 0 || policies === undefined) {
    throw new DefinitionError(`Cannot use the triage policies ${file}:\n${reader.problems.map((line) => `  ${line}`).join('\n')}`, {
      details: { file, problems: reader.problems, warnings: reader.warnings },
    });
  }
  return { policies, warnings: reader.warnings };
}

type ResourceType = 'issues' | 'merge_requests';

// From the gem's README ("Available condition types") and its filters: known to the gem, but not run by AutoFlow.
const UNSUPPORTED_CONDITIONS = ['iteration', 'health_status', 'weight', 'issue_type', 'protected', 'name'];
const ACTION_KEYS = ['labels', 'remove_labels', 'status', 'mention', 'move', 'comment', 'comment_type', 'comment_internal', 'summarize'];
// Actions the gem has that AutoFlow does not run: an error, because dropping them would silently do less than the file says.
const UNSUPPORTED_ACTIONS = ['issue', 'delete'];
const ACTION_TYPOS: Record<string, string> = {
  add_labels: 'labels',
  add_label: 'labels',
  label: 'labels',
  remove_label: 'remove_labels',
  unlabel: 'remove_labels',
  close: 'status: close',
  state: 'status',
  mentions: 'mention',
  comments: 'comment',
  note: 'comment',
};

class PolicyReader extends YamlValues {
  private resource: ResourceType = 'issues';

  read(text: string): TriagePolicies | undefined {
    this.document = parseDocument(text, { version: '1.1', lineCounter: this.lines, uniqueKeys: false });
    const [syntax] = this.document.errors;
    if (syntax) {
      // Later parse errors nearly always follow from the first one; listing them would bury it.
      const line = syntax.linePos?.[0].line ?? 1;
      const reason = (syntax.message.split('\n')[0] as string).replace(/ at line \d+, column \d+:?$/, '');
      const tab = /^ *\t/.test(text.split('\n')[line - 1] ?? '') ? '; the line is indented with a tab: YAML needs spaces' : '';
      this.problems.push(`${this.file}:${line}: not valid YAML: ${reason}${tab}`);
      return undefined;
    }
    const root = this.value(this.document.contents);
    if (root.kind !== 'map') {
      this.problem({ line: root.line }, 'the file must be a mapping with `resource_rules:`');
      return undefined;
    }
    const policies: TriagePolicies = { file: this.file, issues: emptyResource(), mergeRequests: emptyResource() };
    for (const [key, value] of root.entries) {
      if (key.startsWith('.')) continue; // hidden keys only hold anchors for the rules to reuse
      if (key === 'host_url') {
        const hostUrl = this.string(value, { line: value.line, path: 'host_url' });
        if (hostUrl !== undefined) policies.hostUrl = hostUrl;
      } else if (key === 'resource_rules') this.resourceRules(value, policies);
      else this.warn({ line: value.line, path: key }, 'unknown top-level key, ignored (the gem ignores it too)');
    }
    if (!root.entries.has('resource_rules')) {
      this.problem(
        { line: root.line },
        'no `resource_rules:`, so the file triages nothing (a YAML file a workflow imports is read as a gitlab-triage policy file)',
      );
    }
    return policies;
  }

  private resourceRules(value: Value, policies: TriagePolicies): void {
    const map = this.map(value, { line: value.line, path: 'resource_rules' });
    if (!map) return;
    for (const [key, resource] of map.entries) {
      const place = { line: resource.line, path: `resource_rules.${key}` };
      if (key === 'issues' || key === 'merge_requests') {
        this.resource = key;
        const target = key === 'issues' ? policies.issues : policies.mergeRequests;
        this.resourcePolicies(resource, target, place);
      } else if (key === 'epics' || key === 'branches') {
        this.problem(place, `not supported: AutoFlow triages issues and merge_requests only; write a workflow for ${key} (${TRIAGE_DOCS})`);
      } else this.warn(place, 'unknown resource type, ignored (the gem ignores it too); use issues or merge_requests');
    }
  }

  private resourcePolicies(value: Value, target: TriageResourcePolicies, place: Place): void {
    const map = this.map(value, place);
    if (!map) return;
    for (const [key, entry] of map.entries) {
      const path = `${place.path}.${key}`;
      if (key === 'rules') {
        const items = this.list(entry, { line: entry.line, path });
        items?.forEach((rule) => target.rules.push(this.rule(rule, `${this.resource} rule ${target.rules.length + 1}`, '', false)));
      } else if (key === 'summaries') {
        const items = this.list(entry, { line: entry.line, path });
        items?.forEach((summary, index) => {
          const policy = this.summaryPolicy(summary, index);
          if (policy) target.summaries.push(policy);
        });
      } else this.warn({ line: entry.line, path }, 'unknown key, ignored (the gem ignores it too); use `rules` or `summaries`');
    }
  }

  private summaryPolicy(value: Value, index: number): TriageSummaryPolicy | undefined {
    const fallback = `${this.resource} summary ${index + 1}`;
    const map = this.map(value, { line: value.line, rule: fallback });
    if (!map) return undefined;
    const name = this.ruleName(map, fallback);
    const rule = `${this.resource} summary '${name}'`;
    const rules: TriageRule[] = [];
    let summarize: TriageSummarize | undefined;
    for (const [key, entry] of map.entries) {
      const place = { line: entry.line, rule, path: key };
      if (key === 'name') continue;
      if (key === 'rules') {
        this.list(entry, place)?.forEach((sub, at) => rules.push(this.rule(sub, `${this.resource} rule ${at + 1}`, `${rule}: `, true)));
      } else if (key === 'actions') {
        const actions = this.map(entry, place);
        for (const [action, body] of actions?.entries ?? []) {
          if (action === 'summarize') summarize = this.summarize(body, { line: body.line, rule, path: 'actions.summarize' }, false);
          else
            this.problem(
              { line: body.line, rule, path: `actions.${action}` },
              'a summary policy only takes `summarize`; move it to a rule',
            );
        }
      } else this.warn(place, 'unknown key, ignored (the gem ignores it too)');
    }
    if (!summarize) {
      this.problem({ line: map.line, rule }, 'a summary policy needs `actions.summarize` with a title and a summary');
      return undefined;
    }
    return { name, rules, summarize };
  }

  private ruleName(map: Extract<Value, { kind: 'map' }>, fallback: string): string {
    const name = map.entries.get('name');
    if (name === undefined) return fallback;
    if (name.kind === 'scalar' && (typeof name.value === 'string' || typeof name.value === 'number')) return String(name.value);
    this.problem({ line: name.line, rule: fallback, path: 'name' }, 'must be text');
    return fallback;
  }

  /** `inSummary`: a rule of a summary policy, whose `summarize` needs no title (the summary policy has it). */
  private rule(value: Value, fallback: string, prefix: string, inSummary: boolean): TriageRule {
    const rule: TriageRule = { name: fallback, conditions: {}, actions: {} };
    const map = this.map(value, { line: value.line, rule: `${prefix}${fallback}` });
    if (!map) return rule;
    rule.name = this.ruleName(map, fallback);
    const label = `${prefix}${rule.name === fallback ? fallback : `${this.resource} rule '${rule.name}'`}`;
    for (const [key, entry] of map.entries) {
      const place = { line: entry.line, rule: label, path: key };
      if (key === 'name') continue;
      else if (key === 'conditions') rule.conditions = this.conditions(entry, place);
      else if (key === 'limits') {
        const limit = this.limits(entry, place);
        if (limit) rule.limit = limit;
      } else if (key === 'actions') rule.actions = this.actions(entry, place, inSummary);
      else this.warn(place, 'unknown rule key, ignored (the gem ignores it too); a rule has name, conditions, limits and actions');
    }
    return rule;
  }

  private limits(value: Value, place: Place): TriageRule['limit'] {
    const map = this.map(value, place);
    if (!map) return undefined;
    const found: NonNullable<TriageRule['limit']>[] = [];
    for (const [key, entry] of map.entries) {
      const at = { ...place, line: entry.line, path: `limits.${key}` };
      if (key !== 'most_recent' && key !== 'oldest') {
        this.problem(at, 'unknown limit; use `most_recent: N` or `oldest: N`');
        continue;
      }
      const count = this.number(entry, at);
      if (count !== undefined && (!Number.isInteger(count) || count < 1)) this.problem(at, `must be a whole number above 0, got ${count}`);
      else if (count !== undefined) found.push({ order: key, count });
    }
    if (found.length > 1) this.problem({ ...place, line: map.line }, 'give either `most_recent` or `oldest`, not both');
    return found[0];
  }

  private conditions(value: Value, place: Place): TriageConditions {
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
          if (flag !== undefined) conditions.noAdditionalLabels = flag;
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
    return conditions;
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
    for (const key of map.entries.keys()) {
      if (!['attribute', 'condition', 'interval_type', 'interval'].includes(key)) {
        this.problem(
          { ...place, path: `${place.path}.${key}` },
          'unknown key; a date condition has attribute, condition, interval_type and interval',
        );
      }
    }
    if (attribute && condition && intervalType && interval !== undefined) {
      conditions.date = {
        attribute: attribute as NonNullable<TriageConditions['date']>['attribute'],
        condition: condition as 'older_than' | 'newer_than',
        intervalType: intervalType as NonNullable<TriageConditions['date']>['intervalType'],
        interval,
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
    else conditions.milestone = { kind: 'title', title };
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

  private actions(value: Value, place: Place, inSummary: boolean): TriageActions {
    const actions: TriageActions = {};
    const map = this.map(value, place);
    if (!map) return actions;
    for (const [key, entry] of map.entries) {
      const at = { ...place, line: entry.line, path: `actions.${key}` };
      switch (key) {
        case 'labels':
        case 'remove_labels': {
          const labels = this.strings(entry, at);
          if (labels?.some((label) => expandBraces(label).length > 1)) {
            this.warn(at, 'the gem expands `{a, b}` in conditions only; here the label is used as written');
          }
          if (labels) actions[key === 'labels' ? 'labels' : 'removeLabels'] = labels;
          break;
        }
        case 'status': {
          const status = this.oneOf(entry, at, ['close', 'reopen']);
          if (status) actions.status = status as 'close' | 'reopen';
          break;
        }
        case 'mention': {
          const users = this.strings(entry, at);
          if (users) actions.mention = users.map((user) => user.replace(/^@/, ''));
          break;
        }
        case 'move': {
          const target = this.string(entry, at);
          if (target !== undefined) actions.move = target;
          break;
        }
        case 'comment': {
          const comment = this.template(entry, at);
          if (comment) actions.comment = comment;
          break;
        }
        case 'comment_type': {
          const type = this.oneOf(entry, at, ['comment', 'thread']);
          if (type) actions.commentType = type as 'comment' | 'thread';
          break;
        }
        case 'comment_internal': {
          const internal = this.boolean(entry, at);
          if (internal !== undefined) actions.commentInternal = internal;
          break;
        }
        case 'summarize': {
          const summarize = this.summarize(entry, at, inSummary);
          if (summarize) actions.summarize = summarize;
          break;
        }
        default:
          if (UNSUPPORTED_ACTIONS.includes(key))
            this.problem(at, `not supported by AutoFlow; do this in a workflow instead (${TRIAGE_DOCS})`);
          else {
            const hint = ACTION_TYPOS[key] ? `; did you mean \`${ACTION_TYPOS[key]}\`?` : `; known actions: ${ACTION_KEYS.join(', ')}`;
            this.warn(at, `unknown action, ignored (the gem ignores it too)${hint}`);
          }
      }
    }
    return actions;
  }

  private summarize(value: Value, place: Place, inSummary: boolean): TriageSummarize | undefined {
    const map = this.map(value, place);
    if (!map) return undefined;
    const part = (name: string, required: boolean): TriageTemplate | undefined => {
      const entry = map.entries.get(name);
      if (entry === undefined) {
        if (required) this.problem({ ...place, line: map.line }, `\`${name}\` is required`);
        return [];
      }
      return this.template(entry, { ...place, line: entry.line, path: `${place.path}.${name}` });
    };
    const title = part('title', !inSummary);
    const item = part('item', false);
    const summary = part('summary', false);
    const summarize: TriageSummarize = { title: title ?? [], item: item ?? [], summary: summary ?? [], redactConfidential: true };
    const destination = map.entries.get('destination');
    if (destination !== undefined) {
      const path = this.string(destination, { ...place, line: destination.line, path: `${place.path}.destination` });
      if (path !== undefined) summarize.destination = path;
    }
    const redact = map.entries.get('redact_confidential_resources');
    if (redact !== undefined) {
      const flag = this.boolean(redact, { ...place, line: redact.line, path: `${place.path}.redact_confidential_resources` });
      if (flag !== undefined) summarize.redactConfidential = flag;
    }
    this.onlyKeys(map, place, ['title', 'item', 'summary', 'destination', 'redact_confidential_resources']);
    return summarize;
  }

  private template(value: Value, place: Place): TriageTemplate | undefined {
    const text = this.string(value, place);
    if (text === undefined) return undefined;
    return parseTriageTemplate(text, { problem: (message) => this.problem(place, message), warn: (message) => this.warn(place, message) });
  }
}

function emptyResource(): TriageResourcePolicies {
  return { rules: [], summaries: [] };
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
