import type { Json } from '../core/model.js';
import { now } from '../sdk/durable.js';
import { gitlab } from '../sdk/gitlab.js';
import type { Permissions, TriggerSpec, WorkflowDefinition } from '../sdk/types.js';
import { log } from '../sdk/log.js';
import type { TriageActions, TriagePolicies, TriageRule, TriageSummarize } from '../sdk/triage-policy.js';
import { workflow } from '../sdk/workflow.js';
import { compareCount, labelAlternatives, limited, listQuery, matches, memberMatches } from './triage-conditions.js';
import { renderTemplate, type TriageResource } from './triage-template.js';

export interface TriageOptions {
  /** The workflow's name. */
  name: string;
  /** The policy file: `import policies from './.triage-policies.yml'` (checked when the workflow is bundled). */
  policies: TriagePolicies;
  /** The projects to triage, by full path: gitlab-triage's `--source-id`, one or several. */
  projects: string[];
  /** A cron pattern (`'0 6 * * 1-5'`); without one, runs start only by hand (`autoflow run <name>`). */
  schedule?: string;
  /** The schedule's time zone (IANA name); UTC by default. */
  timezone?: string;
  /** gitlab-triage's `--dry-run` for the runs the schedule starts: report what would be done, change nothing. */
  dryRun?: boolean;
  description?: string;
}

/** A run's input: `autoflow run triage --input '{"dryRun":true}'` previews without changing anything. */
export interface TriageInput {
  dryRun?: boolean;
}

export interface TriageRuleReport {
  project: string;
  resource: 'issues' | 'merge_requests';
  rule: string;
  /** What the conditions and limits kept, as references (`acme/app#12`, `acme/app!3`). */
  matched: string[];
  /** What the rule does to each of them, in words (`label ~"stale"`, `close`, `comment`…). */
  actions: string[];
  /** The issue a `summarize` action opened (its web URL), or in a dry run the title it would have. */
  summary?: string;
}

export interface TriageReport {
  dryRun: boolean;
  policyFile: string;
  rules: TriageRuleReport[];
}

type ResourceType = TriageResource['type'];

/** How many resources are acted on at once: their calls go out together, in a fixed order. */
const ACTION_BATCH = 10;
/** Thread counts are read one page deep: a threshold above it compares against this many. */
const THREAD_PAGE = 100;

const encode = (project: string): string => encodeURIComponent(project);

