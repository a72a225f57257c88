/**
 * gitlab-triage's policy file (`.triage-policies.yml`) as AutoFlow runs it. The host reads, checks and
 * normalizes the YAML when it bundles a workflow that imports it (`import policies from './.triage-policies.yml'`,
 * src/sandbox/triage-policy-file.ts); `triage()` from 'autoflow/blocks' runs the result (src/blocks/triage.ts).
 * Plain JSON data. docs/triage.md maps every key of the gem's format to these fields.
 */

export interface TriagePolicies {
  /** The policy file, relative to the workflow's folder: named in logs and in every summary. */
  file: string;
  /** `host_url`: the GitLab the file was written for. Informational: the server calls the GitLab it is configured with. */
  hostUrl?: string;
  issues: TriageResourcePolicies;
  mergeRequests: TriageResourcePolicies;
}

export interface TriageResourcePolicies {
  rules: TriageRule[];
  summaries: TriageSummaryPolicy[];
}

export interface TriageRule {
  /** `name`; a rule without one is named `<issues|merge_requests> rule <n>` (n from 1, in file order). */
  name: string;
  conditions: TriageConditions;
  /** `limits`: only the `count` most recent or oldest (by `created_at`) of the resources the conditions match. */
  limit?: { order: 'most_recent' | 'oldest'; count: number };
  actions: TriageActions;
}

export type TriageComparison = 'greater_than' | 'less_than';

export interface TriageMemberCondition {
  source: 'group' | 'project';
  condition: 'member_of' | 'not_member_of';
  /** `source_id`: a full path (`gitlab-org/gitlab`) or a numeric id, as a string. */
  sourceId: string;
}

export interface TriageConditions {
  state?: 'opened' | 'closed' | 'merged' | 'locked' | 'all';
  date?: {
    attribute: 'created_at' | 'updated_at' | 'closed_at' | 'merged_at';
    condition: 'older_than' | 'newer_than';
    intervalType: 'minutes' | 'hours' | 'days' | 'weeks' | 'months' | 'years';
    interval: number;
    /** `filter_in_ruby: true`: the gem compares the dates itself (strictly) instead of asking GitLab. */
    filterInRuby?: boolean;
  };
  /**
   * `labels`, brace expansion done (`workflow::{triage, devel}` → two alternatives): a resource matches when it has
   * every label of at least one alternative. `None` / `No Label` → `none`, `Any` / `Any Label` → `any`.
   */
  labels?: { kind: 'all_of_one'; alternatives: string[][] } | { kind: 'none' } | { kind: 'any' };
  /** `forbidden_labels`: a resource with any of these does not match. */
  forbiddenLabels?: string[];
  /** `no_additional_labels: true`: a resource with a label outside `labels` does not match. */
  noAdditionalLabels?: boolean;
  /**
   * `milestone`: `None` / `No Milestone` → `none`, `Any` / `Any Milestone` → `any`, else a title. The gem's timeboxes
   * `upcoming` and `started` are kept as titles too; a pass reads them as GitLab's `milestone_id` filter does.
   */
  milestone?: { kind: 'none' } | { kind: 'any' } | { kind: 'title'; title: string };
  authorUsername?: string;
  authorMember?: TriageMemberCondition;
  assigneeMember?: TriageMemberCondition;
  /** `votes`, and the legacy `upvotes` (attribute `upvotes`). */
  votes?: { attribute: 'upvotes' | 'downvotes'; condition: TriageComparison; threshold: number };
  discussions?: { attribute: 'threads' | 'notes'; condition: TriageComparison; threshold: number };
  /** Merge requests: `draft` (and the legacy `wip`). */
  draft?: boolean;
  sourceBranch?: string;
  targetBranch?: string;
  /** Merge requests: `reviewer_id`, a user id or `none` / `any` (GitLab's `reviewer_id` filter). */
  reviewerId?: number | 'none' | 'any';
}

/**
 * A comment or summary template, parsed: text, `{{placeholder}}`s (`author`, `assignees`, `title`, `web_url`,
 * `labels`, `items`…), and the few Ruby interpolations the gem's users write that AutoFlow evaluates without Ruby.
 */
export type TriageTemplate = TriageTemplatePart[];

export type TriageTemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'placeholder'; name: string }
  /** `#{resource[:field]}` (symbol or string key, nested `[0][:iid]` allowed), optionally `.capitalize` / `.upcase` / `.downcase`. */
  | { kind: 'field'; path: (string | number)[]; transform?: 'capitalize' | 'upcase' | 'downcase' }
  /** `#{N.days.from_now.strftime('%Y-%m-%d')}` / `N.days.ago`: the run's time plus `days` (negative for `ago`). */
  | { kind: 'date'; days: number; format: string };

export interface TriageActions {
  labels?: string[];
  removeLabels?: string[];
  status?: 'close' | 'reopen';
  /** Usernames, without `@`. */
  mention?: string[];
  /** `move`: the full path of the project an issue moves to. */
  move?: string;
  comment?: TriageTemplate;
  /** `comment_type: thread` starts a discussion instead of a plain note. */
  commentType?: 'comment' | 'thread';
  commentInternal?: boolean;
  /**
   * `redact_confidential_resources` beside `comment`: on a confidential resource the comment's placeholders
   * show `(confidential)`, as the gem's do, unless this is false.
   * @default true
   */
  redactConfidential?: boolean;
  /** The line `labels:` is written on, for the error a pass gives when one of them does not exist. */
  labelsLine?: number;
  summarize?: TriageSummarize;
  /**
   * `comment_on_summary`, beside `summarize`: once the rule's summary issue is opened, a note on it for each resource,
   * written from this template with that resource's placeholders (a thread with `comment_type: thread`), as the gem's
   * CommentOnSummary posts them.
   */
  commentOnSummary?: TriageTemplate;
}

export interface TriageSummarize {
  title: TriageTemplate;
  /** One line per resource, joined by newlines into `{{items}}`. */
  item: TriageTemplate;
  summary: TriageTemplate;
  /** `destination`: the project the summary issue is opened in (default: the triaged project). */
  destination?: string;
  /** `redact_confidential_resources` (default true): confidential resources appear as `(confidential)`. */
  redactConfidential: boolean;
}

/** `summaries:` — one issue gathering what several rules found. */
export interface TriageSummaryPolicy {
  name: string;
  rules: TriageRule[];
  summarize: TriageSummarize;
}

/** What reading a policy file found that the gem accepts but that does nothing or is ignored: shown by `autoflow check`. */
export interface TriagePolicyWarning {
  /** `<file>: rule '<name>': <key path>: what and why`. */
  message: string;
}
