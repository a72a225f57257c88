/** What a triage pass returns as its run's result: each rule's matches and actions (`autoflow show`, the web UI). */

export interface TriageRuleReport {
  /** The triaged project: one of `projects` (absent in a group's report). */
  project?: string;
  /** The triaged group: one of `groups` (absent in a project's report). */
  group?: string;
  resource: 'issues' | 'merge_requests';
  rule: string;
  /**
   * The labels of this pass of a rule whose `labels` have braces (`priority-{1..2}` → `['priority-1']`, then
   * `['priority-2']`): the gem runs such a rule once per expansion, with its own matches, limits, actions and summary.
   */
  expansion?: string[];
  /** What the conditions and limits kept, as references (`acme/app#12`, `acme/app!3`). */
  matched: string[];
  /** What the rule does to each of them, in words (`label ~"stale"`, `close`, `comment`…). */
  actions: string[];
  /** In a dry run: the note the rule would post on each resource (`acme/app#12`), rendered, as the gem's dry run prints it. */
  comments?: { resource: string; body: string }[];
  /** The issue a `summarize` action opened (its web URL), or in a dry run the title it would have. */
  summary?: string;
  /** In a dry run: the summary issue the rule would open, rendered, and the project it would open it in. */
  summaryIssue?: { project: string; title: string; description: string };
  /** In a dry run: the note `comment_on_summary` would post on the summary issue for each resource (`acme/app#12`). */
  summaryComments?: { resource: string; body: string }[];
  /**
   * Why the rule acts on nothing (a label of its actions is missing), with its file and line. A real run fails at
   * its end with every such error; a dry run completes, so that the other rules' previews are not lost.
   */
  error?: string;
}

export interface TriageReport {
  dryRun: boolean;
  policyFile: string;
  rules: TriageRuleReport[];
}