function referenceOf(project: string, resource: TriageResource): string {
  const full = (resource.references as { full?: unknown } | undefined)?.full;
  return typeof full === 'string' ? full : `${project}${resource.type === 'issues' ? '#' : '!'}${resource.iid}`;
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

/** What the policies reach besides the triaged projects: members' sources, move targets, summary destinations. */
function triagePermissions(options: TriageOptions): Permissions {
  const projects = new Set(options.projects);
  const groups = new Set<string>();
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

function describeActions(actions: TriageActions): string[] {
  const words: string[] = [];
  if (actions.labels?.length) words.push(`label ${actions.labels.map((label) => `~"${label}"`).join(' ')}`);
  if (actions.removeLabels?.length) words.push(`unlabel ${actions.removeLabels.map((label) => `~"${label}"`).join(' ')}`);
  if (actions.status) words.push(actions.status);
  if (actions.comment)
    words.push(actions.commentType === 'thread' ? 'start a thread' : actions.commentInternal ? 'internal comment' : 'comment');
  if (actions.mention?.length) words.push(`mention ${actions.mention.map((name) => `@${name}`).join(' ')}`);
  if (actions.move) words.push(`move to ${actions.move}`);
  if (actions.summarize) words.push('summarize');
  return words;
}

/** One triage pass: reads what the policies select, acts on it unless dry, and reports. */
class TriagePass {
  readonly #members = new Map<string, Promise<ReadonlySet<string>>>();
  readonly #projectIds = new Map<string, Promise<number>>();

  constructor(
    readonly policies: TriagePolicies,
    readonly dryRun: boolean,
    readonly at: Date,
  ) {}

  /** The usernames of a project's or group's members, inherited ones too; read once per pass. */
  members(source: 'group' | 'project', sourceId: string): Promise<ReadonlySet<string>> {
    const key = `${source}:${sourceId}`;
    let members = this.#members.get(key);
    if (!members) {
      const owner = source === 'group' ? { group: sourceId } : { project: sourceId };
      members = gitlab.members.listAll(owner, {}, { all: true }).then((list) => new Set(list.map((member) => member.username)));
      this.#members.set(key, members);
    }
    return members;
  }

  async select(project: string, type: ResourceType, rule: TriageRule): Promise<TriageResource[]> {
    const found = new Map<number, TriageResource>();
    for (const labels of labelAlternatives(rule.conditions)) {
      const query = listQuery(rule, type, labels, this.at);
      const page =
        type === 'issues'
          ? await gitlab.issues.list(project, query, { all: true })
          : await gitlab.mergeRequests.list(project, query, { all: true });
      for (const item of page as unknown as Record<string, unknown>[]) {
        const resource = { ...item, type } as TriageResource;
        if (!found.has(resource.iid) && matches(resource, rule.conditions, this.at)) found.set(resource.iid, resource);
      }
    }
    const kept: TriageResource[] = [];
    for (const resource of found.values()) if (await this.#meetsRequestedConditions(project, resource, rule)) kept.push(resource);
    return limited(kept, rule.limit);
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
        `projects/${encode(project)}/${resource.type}/${resource.iid}/discussions`,
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
    const body = [
      actions.comment ? renderTemplate(actions.comment, { resource, type, at: this.at }) : '',
      actions.mention?.length ? `/cc ${actions.mention.map((name) => `@${name}`).join(' ')}` : '',
    ]
      .map((part) => part.trimEnd())
      .filter((part) => part !== '')
      .join('\n\n');
    if (body !== '') {
      if (actions.commentType === 'thread') {
        await gitlab.request('POST', `projects/${encode(project)}/${type}/${iid}/discussions`, { body });
      } else {
        const target = type === 'issues' ? { issueIid: iid } : { mergeRequestIid: iid };
        await gitlab.notes.create({ project, ...target, body, ...(actions.commentInternal ? { internal: true } : {}) });
      }
    }
    if (actions.move && type === 'issues') {
      const destination = await this.#projectId(actions.move);
      await gitlab.request('POST', `projects/${encode(project)}/issues/${iid}/move`, { to_project_id: destination });
    }
  }

  #projectId(path: string): Promise<number> {
    let id = this.#projectIds.get(path);
    if (!id) {
      id = gitlab.projects.get(path).then((project) => project.id);
      this.#projectIds.set(path, id);
    }
    return id;
  }

  itemsOf(summarize: TriageSummarize, resources: TriageResource[], type: ResourceType): string {
    return resources
      .map((resource) =>
        summarize.redactConfidential && resource.confidential === true
          ? '(confidential)'
          : renderTemplate(summarize.item, { resource, type, at: this.at }),
      )
      .join('\n');
  }

  /** Opens the summary issue, or in a dry run names it. */
  async summarize(project: string, summarize: TriageSummarize, type: ResourceType, items: string): Promise<string> {
    const title = renderTemplate(summarize.title, { type, items, at: this.at });
    const description = renderTemplate(summarize.summary, { type, items, at: this.at });
    if (this.dryRun) return title;
    const issue = await gitlab.issues.create(summarize.destination ?? project, { title, description });
    return issue.web_url;
  }

  /** A rule: select, act (unless dry), summarize. Returns the report and the resources it kept. */
  async runRule(
    project: string,
    type: ResourceType,
    rule: TriageRule,
    actions: TriageActions,
  ): Promise<{ report: TriageRuleReport; resources: TriageResource[] }> {
    const resources = await this.select(project, type, rule);
    const report: TriageRuleReport = {
      project,
      resource: type,
      rule: rule.name,
      matched: resources.map((resource) => referenceOf(project, resource)),
      actions: describeActions(actions),
    };
    if (!this.dryRun) {
      for (let start = 0; start < resources.length; start += ACTION_BATCH) {
        await Promise.all(resources.slice(start, start + ACTION_BATCH).map((resource) => this.act(project, resource, actions)));
      }
    }
    if (actions.summarize && resources.length > 0) {
      report.summary = await this.summarize(project, actions.summarize, type, this.itemsOf(actions.summarize, resources, type));
    }
    const verb = this.dryRun ? 'would' : 'did';
    log.info(
      `${project} ${type} rule '${rule.name}': ${resources.length} matched${resources.length > 0 && report.actions.length > 0 ? `; ${verb} ${report.actions.join(', ')}` : ''}`,
    );
    return { report, resources };
  }

  async run(projects: string[]): Promise<TriageRuleReport[]> {
    const reports: TriageRuleReport[] = [];
    for (const project of projects) {
      for (const [type, resource] of [
        ['issues', this.policies.issues],
        ['merge_requests', this.policies.mergeRequests],
      ] as const) {
        for (const rule of resource.rules) reports.push((await this.runRule(project, type, rule, rule.actions)).report);
        for (const summary of resource.summaries) {
          const parts: string[] = [];
          for (const rule of summary.rules) {
            const { summarize, ...others } = rule.actions;
            const { report, resources } = await this.runRule(project, type, rule, others);
            reports.push(report);
            if (summarize && resources.length > 0) {
              const items = this.itemsOf(summarize, resources, type);
              parts.push(renderTemplate(summarize.summary, { type, items, at: this.at }));
            }
          }
          const report: TriageRuleReport = { project, resource: type, rule: summary.name, matched: [], actions: ['summarize'] };
          if (parts.length > 0) report.summary = await this.summarize(project, summary.summarize, type, parts.join('\n\n'));
          reports.push(report);
        }
      }
    }
    return reports;
  }
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
  const triggers: TriggerSpec[] = options.schedule
    ? [{ cron: options.schedule, ...(options.timezone ? { timezone: options.timezone } : {}), input: { dryRun: options.dryRun ?? false } }]
    : [];
  return workflow<TriageInput | null, TriageReport>({
    name: options.name,
    description: options.description ?? `gitlab-triage policies of ${options.policies.file} on ${options.projects.join(', ')}`,
    triggers,
    permissions: triagePermissions(options),
    input: { type: ['object', 'null'], properties: { dryRun: { type: 'boolean' } }, additionalProperties: false },
    async run(input) {
      const dryRun = input?.dryRun ?? options.dryRun ?? false;
      const pass = new TriagePass(options.policies, dryRun, now());
      return { dryRun, policyFile: options.policies.file, rules: await pass.run(options.projects) };
    },
  });
}
