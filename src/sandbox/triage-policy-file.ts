import { parseDocument } from 'yaml';
import { DefinitionError } from '../core/errors.js';
import type {
  TriageActions,
  TriagePolicies,
  TriageResourcePolicies,
  TriageRule,
  TriageSummarize,
  TriageSummaryPolicy,
  TriageTemplate,
} from '../sdk/triage-policy.js';
import { parseTriageTemplate, TRIAGE_DOCS } from './triage-template-text.js';
import { ACTION_KEYS, ConditionReader, UNSUPPORTED_ACTIONS, expandBraces } from './triage-policy-conditions.js';
import { unclosedQuoteAt, type Place, type Value } from './yaml-values.js';

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
    // The warnings too: whoever fixes the file gets everything there is to fix in one go.
    const warnings = reader.warnings.length > 0 ? `\nand, accepted with a warning:\n${indented(reader.warnings)}` : '';
    throw new DefinitionError(`Cannot use the triage policies ${file}:\n${indented(reader.problems)}${warnings}`, {
      details: { file, problems: reader.problems, warnings: reader.warnings },
    });
  }
  return { policies, warnings: reader.warnings };
}

const indented = (lines: string[]): string => lines.map((line) => `  ${line}`).join('\n');

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

class PolicyReader extends ConditionReader {
  read(text: string): TriagePolicies | undefined {
    this.document = parseDocument(text, { version: '1.1', lineCounter: this.lines, uniqueKeys: false });
    const [syntax] = this.document.errors;
    if (syntax) {
      // Later parse errors nearly always follow from the first one; listing them would bury it.
      const unclosed = syntax.code === 'MISSING_CHAR' ? unclosedQuoteAt(text) : undefined;
      if (unclosed !== undefined) {
        const quote = text[unclosed] as string;
        this.problems.push(
          `${this.file}:${this.lines.linePos(unclosed).line}: not valid YAML: the value quoted here with ${quote} has no closing ${quote}`,
        );
        return undefined;
      }
      const line = syntax.linePos?.[0].line ?? 1;
      const reason = (syntax.message.split('\n')[0] as string).replace(/ at line \d+, column \d+:?$/, '');
      const written = text.split('\n')[line - 1] ?? '';
      const hint = /^ *\t/.test(written)
        ? '; the line is indented with a tab: YAML needs spaces'
        : /(:|^\s*-)\s+[{[]/.test(written)
          ? '; a value that starts with { or [ is a YAML mapping or list: quote the whole value ("{{author}} please look")'
          : '';
      this.problems.push(`${this.file}:${line}: not valid YAML: ${reason}${hint}`);
      return undefined;
    }
    const root = this.value(this.document.contents);
    if (root.kind !== 'map') {
      this.problem({ line: root.line }, 'the file must be a mapping with `resource_rules:`');
      return undefined;
    }
    const policies: TriagePolicies = { file: this.file, issues: emptyResource(), mergeRequests: emptyResource() };
    let mergeRequestsFirst = false;
    for (const [key, value] of root.entries) {
      if (key.startsWith('.')) continue; // hidden keys only hold anchors for the rules to reuse
      if (key === 'host_url') {
        const hostUrl = this.string(value, { line: value.line, path: 'host_url' });
        if (hostUrl !== undefined) {
          policies.hostUrl = hostUrl;
          this.warn(
            { line: value.line, path: 'host_url' },
            `AutoFlow calls the GitLab its server is configured with, not ${hostUrl}; remove this key, or run the workflow on a server configured for that GitLab`,
          );
        }
      } else if (key === 'resource_rules') mergeRequestsFirst = this.resourceRules(value, policies);
      else this.warn({ line: value.line, path: key }, 'unknown top-level key, ignored (the gem ignores it too)');
    }
    if (!root.entries.has('resource_rules')) {
      this.problem(
        { line: root.line },
        'no `resource_rules:`, so the file triages nothing (a YAML file a workflow imports is read as a gitlab-triage policy file)',
      );
    }
    // The gem runs the resource types in the file's order; triage() runs them in the order of these keys.
    const { issues, mergeRequests, ...rest } = policies;
    return mergeRequestsFirst ? { ...rest, mergeRequests, issues } : policies;
  }

  /** Reads `resource_rules` into `policies`; true when the file gives `merge_requests` before `issues`. */
  private resourceRules(value: Value, policies: TriagePolicies): boolean {
    const map = this.map(value, { line: value.line, path: 'resource_rules' });
    if (!map) return false;
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
    const types = [...map.entries.keys()].filter((key) => key === 'issues' || key === 'merge_requests');
    return types[0] === 'merge_requests';
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
    if (name.kind === 'scalar' && name.float) return name.float.text;
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

  private actions(value: Value, place: Place, inSummary: boolean): TriageActions {
    const actions: TriageActions = {};
    const map = this.map(value, place);
    if (!map) return actions;
    for (const [key, entry] of map.entries) {
      const at = { ...place, line: entry.line, path: `actions.${key}` };
      if (inSummary && key !== 'summarize') {
        this.warn(
          at,
          'ignored: the gem takes only `summarize` from a rule of a summary policy, for the summary, and runs none of its other actions; to act on these resources, write a rule under `rules:`',
        );
        continue;
      }
      switch (key) {
        case 'labels':
        case 'remove_labels': {
          const labels = this.strings(entry, at);
          if (labels?.some((label) => expandBraces(label).length > 1)) {
            this.warn(at, 'the gem expands `{a, b}` in conditions only; here the label is used as written');
          }
          if (labels && key === 'labels') {
            actions.labels = labels;
            actions.labelsLine = entry.line;
          } else if (labels) actions.removeLabels = labels;
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
          if (target !== undefined && this.resource === 'merge_requests') {
            this.warn(at, "ignored: a merge request cannot be moved to another project (GitLab ignores the gem's `/move` on one)");
          } else if (target !== undefined) actions.move = target;
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
        case 'redact_confidential_resources': {
          const redact = this.boolean(entry, at);
          if (redact !== undefined) actions.redactConfidential = redact;
          break;
        }
        case 'summarize': {
          const summarize = this.summarize(entry, at, inSummary);
          if (summarize) actions.summarize = summarize;
          break;
        }
        case 'comment_on_summary': {
          const comment = this.template(entry, at);
          if (comment) actions.commentOnSummary = comment;
          if (!map.entries.has('summarize')) {
            this.problem(at, 'comments on the summary this rule opens, but the rule has no `summarize` (the gem refuses it too)');
          }
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
