import type { Query } from '../sdk/gitlab-types.js';
import type { TriageComparison, TriageConditions, TriageRule } from '../sdk/triage-policy.js';
import type { TriageResource } from './triage-template.js';

type DateCondition = NonNullable<TriageConditions['date']>;

/**
 * When a pass runs: its moment, and today's date (`YYYY-MM-DD`) in the triage's time zone (the schedule's, else UTC),
 * from which `days` to `years` count back, as the gem counts them from its process's local date.
 */
export interface TriageClock {
  at: Date;
  today: string;
}

/** `minutes` and `hours` the gem counts in exact time; `days` to `years` in whole dates (`30.days.ago.to_date`). */
const isTimeInterval = (date: Pick<DateCondition, 'intervalType'>): boolean =>
  date.intervalType === 'minutes' || date.intervalType === 'hours';

/** The moment `interval` minutes or hours before `at`. */
function timeBefore(at: Date, condition: Pick<DateCondition, 'interval' | 'intervalType'>): Date {
  return new Date(at.getTime() - condition.interval * (condition.intervalType === 'minutes' ? 60_000 : 3_600_000));
}

/**
 * The date `interval` days, weeks, months or years before `today` (both `YYYY-MM-DD`), as ActiveSupport's
 * `N.months.ago.to_date`: months and years are calendar ones, ending on a shorter month's last day (Mar 31 → Feb 28).
 */
export function dateBefore(today: string, condition: Pick<DateCondition, 'interval' | 'intervalType'>): string {
  const [year, month, day] = today.split('-').map(Number) as [number, number, number];
  const { interval, intervalType } = condition;
  if (intervalType === 'days' || intervalType === 'weeks') {
    const days = intervalType === 'weeks' ? interval * 7 : interval;
    return new Date(Date.UTC(year, month - 1, day - days)).toISOString().slice(0, 10);
  }
  const target = year * 12 + (month - 1) - (intervalType === 'years' ? interval * 12 : interval);
  const [toYear, toMonth] = [Math.floor(target / 12), ((target % 12) + 12) % 12];
  const lastDay = new Date(Date.UTC(toYear, toMonth + 1, 0)).getUTCDate();
  return new Date(Date.UTC(toYear, toMonth, Math.min(day, lastDay))).toISOString().slice(0, 10);
}

/** What a date condition's `created_before`/`updated_after`… sends: a time for minutes and hours, else a date, as the gem's. */
function dateParam(date: DateCondition, clock: TriageClock): string {
  return isTimeInterval(date) ? timeBefore(clock.at, date).toISOString() : dateBefore(clock.today, date);
}

/**
 * The labels a rule asks for: `None`, `Any`, or those of its one alternative. A rule is run once per brace
 * expansion (`expandLabels`), so it has one; GitLab is asked for none when there are several.
 */
function labelsParam(conditions: TriageConditions): string | undefined {
  const labels = conditions.labels;
  if (labels?.kind === 'none') return 'None';
  if (labels?.kind === 'any') return 'Any';
  return labels?.alternatives.length === 1 ? labels.alternatives[0]?.join(',') : undefined;
}

/** One pass of a rule whose `labels` have braces: the rule with one expansion's labels. */
export interface RuleExpansion {
  rule: TriageRule;
  /** The expansion's labels, when the rule has several expansions. */
  labels?: string[];
}

/**
 * gitlab-triage's `ExpandCondition`: a rule whose labels have braces (`priority-{1..2}`) runs once per expansion,
 * each with only that expansion's labels: listed, checked, limited and acted on in turn, as the gem's
 * `resources_for_rule` yields them. Any other rule is its own one expansion.
 */
export function expandLabels(rule: TriageRule): RuleExpansion[] {
  const labels = rule.conditions.labels;
  if (labels?.kind !== 'all_of_one' || labels.alternatives.length < 2) return [{ rule }];
  return labels.alternatives.map((alternative) => ({
    rule: { ...rule, conditions: { ...rule.conditions, labels: { kind: 'all_of_one', alternatives: [alternative] } } },
    labels: alternative,
  }));
}

/**
 * The list filters GitLab applies itself, so that only candidates cross the wire. Everything is checked
 * again on the answer (`matches`): the query narrows, the check decides.
 */
