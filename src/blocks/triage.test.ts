import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import type { TriageActions, TriagePolicies, TriageRule } from '../sdk/triage-policy.js';
import { createTestEnv, type TestEnv } from '../testing/test-env.js';
import { triage, type TriageReport } from './triage.js';
import { dateBefore, limited, listQuery, matches, memberMatches } from './triage-conditions.js';
import { renderTemplate, strftime, type TriageResource } from './triage-template.js';

const AT = new Date('2026-03-31T12:00:00Z');
const CLOCK = { at: AT, today: '2026-03-31' };

const issue = (fields: Partial<TriageResource> & Record<string, unknown>): TriageResource => ({
  iid: 1,
  type: 'issues',
  state: 'opened',
  labels: [],
  author: { username: 'dana' },
  assignees: [],
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  ...fields,
});

const rule = (conditions: TriageRule['conditions']): TriageRule => ({ name: 'r', conditions, actions: {} });

describe('triage conditions', () => {
  test('days to years go back by whole dates, months and years by the calendar, to the end of a shorter month, as ActiveSupport does', () => {
    const back = (interval: number, intervalType: 'days' | 'weeks' | 'months' | 'years'): string =>
      dateBefore('2026-03-31', { interval, intervalType });
    assert.equal(back(1, 'months'), '2026-02-28');
    assert.equal(back(6, 'months'), '2025-09-30');
    assert.equal(back(13, 'months'), '2025-02-28');
    assert.equal(back(2, 'weeks'), '2026-03-17');
    assert.equal(back(30, 'days'), '2026-03-01');
    assert.equal(back(1, 'years'), '2025-03-31');
    assert.equal(dateBefore('2028-02-29', { interval: 1, intervalType: 'years' }), '2027-02-28');
  });

  test('GitLab filters what it can; the answer is checked again', () => {
    const query = listQuery(
      rule({
        state: 'opened',
        labels: { kind: 'all_of_one', alternatives: [['bug', 'team::a']] },
        forbiddenLabels: ['wontfix', 'duplicate'],
        milestone: { kind: 'none' },
        date: { attribute: 'updated_at', condition: 'older_than', intervalType: 'days', interval: 30 },
        draft: true,
      }),
      'merge_requests',
      CLOCK,
    );
    assert.deepEqual(query, {
      order_by: 'created_at',
      sort: 'desc',
      state: 'opened',
      labels: 'bug,team::a',
      'not[labels]': 'wontfix,duplicate',
      milestone: 'None',
      updated_before: '2026-03-01',
      wip: 'yes',
    });
    assert.equal(listQuery(rule({ state: 'merged' }), 'issues', CLOCK).state, undefined, 'issues have no merged state to ask for');
  });

  test('labels: one alternative must be complete, forbidden ones exclude, no_additional_labels allows nothing else', () => {
    const conditions: TriageRule['conditions'] = {
      labels: {
        kind: 'all_of_one',
        alternatives: [
          ['bug', 'team::a'],
          ['bug', 'team::b'],
        ],
      },
    };
    assert.equal(matches(issue({ labels: ['bug', 'team::b'] }), conditions, CLOCK), true);
    assert.equal(matches(issue({ labels: ['bug'] }), conditions, CLOCK), false);
    assert.equal(matches(issue({ labels: ['bug', 'team::a', 'extra'] }), conditions, CLOCK), true);
    assert.equal(matches(issue({ labels: ['bug', 'team::a', 'extra'] }), { ...conditions, noAdditionalLabels: true }, CLOCK), false);
    assert.equal(matches(issue({ labels: ['bug', 'team::a', 'wontfix'] }), { ...conditions, forbiddenLabels: ['wontfix'] }, CLOCK), false);
    assert.equal(matches(issue({ labels: [] }), { labels: { kind: 'none' } }, CLOCK), true);
    assert.equal(matches(issue({ labels: ['x'] }), { labels: { kind: 'none' } }, CLOCK), false);
  });

  test('dates, votes, notes, milestones and drafts compare as the gem does', () => {
    const older = {
      date: { attribute: 'updated_at' as const, condition: 'older_than' as const, intervalType: 'days' as const, interval: 30 },
    };
    assert.equal(matches(issue({ updated_at: '2026-02-01T00:00:00Z' }), older, CLOCK), true);
    assert.equal(matches(issue({ updated_at: '2026-03-20T00:00:00Z' }), older, CLOCK), false);
    const closed = { date: { ...older.date, attribute: 'closed_at' as const } };
    assert.equal(matches(issue({ closed_at: null }), closed, CLOCK), false, 'an open issue has no closed_at to compare');
    assert.equal(matches(issue({ upvotes: 5 }), { votes: { attribute: 'upvotes', condition: 'greater_than', threshold: 4 } }, CLOCK), true);
    assert.equal(
      matches(issue({ upvotes: 4 }), { votes: { attribute: 'upvotes', condition: 'greater_than', threshold: 4 } }, CLOCK),
      false,
    );
    assert.equal(
      matches(issue({ user_notes_count: 0 }), { discussions: { attribute: 'notes', condition: 'less_than', threshold: 1 } }, CLOCK),
      true,
    );
    assert.equal(matches(issue({ milestone: { title: 'v1' } }), { milestone: { kind: 'title', title: 'v1' } }, CLOCK), true);
    assert.equal(matches(issue({ milestone: null }), { milestone: { kind: 'any' } }, CLOCK), false);
    const mr = issue({ type: 'merge_requests', draft: false, title: 'Ready' });
    assert.equal(matches(mr, { draft: true }, CLOCK), false);
    assert.equal(matches({ ...mr, draft: true }, { draft: true }, CLOCK), true);
  });

  test('a date of days to years: GitLab compares with its midnight (UTC), filter_in_ruby and merged_at compare dates strictly, as the gem', () => {
    const date = (condition: 'older_than' | 'newer_than', extra: object = {}) => ({
      date: { attribute: 'updated_at' as const, condition, intervalType: 'days' as const, interval: 1, ...extra },
    });
    // 1.day.ago.to_date is 2026-03-30: GitLab is asked updated_after=2026-03-30, which keeps updated_at >= its midnight.
    assert.equal(listQuery(rule(date('newer_than')), 'issues', CLOCK).updated_after, '2026-03-30');
    assert.equal(matches(issue({ updated_at: '2026-03-30T05:00:00Z' }), date('newer_than'), CLOCK), true);
    assert.equal(matches(issue({ updated_at: '2026-03-30T05:00:00Z' }), date('newer_than', { filterInRuby: true }), CLOCK), false);
    assert.equal(matches(issue({ updated_at: '2026-03-31T00:30:00Z' }), date('newer_than', { filterInRuby: true }), CLOCK), true);
    assert.equal(matches(issue({ updated_at: '2026-03-29T23:59:59Z' }), date('older_than'), CLOCK), true);
    assert.equal(matches(issue({ updated_at: '2026-03-30T00:00:01Z' }), date('older_than'), CLOCK), false);
    const merged = { date: { ...date('older_than').date, attribute: 'merged_at' as const } };
    const mr = (mergedAt: string) => issue({ type: 'merge_requests', state: 'merged', merged_at: mergedAt });
    assert.equal(matches(mr('2026-03-30T00:00:00Z'), merged, CLOCK), false, 'on the date itself, not before it');
    assert.equal(matches(mr('2026-03-29T23:00:00Z'), merged, CLOCK), true);
    const hours = rule({ date: { attribute: 'created_at', condition: 'older_than', intervalType: 'hours', interval: 2 } });
    assert.equal(listQuery(hours, 'issues', CLOCK).created_before, '2026-03-31T10:00:00.000Z', 'minutes and hours: an exact time');
  });

  test('membership: the author, or the first assignee as in the gem; an unassigned resource meets neither form', () => {
    const team = new Set(['alice', 'bob']);
    assert.equal(memberMatches(issue({ author: { username: 'alice' } }), 'author', 'member_of', team), true);
    assert.equal(memberMatches(issue({ author: { username: 'erin' } }), 'author', 'not_member_of', team), true);
    const erinThenBob = issue({ assignees: [{ username: 'erin' }, { username: 'bob' }] });
    assert.equal(memberMatches(erinThenBob, 'assignee', 'member_of', team), false, 'bob, the second assignee, is not looked at');
    assert.equal(memberMatches(erinThenBob, 'assignee', 'not_member_of', team), true);
    assert.equal(memberMatches(issue({ assignees: [{ username: 'bob' }, { username: 'erin' }] }), 'assignee', 'member_of', team), true);
    assert.equal(
      memberMatches(issue({ assignee: { username: 'alice' }, assignees: [{ username: 'alice' }] }), 'assignee', 'member_of', team),
      true,
    );
    assert.equal(memberMatches(issue({ assignees: [] }), 'assignee', 'not_member_of', team), false);
  });

  test('limits keep the most recent or the oldest', () => {
    const three = ['2026-01-02', '2026-01-03', '2026-01-01'].map((day, i) => issue({ iid: i + 1, created_at: `${day}T00:00:00Z` }));
    assert.deepEqual(
      limited(three, { order: 'most_recent', count: 2 }).map((item) => item.iid),
      [2, 1],
    );
    assert.deepEqual(
      limited(three, { order: 'oldest', count: 1 }).map((item) => item.iid),
      [3],
    );
  });
});

