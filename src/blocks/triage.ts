import type { Json } from '../core/model.js';
import { callCapability } from '../sdk/capabilities.js';
import { now } from '../sdk/durable.js';
import { gitlab } from '../sdk/gitlab.js';
import type { Query } from '../sdk/gitlab-types.js';
import type { Permissions, TriggerSpec, WorkflowDefinition } from '../sdk/types.js';
import { log } from '../sdk/log.js';
import type {
  TriageActions,
  TriagePolicies,
  TriageResourcePolicies,
  TriageRule,
  TriageSummarize,
  TriageSummaryPolicy,
} from '../sdk/triage-policy.js';
import { workflow } from '../sdk/workflow.js';
import {
  type RuleExpansion,
  type TriageClock,
  compareCount,
  expandLabels,
  limited,
  listQuery,
  matches,
  memberMatches,
} from './triage-conditions.js';
import type { TriageReport, TriageRuleReport } from './triage-report.js';
import { describeActions, renderComment, renderItems, renderTemplate, type TriageResource } from './triage-template.js';

export interface TriageOptions {
  /** The workflow's name. */
  name: string;
  /**
   * The policy file: `import policies from './.triage-policies.yml'` (checked when the workflow is bundled). A pass
   * takes the resource types in the order of its keys (a file's keys are in the file's order), each type's summaries
   * before its rules, as gitlab-triage does.
   */
  policies: TriagePolicies;
  /** The projects to triage, by full path: gitlab-triage's `--source-id`, one or several. Give these, `groups`, or both. */
  projects?: string[];
  /**
   * The groups to triage, by full path (`acme`, `acme/platform`): gitlab-triage's `--source groups --source-id`.
   * Each rule lists the group's issues or merge requests, its subgroups' included, and acts on each in its own project.
   */
  groups?: string[];
  /** A cron pattern (`'0 6 * * 1-5'`); without one, runs start only by hand (`autoflow run <name>`). */
  schedule?: string;
  /**
   * The schedule's time zone (IANA name); UTC by default. Date conditions in days, weeks, months or years count
   * back from today's date in it.
   */
  timezone?: string;
  /** gitlab-triage's `--dry-run` for the runs the schedule starts: report what would be done, change nothing. */
  dryRun?: boolean;
  /**
   * The pages of 100 a rule may list (and a member or label list): a rule that matches more fails its run, saying
   * so, instead of filling the run's history. Narrowing the rule is better than raising it.
   * @default 50
   */
  maxPages?: number;
  description?: string;
}

/** A run's input: `autoflow run triage --input '{"dryRun":true}'` previews without changing anything. */
export interface TriageInput {
  dryRun?: boolean;
}

export type { TriageReport, TriageRuleReport } from './triage-report.js';

type ResourceType = TriageResource['type'];

/** What a pass triages: a project (`projects`), or a group with its subgroups (`groups`). */
interface TriageSource {
  kind: 'project' | 'group';
  path: string;
}

/** One expansion of a rule, run: its report and the resources it selected. */
interface RulePass {
  report: TriageRuleReport;
  resources: TriageResource[];
}

/** How many resources are acted on at once: their calls go out together, in a fixed order. */
const ACTION_BATCH = 10;
/** Thread counts are read one page deep: a threshold above it compares against this many. */
const THREAD_PAGE = 100;
/** The pages of 100 a list may have, by default and at most (the gitlab capability's own bounds). */
const DEFAULT_MAX_PAGES = 50;
const MAX_PAGES_LIMIT = 1000;

/** A rule that cannot run as written: it acts on nothing, the pass goes on, and a real run fails at its end, saying why. */
class TriageRuleError extends Error {
  override readonly name = 'TriageRuleError';
}

/** The capability's refusal of a list longer than `maxPages`, as it reaches the sandbox. */
const isTooManyPages = (error: unknown): boolean => (error as { details?: { code?: unknown } } | null)?.details?.code === 'too_many_pages';

const encode = (project: string): string => encodeURIComponent(project);