export function listQuery(rule: TriageRule, type: TriageResource['type'], clock: TriageClock): Query {
  const { conditions } = rule;
  const query: Query = { order_by: 'created_at', sort: 'desc' };
  const state = conditions.state;
  if (state && state !== 'all' && (type === 'merge_requests' || state === 'opened' || state === 'closed')) query.state = state;
  const labels = labelsParam(conditions);
  if (labels) query.labels = labels;
  if (conditions.forbiddenLabels?.length) query['not[labels]'] = conditions.forbiddenLabels.join(',');
  const milestone = conditions.milestone;
  const timebox = milestone && timeboxOf(milestone, type);
  if (timebox) query.milestone_id = timebox === 'upcoming' ? 'Upcoming' : 'Started';
  else if (milestone) query.milestone = milestone.kind === 'title' ? milestone.title : milestone.kind === 'none' ? 'None' : 'Any';
  if (conditions.authorUsername) query.author_username = conditions.authorUsername;
  const date = conditions.date;
  if (date && (date.attribute === 'created_at' || date.attribute === 'updated_at')) {
    // Also with filter_in_ruby: GitLab's answer is then a superset of what the check below keeps.
    const prefix = date.attribute === 'created_at' ? 'created' : 'updated';
    query[`${prefix}_${date.condition === 'older_than' ? 'before' : 'after'}`] = dateParam(date, clock);
  }
  if (type === 'merge_requests') {
    if (conditions.sourceBranch) query.source_branch = conditions.sourceBranch;
    if (conditions.targetBranch) query.target_branch = conditions.targetBranch;
    if (conditions.draft !== undefined) query.wip = conditions.draft ? 'yes' : 'no';
    const reviewer = conditions.reviewerId;
    if (reviewer !== undefined) query.reviewer_id = reviewer === 'none' ? 'None' : reviewer === 'any' ? 'Any' : reviewer;
  }
  return query;
}

export const compareCount = (value: number, condition: TriageComparison, threshold: number): boolean =>
  condition === 'greater_than' ? value > threshold : value < threshold;

const labelsOf = (resource: TriageResource): string[] => ((resource.labels as unknown[] | undefined) ?? []).map(String);
const usernameOf = (user: unknown): string | undefined => (user as { username?: string } | null | undefined)?.username;

/**
 * A date condition, as the gem decides it. Minutes and hours: the exact time. Days to years, where the gem asks
 * GitLab (`created_at`, `updated_at` without `filter_in_ruby`): GitLab's comparison with the date's midnight, UTC
 * (`updated_before=2026-03-01` keeps `updated_at <= 2026-03-01T00:00Z`, `updated_after` `>=`). Where the gem checks in
 * Ruby (`filter_in_ruby`, `closed_at`, `merged_at`): the resource's date as GitLab writes it (UTC) against the date,
 * strictly (`resource[attr].to_date < 30.days.ago.to_date`).
 */
function dateMatches(resource: TriageResource, date: DateCondition, clock: TriageClock): boolean {
  const value = resource[date.attribute];
  if (typeof value !== 'string') return false;
  const older = date.condition === 'older_than';
  if (isTimeInterval(date)) {
    const [time, threshold] = [Date.parse(value), timeBefore(clock.at, date).getTime()];
    return older ? time < threshold : time > threshold;
  }
  const threshold = dateBefore(clock.today, date);
  const askedOfGitLab = (date.attribute === 'created_at' || date.attribute === 'updated_at') && !date.filterInRuby;
  if (askedOfGitLab) {
    const [time, midnight] = [Date.parse(value), Date.parse(`${threshold}T00:00:00Z`)];
    return older ? time <= midnight : time >= midnight;
  }
  const day = value.slice(0, 10);
  return older ? day < threshold : day > threshold;
}

/**
 * `labels`, `forbidden_labels` and `no_additional_labels`. The last allows only the labels of the alternative that
 * matched: none at all where `labels` names none (`None`, `Any`, or no `labels`), as the gem subtracts the
 * condition's labels from the resource's and wants nothing left.
 */
function labelsMatch(resource: TriageResource, conditions: TriageConditions): boolean {
  const held = labelsOf(resource);
  const labels = conditions.labels;
  if (conditions.forbiddenLabels?.some((label) => held.includes(label))) return false;
  if (labels?.kind === 'none' && held.length > 0) return false;
  if (labels?.kind === 'any' && held.length === 0) return false;
  const alternatives = labels?.kind === 'all_of_one' ? labels.alternatives : [[]];
  return alternatives.some(
    (alternative) =>
      alternative.every((label) => held.includes(label)) &&
      (!conditions.noAdditionalLabels || held.every((label) => alternative.includes(label))),
  );
}

type MilestoneCondition = NonNullable<TriageConditions['milestone']>;

/**
 * The gem's milestone timebox values, kept as written by the reader (a `title` condition): for issues it asks
 * GitLab's `milestone_id=Upcoming|Started`; for merge requests, whose API has no such filter, it sends the word as a
 * milestone title, and so does AutoFlow (docs/triage.md).
 */