describe('triage templates', () => {
  test('placeholders become GitLab references; Ruby fields and dates are filled in', () => {
    const resource = issue({
      title: 'Crash',
      labels: ['bug', 'team::a'],
      assignees: [{ username: 'bob' }, { username: 'carol' }],
      milestone: { title: 'Sprint 1' },
      related_merge_requests: [{ iid: 7 }],
    });
    const text = renderTemplate(
      [
        { kind: 'placeholder', name: 'author' },
        { kind: 'text', text: ' | ' },
        { kind: 'placeholder', name: 'assignees' },
        { kind: 'text', text: ' | ' },
        { kind: 'placeholder', name: 'labels' },
        { kind: 'text', text: ' | ' },
        { kind: 'placeholder', name: 'milestone' },
        { kind: 'text', text: ' | ' },
        { kind: 'field', path: ['type'], transform: 'capitalize' },
        { kind: 'text', text: ' !' },
        { kind: 'field', path: ['related_merge_requests', 0, 'iid'] },
        { kind: 'text', text: ' by ' },
        { kind: 'date', days: 2, format: '%Y-%m-%d (%a)' },
      ],
      { resource, type: 'issues', at: AT },
    );
    assert.equal(text, '@dana | @bob, @carol | ~"bug", ~"team::a" | %"Sprint 1" | Issues !7 by 2026-04-02 (Thu)');
  });

  test('strftime: the usual directives, in UTC', () => {
    assert.equal(
      strftime(new Date('2026-02-03T04:05:06Z'), '%Y/%m/%d %H:%M:%S %b %B %A %j %y %e %%'),
      '2026/02/03 04:05:06 Feb February Tuesday 034 26  3 %',
    );
  });
});