/** What a pass reads more than once (members, labels, project ids) it reads once: the first answer serves the rest. */
function cached<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) {
    value = load();
    cache.set(key, value);
  }
  return value;
}

const fullReference = (resource: TriageResource): string | undefined => {
  const full = (resource.references as { full?: unknown } | undefined)?.full;
  return typeof full === 'string' ? full : undefined;
};

/**
 * The project a resource lives in, where its actions go: the triaged project, or for a group's resource
 * the path in its full reference (`acme/platform/api#12`), else its `project_id`.
 */
function projectOf(source: TriageSource, resource: TriageResource): string {
  if (source.kind === 'project') return source.path;
  return fullReference(resource)?.replace(/[#!]\d+$/, '') ?? String(resource.project_id);
}

/** How logs and the description name a source: `acme/app`, `group acme`. */
const nameOf = (source: TriageSource): string => (source.kind === 'group' ? `group ${source.path}` : source.path);

/** A report's `project` or `group`. */
const sourceOf = (source: TriageSource): Pick<TriageRuleReport, 'project' | 'group'> =>
  source.kind === 'project' ? { project: source.path } : { group: source.path };

function referenceOf(source: TriageSource, resource: TriageResource): string {
  return fullReference(resource) ?? `${projectOf(source, resource)}${resource.type === 'issues' ? '#' : '!'}${resource.iid}`;
}

/**
 * The resource types in the order `policies` gives them, as the gem's `Engine#perform` takes a file's
 * `resource_rules`: a policy file's keys are in the file's order, an object written in TypeScript in its own.
 */
function resourceTypesOf(policies: TriagePolicies): [ResourceType, TriageResourcePolicies][] {
  return Object.keys(policies).flatMap((key): [ResourceType, TriageResourcePolicies][] => {
    if (key === 'issues') return [['issues', policies.issues]];
    return key === 'mergeRequests' ? [['merge_requests', policies.mergeRequests]] : [];
  });
}

/**
 * Today's date (`YYYY-MM-DD`) in `timezone`, or in UTC without one: where the gem counts `30.days.ago.to_date` from its
 * process's local date, a pass counts from its schedule's. The sandbox has no time-zone database; `calendar` has.
 */
async function todayIn(at: Date, timezone: string | undefined): Promise<string> {
  if (timezone === undefined) return at.toISOString().slice(0, 10);
  return callCapability<string>('calendar', 'date', { at: at.getTime(), timezone });
}

/** Every rule of the file with its resource type, summaries' rules included. */
function allRules(policies: TriagePolicies): { type: ResourceType; rule: TriageRule }[] {
  return (
    [
      ['issues', policies.issues],
      ['merge_requests', policies.mergeRequests],
    ] as const
  ).flatMap(([type, resource]) =>
    [...resource.rules, ...resource.summaries.flatMap((summary) => summary.rules)].map((rule) => ({ type, rule })),
  );
}

/**
 * The triaged projects and groups, and what the policies reach besides: members' sources, move targets,
 * summary destinations. A group's resources are acted on in its projects, subgroups' included: `group/*`.
 */
function triagePermissions(options: TriageOptions): Permissions {
  const projects = new Set([...(options.projects ?? []), ...(options.groups ?? []).map((group) => `${group}/*`)]);
  const groups = new Set(options.groups);
  const summaries = [options.policies.issues, options.policies.mergeRequests].flatMap((resource) => resource.summaries);
  for (const { rule } of allRules(options.policies)) {
    for (const member of [rule.conditions.authorMember, rule.conditions.assigneeMember]) {
      if (member) (member.source === 'group' ? groups : projects).add(member.sourceId);
    }
    if (rule.actions.move) projects.add(rule.actions.move);
    if (rule.actions.summarize?.destination) projects.add(rule.actions.summarize.destination);
  }
  for (const summary of summaries) if (summary.summarize.destination) projects.add(summary.summarize.destination);
  return { gitlab: { projects: [...projects], ...(groups.size > 0 ? { groups: [...groups] } : {}) } };
}

/** One triage pass: reads what the policies select, acts on it unless dry, and reports. */
class TriagePass {
  readonly #members = new Map<string, Promise<ReadonlySet<string>>>();
  readonly #labels = new Map<string, Promise<ReadonlySet<string>>>();
  readonly #projectIds = new Map<string, Promise<number>>();
  readonly #allPages: { all: true; maxPages: number };
  readonly #failures: string[] = [];

  constructor(
    readonly policies: TriagePolicies,
    readonly dryRun: boolean,
    readonly clock: TriageClock,
    readonly maxPages: number,
  ) {
    this.#allPages = { all: true, maxPages };
  }

  /** The usernames of a project's or group's members, inherited ones too; read once per pass. */
  members(source: 'group' | 'project', sourceId: string): Promise<ReadonlySet<string>> {
    const owner = source === 'group' ? { group: sourceId } : { project: sourceId };
    return cached(this.#members, `${source}:${sourceId}`, () =>
      gitlab.members.listAll(owner, {}, this.#allPages).then((list) => new Set(list.map((member) => member.username))),
    );
  }

  /** The label names a project can use, its ancestor groups' included (as GitLab lists them); read once per pass. */
  labelNames(project: string): Promise<ReadonlySet<string>> {
    return cached(this.#labels, project, () =>
      gitlab.labels.list({ project }, {}, this.#allPages).then((list) => new Set(list.map((label) => label.name))),
    );
  }

  /** Where a rule's error points: `.triage-policies.yml:12: acme/app issues rule 'Close stale'`. */
  #where(source: TriageSource, type: ResourceType, rule: TriageRule, line?: number): string {
    return `${this.policies.file}${line === undefined ? '' : `:${line}`}: ${nameOf(source)} ${type} rule '${rule.name}'`;
  }

  /** What one expansion of a rule selects: listed, checked, limited. */
  async select(source: TriageSource, type: ResourceType, rule: TriageRule): Promise<TriageResource[]> {
    const query = listQuery(rule, type, this.clock);
    const kept: TriageResource[] = [];
    for (const item of await this.#listForRule(source, type, rule, query)) {
      const resource = { ...item, type } as TriageResource;
      if (!matches(resource, rule.conditions, this.clock)) continue;
      if (await this.#meetsRequestedConditions(projectOf(source, resource), resource, rule)) kept.push(resource);
    }
    return limited(kept, rule.limit);
  }

  /** What GitLab lists for a rule's query; a list longer than `maxPages` fails the run with what to do about it. */
  async #listForRule(source: TriageSource, type: ResourceType, rule: TriageRule, query: Query): Promise<Record<string, unknown>[]> {
    try {
      return await this.#list(source, type, query);
    } catch (error) {
      if (!isTooManyPages(error)) throw error;
      throw new Error(
        `${this.#where(source, type, rule)}: GitLab lists more than ${this.maxPages} pages of 100 ${type} for it; narrow the rule ` +
          `with a \`date\` or \`labels\` condition, or raise triage({ maxPages }) (at most ${MAX_PAGES_LIMIT}; docs/triage.md)`,
        { cause: error },
      );
    }
  }

  /** What GitLab lists for a query: a project's list, or a group's with its subgroups' (every page of it). */
  async #list(source: TriageSource, type: ResourceType, query: Query): Promise<Record<string, unknown>[]> {
    const all = this.#allPages;
    if (type === 'issues') {
      return source.kind === 'project' ? gitlab.issues.list(source.path, query, all) : gitlab.issues.listInGroup(source.path, query, all);
    }
    return source.kind === 'project'
      ? gitlab.mergeRequests.list(source.path, query, all)
      : gitlab.mergeRequests.listInGroup(source.path, query, all);
  }

  async #meetsRequestedConditions(project: string, resource: TriageResource, rule: TriageRule): Promise<boolean> {
    const { authorMember, assigneeMember, discussions } = rule.conditions;
    if (
      authorMember &&
      !memberMatches(resource, 'author', authorMember.condition, await this.members(authorMember.source, authorMember.sourceId))
    ) {
      return false;
    }
    if (
      assigneeMember &&
      !memberMatches(resource, 'assignee', assigneeMember.condition, await this.members(assigneeMember.source, assigneeMember.sourceId))
    ) {
      return false;
    }
    if (discussions?.attribute === 'threads') {
      const threads = await gitlab.request<unknown[]>(
        'GET',
        `/projects/${encode(project)}/${resource.type}/${resource.iid}/discussions`,
        undefined,
        {
          query: { per_page: THREAD_PAGE },
        },
      );
      if (!compareCount(threads.length, discussions.condition, discussions.threshold)) return false;
    }
    return true;
  }

  async act(project: string, resource: TriageResource, actions: TriageActions): Promise<void> {
    const { iid, type } = resource;
    const edit: Record<string, Json> = {};
    if (actions.labels?.length) edit.add_labels = actions.labels.join(',');
    if (actions.removeLabels?.length) edit.remove_labels = actions.removeLabels.join(',');
    if (actions.status) edit.state_event = actions.status;
    if (Object.keys(edit).length > 0) {
      if (type === 'issues') await gitlab.issues.edit(project, iid, edit);
      else await gitlab.mergeRequests.edit(project, iid, edit);
    }
    const body = renderComment(actions, resource, this.clock.at);
    if (body !== '') await postComment(project, type, iid, body, actions);
    if (actions.move && type === 'issues') {
      const destination = await this.#projectId(actions.move);
      await gitlab.request('POST', `/projects/${encode(project)}/issues/${iid}/move`, { to_project_id: destination });
    }
  }

  #projectId(path: string): Promise<number> {
    return cached(this.#projectIds, path, () => gitlab.projects.get(path).then((project) => project.id));
  }

  /**
   * gitlab-triage (its LabelCommandBuilder) stops where a label of `actions.labels` does not exist, which GitLab
   * would otherwise create silently on the first edit. Checked once per rule, before it acts (and in a dry run), in each
   * project it acts in: a project's labels and its groups'.
   */
  async #requireLabels(source: TriageSource, type: ResourceType, rule: TriageRule, actions: TriageActions, resources: TriageResource[]) {
    const wanted = actions.labels ?? [];
    if (wanted.length === 0) return;
    const problems: string[] = [];
    for (const project of new Set(resources.map((resource) => projectOf(source, resource)))) {
      const known = await this.labelNames(project);
      const missing = wanted.filter((label) => !known.has(label));
      const names = missing.map((label) => `~"${label}"`).join(', ');
      if (missing.length > 0) problems.push(`${names} ${missing.length === 1 ? 'does' : 'do'} not exist in ${project} or its groups`);
    }
    if (problems.length === 0) return;
    throw new TriageRuleError(
      `${this.#where(source, type, rule, actions.labelsLine)}: actions.labels: ${problems.join('; ')}; create the label there or in a ` +
        'parent group, or correct its name (gitlab-triage stops on a missing label too; GitLab would create it silently)',
    );
  }

  /**
   * The summary issue: opened (in the triaged project unless `destination` names one), or in a dry run rendered:
   * what the report says of it, and where it was opened, for `comment_on_summary`.
   */
  async summarize(
    source: TriageSource,
    summarize: TriageSummarize,
    type: ResourceType,
    items: string,
  ): Promise<{ reported: Pick<TriageRuleReport, 'summary' | 'summaryIssue'>; opened?: { project: string; iid: number } }> {
    const title = renderTemplate(summarize.title, { type, items, at: this.clock.at });
    const description = renderTemplate(summarize.summary, { type, items, at: this.clock.at });
    // triage() refuses a summary without destination on a group, which has no issues of its own.
    const project = summarize.destination ?? source.path;
    if (this.dryRun) return { reported: { summary: title, summaryIssue: { project, title, description } } };
    const issue = await gitlab.issues.create(project, { title, description });
    return { reported: { summary: issue.web_url }, opened: { project, iid: issue.iid } };
  }

  /**
   * `comment_on_summary`: a note on the rule's summary issue for each resource, from the template with that
   * resource's placeholders (confidential ones redacted, as in the gem); in a dry run, the notes it would post.
   */
  async commentOnSummary(
    source: TriageSource,
    actions: TriageActions,
    resources: TriageResource[],
    opened: { project: string; iid: number } | undefined,
  ): Promise<Pick<TriageRuleReport, 'summaryComments'>> {
    const template = actions.commentOnSummary;
    if (!template) return {};
    const notes = resources.flatMap((resource) => {
      const body = renderTemplate(template, { resource, type: resource.type, at: this.clock.at, redactConfidential: true }).trim();
      return body === '' ? [] : [{ resource: referenceOf(source, resource), body }];
    });
    if (!opened) return notes.length > 0 ? { summaryComments: notes } : {};
    // As the gem's CommentOnSummary: its `comment_type`, but never internal.
    for (const { body } of notes) await postComment(opened.project, 'issues', opened.iid, body, { commentType: actions.commentType });
    return {};
  }

  /** In a dry run, what the gem's dry run prints for each resource: the note it would post. */
  #commentPreviews(source: TriageSource, actions: TriageActions, resources: TriageResource[]): NonNullable<TriageRuleReport['comments']> {
    return resources.flatMap((resource) => {
      const body = renderComment(actions, resource, this.clock.at);
      return body === '' ? [] : [{ resource: referenceOf(source, resource), body }];
    });
  }

  /**
   * A rule, once per expansion of its labels and in their order, as the gem's `resources_for_rule` yields them: each
   * expansion sees what the one before did, and has its own limits, actions and summary. A resource that two
   * expansions select is acted on twice, as in the gem.
   */
  async runExpansions(source: TriageSource, type: ResourceType, rule: TriageRule, actions: TriageActions): Promise<RulePass[]> {
    const passes: RulePass[] = [];
    for (const expansion of expandLabels(rule)) passes.push(await this.runRule(source, type, expansion, actions));
    return passes;
  }

  /**
   * One expansion of a rule: select, act (unless dry), summarize. Returns the report and the resources it acted on; a
   * rule that cannot act as written (a missing label) reports its error, acts on nothing, and fails a real run once the
   * pass ends.
   */
  async runRule(source: TriageSource, type: ResourceType, expansion: RuleExpansion, actions: TriageActions): Promise<RulePass> {
    const { rule, labels } = expansion;
    const resources = await this.select(source, type, rule);
    const report: TriageRuleReport = {
      ...sourceOf(source),
      resource: type,
      rule: rule.name,
      ...(labels && { expansion: labels }),
      matched: resources.map((resource) => referenceOf(source, resource)),
      actions: describeActions(actions),
    };
    try {
      await this.#requireLabels(source, type, rule, actions, resources);
    } catch (error) {
      if (!(error instanceof TriageRuleError)) throw error;
      this.#failures.push(error.message);
      log.error(error.message);
      report.error = error.message;
      return { report, resources: [] };
    }
    if (this.dryRun) {
      const comments = this.#commentPreviews(source, actions, resources);
      if (comments.length > 0) report.comments = comments;
    } else {
      for (let start = 0; start < resources.length; start += ACTION_BATCH) {
        await Promise.all(
          resources.slice(start, start + ACTION_BATCH).map((resource) => this.act(projectOf(source, resource), resource, actions)),
        );
      }
    }
    if (actions.summarize && resources.length > 0) {
      const { reported, opened } = await this.summarize(
        source,
        actions.summarize,
        type,
        renderItems(actions.summarize, resources, this.clock.at),
      );
      Object.assign(report, reported, await this.commentOnSummary(source, actions, resources, opened));
    }
    const verb = this.dryRun ? 'would' : 'did';
    const named = labels ? `'${rule.name}' (labels ${labels.join(', ')})` : `'${rule.name}'`;
    log.info(
      `${nameOf(source)} ${type} rule ${named}: ${resources.length} matched${resources.length > 0 && report.actions.length > 0 ? `; ${verb} ${report.actions.join(', ')}` : ''}`,
    );
    return { report, resources };
  }

  /** A summary policy: its rules (each expansion its own part, as in the gem), then the one issue gathering them. */
  async runSummary(source: TriageSource, type: ResourceType, summary: TriageSummaryPolicy): Promise<TriageRuleReport[]> {
    const reports: TriageRuleReport[] = [];
    const parts: string[] = [];
    for (const rule of summary.rules) {
      // As in the gem, a summary policy's rule only gathers items: triage() refuses other actions there.
      const { summarize } = rule.actions;
      for (const { report, resources } of await this.runExpansions(source, type, rule, {})) {
        reports.push(report);
        if (summarize && resources.length > 0) {
          const items = renderItems(summarize, resources, this.clock.at);
          parts.push(renderTemplate(summarize.summary, { type, items, at: this.clock.at }));
        }
      }
    }
    const report: TriageRuleReport = { ...sourceOf(source), resource: type, rule: summary.name, matched: [], actions: ['summarize'] };
    if (parts.length > 0) Object.assign(report, (await this.summarize(source, summary.summarize, type, parts.join('\n\n'))).reported);
    reports.push(report);
    return reports;
  }

  async run(sources: TriageSource[]): Promise<TriageRuleReport[]> {
    const reports: TriageRuleReport[] = [];
    for (const source of sources) {
      for (const [type, resource] of resourceTypesOf(this.policies)) {
        // The gem's order: a type's summaries, then its rules. A summary of what needs triage is written before the
        // rules change it, and a dry run, which changes nothing, previews the same summary the real run opens.
        for (const summary of resource.summaries) reports.push(...(await this.runSummary(source, type, summary)));
        for (const rule of resource.rules) {
          for (const { report } of await this.runExpansions(source, type, rule, rule.actions)) reports.push(report);
        }
      }
    }
    if (this.#failures.length === 0) return reports;
    // A dry run changes nothing, so failing it would only throw away the previews of the rules that work: its
    // result is the full report, each broken rule with its `error`. A real run fails, as the gem stops.
    if (this.dryRun) {
      log.warn(`${this.#failures.length} rule(s) could not run and would act on nothing; see their \`error\` in the report`);
      return reports;
    }
    throw new TriageRuleError(`${this.#failures.length} rule(s) could not run; the others did:\n${this.#failures.join('\n')}`);
  }
}