function timeboxOf(milestone: MilestoneCondition, type: TriageResource['type']): 'upcoming' | 'started' | undefined {
  if (milestone.kind !== 'title' || type !== 'issues') return undefined;
  const value = milestone.title.toLowerCase();
  return value === 'upcoming' || value === 'started' ? value : undefined;
}

interface ResourceMilestone {
  title?: string;
  state?: string;
  start_date?: string | null;
  due_date?: string | null;
}

/**
 * GitLab's timeboxes: `started` is an active milestone that has started; `upcoming` is, of each project's and
 * group's active milestones due after today, the one due first. Which one that is needs all their milestones:
 * the answer to `milestone_id=Upcoming` decides it, this checks only that the milestone is active and due later.
 */
function inTimebox(milestone: ResourceMilestone, timebox: 'upcoming' | 'started', at: Date): boolean {
  const today = at.toISOString().slice(0, 10);
  if (milestone.state !== 'active') return false;
  if (timebox === 'started') return typeof milestone.start_date === 'string' && milestone.start_date <= today;
  return typeof milestone.due_date === 'string' && milestone.due_date > today;
}

function milestoneMatches(resource: TriageResource, milestone: MilestoneCondition, at: Date): boolean {
  const held = resource.milestone as ResourceMilestone | null | undefined;
  const title = held?.title;
  const timebox = timeboxOf(milestone, resource.type);
  if (timebox) return !!held && inTimebox(held, timebox, at);
  if (milestone.kind === 'none') return title === undefined;
  if (milestone.kind === 'any') return title !== undefined;
  return title === milestone.title;
}

/** `reviewer_id`: a user id among the reviewers, or `none` / `any` of them. */
function reviewerMatches(resource: TriageResource, reviewer: NonNullable<TriageConditions['reviewerId']>): boolean {
  const ids = ((resource.reviewers as { id?: unknown }[] | undefined) ?? []).map((user) => user.id);
  if (reviewer === 'none') return ids.length === 0;
  if (reviewer === 'any') return ids.length > 0;
  return ids.includes(reviewer);
}

/**
 * Whether `resource` meets every condition that needs no further request. Membership and thread
 * counts need GitLab's answers: the caller checks them after this (`memberMatches`, `threads`).
 */
export function matches(resource: TriageResource, conditions: TriageConditions, clock: TriageClock): boolean {
  const { state, date, milestone, votes, discussions } = conditions;
  if (state && state !== 'all' && resource.state !== state) return false;
  if (date && !dateMatches(resource, date, clock)) return false;
  if (!labelsMatch(resource, conditions)) return false;
  if (milestone && !milestoneMatches(resource, milestone, clock.at)) return false;
  if (conditions.authorUsername && usernameOf(resource.author) !== conditions.authorUsername) return false;
  if (votes && !compareCount(Number(resource[votes.attribute] ?? 0), votes.condition, votes.threshold)) return false;
  if (
    discussions?.attribute === 'notes' &&
    !compareCount(Number(resource.user_notes_count ?? 0), discussions.condition, discussions.threshold)
  ) {
    return false;
  }
  if (resource.type === 'merge_requests') {
    if (conditions.draft !== undefined && Boolean(resource.draft ?? resource.work_in_progress) !== conditions.draft) return false;
    if (conditions.sourceBranch && resource.source_branch !== conditions.sourceBranch) return false;
    if (conditions.targetBranch && resource.target_branch !== conditions.targetBranch) return false;
    if (conditions.reviewerId !== undefined && !reviewerMatches(resource, conditions.reviewerId)) return false;
  }
  return true;
}

/**
 * `author_member` / `assignee_member` against the usernames of the source's members. As in the gem, the assignee is
 * GitLab's `assignee`, the first of `assignees`: the others are not looked at. An unassigned resource meets neither form.
 */
export function memberMatches(
  resource: TriageResource,
  who: 'author' | 'assignee',
  condition: 'member_of' | 'not_member_of',
  members: ReadonlySet<string>,
): boolean {
  const user = who === 'author' ? resource.author : (resource.assignee ?? (resource.assignees as unknown[] | undefined)?.[0]);
  const name = usernameOf(user);
  if (name === undefined) return false;
  return condition === 'member_of' ? members.has(name) : !members.has(name);
}

/** `limits`: the most recent or oldest `count`, by creation. */
export function limited(resources: TriageResource[], limit: TriageRule['limit']): TriageResource[] {
  if (!limit) return resources;
  const created = (resource: TriageResource): number => Date.parse(String(resource.created_at));
  const sorted = [...resources].sort((a, b) => (limit.order === 'most_recent' ? created(b) - created(a) : created(a) - created(b)));
  return sorted.slice(0, limit.count);
}