describe('triage over groups', () => {
  const POLICY = `resource_rules:
  issues:
    rules:
      - name: Unlabelled issues need triage
        conditions:
          state: opened
          labels:
            - None
        actions:
          labels:
            - needs-triage
          comment: |
            {{author}} thanks for {{full_reference}}! It waits for triage.
  merge_requests:
    rules:
      - name: Stale drafts
        conditions:
          state: opened
          draft: true
          date:
            attribute: updated_at
            condition: older_than
            interval_type: days
            interval: 30
        actions:
          labels:
            - stale
          status: close
`;
  const folder = workflowFolder({
    '.triage-policies.yml': POLICY,
    'triage.ts': `import policies from './.triage-policies.yml';
import { triage } from 'autoflow/blocks';
export default triage({ name: 'triage', policies, projects: ['other/site'], groups: ['acme'] });
`,
  });
  after(() => folder.remove());

  /** Group `acme` with a project of its own and one in its subgroup, and a project outside it, triaged by itself. */
  const seed = {
    users: ['triage-bot', 'dana'],
    groups: [
      {
        path: 'acme',
        members: { 'triage-bot': 'maintainer' as const, dana: 'developer' as const },
        labels: ['needs-triage', 'stale', 'bug'],
      },
      { path: 'acme/platform' },
      { path: 'other', members: { 'triage-bot': 'maintainer' as const, dana: 'developer' as const } },
    ],
    projects: [{ path: 'acme/app' }, { path: 'acme/platform/api' }, { path: 'other/site', labels: ['needs-triage'] }],
  };

  /** Month-old drafts in both of acme's projects; then, each project's first issue unlabelled, a labelled one, and a fresh draft. */
  async function world(): Promise<TestEnv> {
    const env = await createTestEnv({ workflows: [folder.path('triage.ts')], gitlab: seed });
    const { actions } = env.gitlab;
    for (const project of ['acme/app', 'acme/platform/api']) {
      actions.openMergeRequest('dana', project, { sourceBranch: 'idea', title: 'Draft: an idea', files: { 'idea.txt': 'idea' } });
    }
    await env.advance('40d');
    actions.createIssue('dana', 'acme/app', { title: 'App crash' });
    actions.createIssue('dana', 'acme/platform/api', { title: 'API timeout' });
    actions.createIssue('dana', 'acme/app', { title: 'Known bug', labels: ['bug'] });
    actions.createIssue('dana', 'other/site', { title: 'Site typo' });
    actions.openMergeRequest('dana', 'acme/app', { sourceBranch: 'fresh', title: 'Draft: fresh', files: { 'fresh.txt': 'fresh' } });
    return env;
  }

  async function triageRun(env: TestEnv, input: { dryRun: boolean }): Promise<TriageReport> {
    const run = await env.result(await env.start('triage', input));
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    return run.result as unknown as TriageReport;
  }

  /** What each rule matched, by source: `group acme issues: …`. */
  const matched = (report: TriageReport): string[] =>
    report.rules.map((rule) => `${rule.group ? `group ${rule.group}` : rule.project} ${rule.resource}: ${rule.matched.join(' ')}`);

  const comments = (env: TestEnv, project: string, iid: number): string[] =>
    env.gitlab
      .notes(project, { issue: iid })
      .filter((note) => !note.system)
      .map((note) => String(note.body).replace(/\s*<!-- autoflow[^]*$/, ''));

  test("a dry run reports what each rule matches across the group's projects, subgroups included, and changes nothing", async () => {
    const env = await world();
    try {
      const report = await triageRun(env, { dryRun: true });
      assert.deepEqual(matched(report), [
        'other/site issues: other/site#1',
        'other/site merge_requests: ',
        'group acme issues: acme/platform/api#1 acme/app#1',
        'group acme merge_requests: acme/platform/api!1 acme/app!1',
      ]);
      assert.deepEqual(report.rules[2]?.actions, ['label ~"needs-triage"', 'comment']);
      assert.equal(report.rules[2]?.project, undefined, "a group's report names the group only");
      assert.deepEqual(env.gitlab.issue('acme/app', 1).labels, []);
      assert.deepEqual(comments(env, 'acme/platform/api', 1), []);
      assert.equal(env.gitlab.mergeRequest('acme/platform/api', 1).state, 'opened');
    } finally {
      await env.close();
    }
  });

  test('a real run acts on each resource in its own project, and a second pass finds nothing', async () => {
    const env = await world();
    try {
      await triageRun(env, { dryRun: false });
      for (const [project, reference] of [
        ['acme/app', 'acme/app#1'],
        ['acme/platform/api', 'acme/platform/api#1'],
        ['other/site', 'other/site#1'],
      ] as const) {
        assert.deepEqual(env.gitlab.issue(project, 1).labels, ['needs-triage'], reference);
        assert.deepEqual(comments(env, project, 1), [`@dana thanks for ${reference}! It waits for triage.`]);
      }
      assert.deepEqual(env.gitlab.issue('acme/app', 2).labels, ['bug'], 'a labelled issue is left alone');
      for (const project of ['acme/app', 'acme/platform/api']) {
        const mr = env.gitlab.mergeRequest(project, 1);
        assert.deepEqual([mr.state, mr.labels], ['closed', ['stale']], project);
      }
      assert.equal(env.gitlab.mergeRequest('acme/app', 2).state, 'opened', 'the fresh draft stays open');

      const again = await triageRun(env, { dryRun: false });
      assert.deepEqual(matched(again), [
        'other/site issues: ',
        'other/site merge_requests: ',
        'group acme issues: ',
        'group acme merge_requests: ',
      ]);
      assert.equal(comments(env, 'acme/platform/api', 1).length, 1, 'nothing is commented twice');
    } finally {
      await env.close();
    }
  });

  const policies = (summarize?: { destination?: string }): TriagePolicies => ({
    file: '.triage-policies.yml',
    issues: {
      rules: [
        {
          name: 'Report bugs',
          conditions: {},
          actions: summarize ? { summarize: { title: [], item: [], summary: [], redactConfidential: true, ...summarize } } : {},
        },
      ],
      summaries: [],
    },
    mergeRequests: { rules: [], summaries: [] },
  });

  test("a group's permissions cover its projects, subgroups' included", () => {
    const definition = triage({ name: 't', policies: policies(), projects: ['other/site'], groups: ['acme', 'tools/cli'] });
    assert.deepEqual(definition.permissions, {
      gitlab: { projects: ['other/site', 'acme/*', 'tools/cli/*'], groups: ['acme', 'tools/cli'] },
    });
    assert.match(String(definition.description), /on other\/site, group acme, group tools\/cli$/);
  });

  test('refused: nothing to triage, a group by id, a summary a group has nowhere to open', () => {
    assert.throws(() => triage({ name: 't', policies: policies() }), {
      name: 'TypeError',
      message: /^triage\('t'\): give what to triage: projects \(\['acme\/app'\]\), groups \(\['acme'\]\), or both/,
    });
    assert.throws(() => triage({ name: 't', policies: policies(), projects: [], groups: [] }), /give what to triage/);
    assert.throws(() => triage({ name: 't', policies: policies(), groups: ['42'] }), /groups: '42' is not a group's full path/);
    assert.throws(() => triage({ name: 't', policies: policies(), groups: ['acme/'] }), /groups: 'acme\/' is not a group's full path/);
    assert.throws(
      () => triage({ name: 't', policies: policies({}), groups: ['acme'] }),
      /rule 'Report bugs' summarizes without a destination, and a group has no issues of its own: add summarize.destination/,
    );
    assert.doesNotThrow(() => triage({ name: 't', policies: policies({}), projects: ['acme/app'] }), 'a project opens it in itself');
    assert.doesNotThrow(() => triage({ name: 't', policies: policies({ destination: 'acme/triage' }), groups: ['acme'] }));
  });

  test("refused in TypeScript policies, as the file reader drops them: a summary policy's rule that acts, a merge request moved", () => {
    const rule = (actions: TriageActions): TriageRule => ({ name: 'Bugs', conditions: {}, actions });
    const summarize = { title: [], item: [], summary: [], redactConfidential: true };
    const acting: TriagePolicies = {
      file: 'policies.ts',
      issues: { rules: [], summaries: [{ name: 'Weekly', rules: [rule({ labels: ['stale'], summarize })], summarize }] },
      mergeRequests: { rules: [rule({ move: 'acme/other' })], summaries: [] },
    };
    assert.throws(() => triage({ name: 't', policies: acting, projects: ['acme/app'] }), {
      name: 'TypeError',
      message:
        "triage('t'): rule 'Bugs' moves merge requests, which GitLab cannot move to another project; rule 'Bugs' of summary 'Weekly' has labels: a summary policy's rule only gives the summary its items (summarize), as in gitlab-triage; write a rule of its own to act on these resources (docs/triage.md)",
    });
  });
});

describe('triage on threads and moves', () => {
  const folders: ReturnType<typeof workflowFolder>[] = [];
  after(() => folders.forEach((folder) => folder.remove()));

  /** `acme/app` and `acme/api` in group `acme`, triaged as `acme/app` by `triage-bot` (a Reporter) with `policy`. */
  async function world(policy: string): Promise<TestEnv> {
    // Any name: gitlab-triage repositories keep policies under many (the gem's default is .triage-policies.yml).
    const folder = workflowFolder({
      'stale-rules.yaml': policy,
      'triage.ts': `import policies from './stale-rules.yaml';
import { triage } from 'autoflow/blocks';
export default triage({ name: 'triage', policies, projects: ['acme/app'] });
`,
    });
    folders.push(folder);
    return createTestEnv({
      workflows: [folder.path('triage.ts')],
      gitlab: {
        users: ['triage-bot', 'dana', 'erik'],
        groups: [
          {
            path: 'acme',
            members: { 'triage-bot': 'reporter' as const, dana: 'developer' as const, erik: 'guest' as const },
            labels: ['api', 'docs', 'needs-info', 'security'],
          },
        ],
        projects: [{ path: 'acme/app' }, { path: 'acme/api' }],
        tokens: { erik: 'erik-token' },
      },
    });
  }

  async function triageRun(env: TestEnv, input: { dryRun: boolean }): Promise<TriageReport> {
    const run = await env.result(await env.start('triage', input));
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    return run.result as unknown as TriageReport;
  }

  const matched = (report: TriageReport): string[] => report.rules.map((rule) => `${rule.rule}: ${rule.matched.join(' ')}`);

  type Thread = { individual_note: boolean; notes: { body: string; internal: boolean; author: { username: string } }[] };

  /** `GET …/discussions` as a guest would read it, or as the bot, each note as `author: body` without AutoFlow's marker. */
  async function threads(env: TestEnv, path: string, as = env.gitlab.token): Promise<[boolean, string[]][]> {
    const response = await env.gitlab.sim.fetch(`/api/v4/projects/${path}/discussions`, { headers: { 'PRIVATE-TOKEN': as } });
    assert.equal(response.status, 200, path);
    return ((await response.json()) as Thread[]).map((thread) => [
      thread.individual_note,
      thread.notes.map(
        (note) => `${note.author.username}: ${note.body.replace(/\s*<!-- autoflow[^]*$/, '')}${note.internal ? ' (internal)' : ''}`,
      ),
    ]);
  }

  test('discussions: `threads` counts what GET …/discussions lists, `notes` the comments, threads’ replies included', async () => {
    const env = await world(`resource_rules:
  issues:
    rules:
      - name: More than one thread
        conditions:
          discussions:
            attribute: threads
            condition: greater_than
            threshold: 1
      - name: Fewer than two threads
        conditions:
          discussions:
            attribute: threads
            condition: less_than
            threshold: 2
      - name: More than two notes
        conditions:
          discussions:
            attribute: notes
            condition: greater_than
            threshold: 2
      - name: No notes
        conditions:
          discussions:
            attribute: notes
            condition: less_than
            threshold: 1
  merge_requests:
    rules:
      - name: Discussed merge requests
        conditions:
          discussions:
            attribute: threads
            condition: greater_than
            threshold: 1
`);
    try {
      const { actions } = env.gitlab;
      await actions.createIssue('dana', 'acme/app', { title: 'Silent' });
      await actions.createIssue('dana', 'acme/app', { title: 'One long thread' });
      const thread = await actions.startThread('dana', 'acme/app', { issue: 2 }, 'Why?');
      await actions.reply('erik', 'acme/app', { issue: 2 }, thread.discussionId, 'Because');
      await actions.reply('dana', 'acme/app', { issue: 2 }, thread.discussionId, 'I see');
      await actions.createIssue('dana', 'acme/app', { title: 'Three comments' });
      for (const body of ['One', 'Two', 'Three']) await actions.createNote('erik', 'acme/app', { issue: 3 }, body);
      await actions.openMergeRequest('dana', 'acme/app', { sourceBranch: 'fix', title: 'Fix', files: { 'fix.txt': 'fix' } });
      await actions.startThread('erik', 'acme/app', { mergeRequest: 1 }, 'Tests?');
      await actions.createNote('erik', 'acme/app', { mergeRequest: 1 }, 'Ping');
      await actions.openMergeRequest('dana', 'acme/app', { sourceBranch: 'quiet', title: 'Quiet', files: { 'quiet.txt': 'quiet' } });

      const report = await triageRun(env, { dryRun: true });
      assert.deepEqual(matched(report), [
        'More than one thread: acme/app#3',
        'Fewer than two threads: acme/app#2 acme/app#1',
        'More than two notes: acme/app#3 acme/app#2',
        'No notes: acme/app#1',
        'Discussed merge requests: acme/app!1',
      ]);
    } finally {
      await env.close();
    }
  });

  test('comment_type thread starts a discussion on each issue and merge request, internal with comment_internal', async () => {
    const env = await world(`resource_rules:
  issues:
    rules:
      - name: Ask for details
        conditions:
          labels:
            - needs-info
        actions:
          comment_type: thread
          comment: |
            {{author}} could you add the steps to reproduce?
      - name: Security
        conditions:
          labels:
            - security
        actions:
          comment_type: thread
          comment_internal: true
          comment: Security triage, please look.
  merge_requests:
    rules:
      - name: Changelog
        conditions:
          state: opened
        actions:
          comment_type: thread
          comment: Please add a changelog entry.
`);
    try {
      const { actions } = env.gitlab;
      await actions.createIssue('dana', 'acme/app', { title: 'Crash', labels: ['needs-info'] });
      await actions.createIssue('dana', 'acme/app', { title: 'Leak', labels: ['security'] });
      await actions.createIssue('dana', 'acme/app', { title: 'Fine' });
      await actions.createNote('erik', 'acme/app', { issue: 1 }, 'Me too');
      await actions.openMergeRequest('dana', 'acme/app', { sourceBranch: 'fix', title: 'Fix', files: { 'fix.txt': 'fix' } });

      const report = await triageRun(env, { dryRun: false });
      assert.deepEqual(matched(report), ['Ask for details: acme/app#1', 'Security: acme/app#2', 'Changelog: acme/app!1']);
      assert.deepEqual(await threads(env, 'acme%2Fapp/issues/1'), [
        [true, ['erik: Me too']],
        [false, ['triage-bot: @dana could you add the steps to reproduce?']],
      ]);
      assert.deepEqual(await threads(env, 'acme%2Fapp/issues/2'), [[false, ['triage-bot: Security triage, please look. (internal)']]]);
      assert.deepEqual(await threads(env, 'acme%2Fapp/issues/2', 'erik-token'), [], 'a guest does not see an internal thread');
      assert.deepEqual(await threads(env, 'acme%2Fapp/issues/3'), []);
      assert.deepEqual(await threads(env, 'acme%2Fapp/merge_requests/1'), [[false, ['triage-bot: Please add a changelog entry.']]]);
    } finally {
      await env.close();
    }
  });

  test('move: the issue moves to the target project, the original is closed, and a second pass finds nothing to move', async () => {
    const env = await world(`resource_rules:
  issues:
    rules:
      - name: API issues belong to acme/api
        conditions:
          state: opened
          labels:
            - api
        actions:
          move: acme/api
`);
    try {
      const { actions } = env.gitlab;
      await actions.createIssue('dana', 'acme/api', { title: 'Already there' });
      await actions.createIssue('dana', 'acme/app', { title: 'Timeouts', labels: ['api'] });
      await actions.createNote('erik', 'acme/app', { issue: 1 }, 'Since Monday');
      await actions.createIssue('dana', 'acme/app', { title: 'Typo', labels: ['docs'] });

      const report = await triageRun(env, { dryRun: false });
      assert.deepEqual(matched(report), ['API issues belong to acme/api: acme/app#1']);
      assert.deepEqual(report.rules[0]?.actions, ['move to acme/api']);
      const moved = env.gitlab.issue('acme/api', 2);
      assert.deepEqual(
        [moved.title, moved.labels, (moved.author as { username: string }).username, moved.state],
        ['Timeouts', ['api'], 'dana', 'opened'],
      );
      assert.deepEqual(await threads(env, 'acme%2Fapi/issues/2'), [[true, ['erik: Since Monday']]]);
      const original = env.gitlab.issue('acme/app', 1);
      assert.deepEqual([original.state, original.moved_to_id], ['closed', moved.id]);
      assert.equal(env.gitlab.issue('acme/app', 2).state, 'opened', 'what the rule does not match stays');

      const again = await triageRun(env, { dryRun: false });
      assert.deepEqual(matched(again), ['API issues belong to acme/api: ']);
      assert.equal(env.gitlab.issues('acme/api').length, 2, 'nothing moved twice');
    } finally {
      await env.close();
    }
  });
});