/** A note on an issue or merge request, or with `comment_type: thread` a new discussion; internal with `comment_internal`. */
async function postComment(
  project: string,
  type: ResourceType,
  iid: number,
  body: string,
  how: Pick<TriageActions, 'commentType' | 'commentInternal'>,
): Promise<void> {
  if (how.commentType === 'thread') {
    await gitlab.request('POST', `/projects/${encode(project)}/${type}/${iid}/discussions`, {
      body,
      ...(how.commentInternal ? { internal: true } : {}),
    });
  } else {
    const target = type === 'issues' ? { issueIid: iid } : { mergeRequestIid: iid };
    await gitlab.notes.create({ project, ...target, body, ...(how.commentInternal ? { internal: true } : {}) });
  }
}

/**
 * The projects, then the groups, that `options` names; throws what to fix when it names none, a group
 * by numeric id, or a summary a group has nowhere to open.
 */
/** Every option `triage()` takes: one it does not know (`dryrun`, `timeZone`) would otherwise do nothing, silently. */
const TRIAGE_OPTIONS: ReadonlySet<string> = new Set<keyof TriageOptions>([
  'name',
  'policies',
  'projects',
  'groups',
  'schedule',
  'timezone',
  'dryRun',
  'maxPages',
  'description',
]);

function triageSources(options: TriageOptions): TriageSource[] {
  const { projects = [], groups = [] } = options;
  const problems: string[] = Object.keys(options)
    .filter((key) => !TRIAGE_OPTIONS.has(key))
    .map((key) => `'${key}' is not an option of triage() (it takes ${[...TRIAGE_OPTIONS].join(', ')})`);
  if (options.timezone !== undefined && options.schedule === undefined) {
    problems.push('timezone is the time zone of the schedule: give schedule too, or leave timezone out');
  }
  if (projects.length === 0 && groups.length === 0) {
    problems.push("give what to triage: projects (['acme/app']), groups (['acme']), or both");
  }
  for (const group of groups) {
    if (!/^[^/\s*?]+(\/[^/\s*?]+)*$/.test(group) || /^\d+$/.test(group)) {
      problems.push(
        `groups: '${group}' is not a group's full path; give one such as 'acme' or 'acme/platform' (the permissions on its projects, '<group>/*', are derived from it)`,
      );
    }
  }
  const { maxPages } = options;
  if (maxPages !== undefined && !(Number.isInteger(maxPages) && maxPages >= 1 && maxPages <= MAX_PAGES_LIMIT)) {
    problems.push(`maxPages: ${maxPages} is not a whole number from 1 to ${MAX_PAGES_LIMIT}`);
  }
  for (const rule of options.policies.mergeRequests.rules) {
    if (rule.actions.move !== undefined)
      problems.push(`rule '${rule.name}' moves merge requests, which GitLab cannot move to another project`);
  }
  for (const resource of [options.policies.issues, options.policies.mergeRequests]) {
    for (const summary of resource.summaries) {
      for (const rule of summary.rules) {
        const others = Object.keys(rule.actions).filter((action) => action !== 'summarize');
        if (others.length > 0) {
          problems.push(
            `rule '${rule.name}' of summary '${summary.name}' has ${others.join(', ')}: a summary policy's rule only gives the summary its items (summarize), as in gitlab-triage; write a rule of its own to act on these resources`,
          );
        }
      }
    }
  }
  if (groups.length > 0) {
    // Where a pass opens issues: rules' summaries and summary policies (a summary policy's rules only give it text).
    const homeless = [options.policies.issues, options.policies.mergeRequests].flatMap((resource) => [
      ...resource.rules
        .filter((rule) => rule.actions.summarize && !rule.actions.summarize.destination)
        .map((rule) => `rule '${rule.name}'`),
      ...resource.summaries.filter((summary) => !summary.summarize.destination).map((summary) => `summary '${summary.name}'`),
    ]);
    for (const name of homeless) {
      problems.push(
        `${name} summarizes without a destination, and a group has no issues of its own: add summarize.destination (the project to open the summary in)`,
      );
    }
  }
  if (problems.length > 0) throw new TypeError(`triage('${options.name}'): ${problems.join('; ')} (docs/triage.md)`);
  return [
    ...projects.map((path): TriageSource => ({ kind: 'project', path })),
    ...groups.map((path): TriageSource => ({ kind: 'group', path })),
  ];
}

/**
 * A workflow that runs a gitlab-triage policy file on a schedule: the same rules, conditions and actions,
 * durable and journaled like any workflow (each change is a recorded, idempotent GitLab call), with a
 * report of what each rule matched as the run's result. See docs/triage.md.
 *
 * @example
 * // workflows/triage.ts
 * import policies from './.triage-policies.yml';
 * import { triage } from 'autoflow/blocks';
 * export default triage({ name: 'triage', policies, projects: ['acme/app'], schedule: '0 6 * * 1-5' });
 */
export function triage(options: TriageOptions): WorkflowDefinition<TriageInput | null, TriageReport> {
  const sources = triageSources(options);
  const triggers: TriggerSpec[] = options.schedule
    ? [{ cron: options.schedule, ...(options.timezone ? { timezone: options.timezone } : {}), input: { dryRun: options.dryRun ?? false } }]
    : [];
  return workflow<TriageInput | null, TriageReport>({
    name: options.name,
    description: options.description ?? `gitlab-triage policies of ${options.policies.file} on ${sources.map(nameOf).join(', ')}`,
    triggers,
    permissions: triagePermissions(options),
    input: { type: ['object', 'null'], properties: { dryRun: { type: 'boolean' } }, additionalProperties: false },
    async run(input) {
      const dryRun = input?.dryRun ?? options.dryRun ?? false;
      const at = now();
      const clock = { at, today: await todayIn(at, options.timezone) };
      const pass = new TriagePass(options.policies, dryRun, clock, options.maxPages ?? DEFAULT_MAX_PAGES);
      return { dryRun, policyFile: options.policies.file, rules: await pass.run(sources) };
    },
  });
}
