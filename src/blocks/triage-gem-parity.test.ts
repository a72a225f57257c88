import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createTestEnv, type TestEnv } from '../testing/test-env.js';
import type { TriageReport } from './triage.js';

/**
 * Where a pass must do what gitlab-triage does, seen as its users see it: in GitLab and in the run's report. The order
 * of resource types, summaries and rules; a brace-expanded rule run per expansion; dates compared as dates; and a
 * comment of quick actions only, which GitLab applies without saving a note.
 */

const folders: ReturnType<typeof workflowFolder>[] = [];
after(() => folders.forEach((folder) => folder.remove()));

type Seed = NonNullable<Parameters<typeof createTestEnv>[0]['gitlab']>;

const seed = (labels: string[] = [], milestones: string[] = []): Seed => ({
  users: ['triage-bot', 'dana'],
  groups: [{ path: 'acme', members: { 'triage-bot': 'maintainer', dana: 'developer' } }],
  projects: [{ path: 'acme/app', labels, milestones }],
});

/** `policy` as `.triage-policies.yml`, run by `triage({ name: 'triage', policies, <options> })` at `now`. */
async function world(policy: string, gitlab: Seed, options = "projects: ['acme/app']", now = '2026-03-31T09:00:00Z'): Promise<TestEnv> {
  const folder = workflowFolder({
    '.triage-policies.yml': policy,
    'triage.ts': `import policies from './.triage-policies.yml';\nimport { triage } from 'autoflow/blocks';\nexport default triage({ name: 'triage', policies, ${options} });\n`,
  });
  folders.push(folder);
  return createTestEnv({ workflows: [folder.path('triage.ts')], gitlab, schedules: false, now: new Date(now) });
}

async function completed(env: TestEnv, dryRun: boolean): Promise<TriageReport> {
  const run = await env.result(await env.start('triage', { dryRun }));
  assert.equal(run.status, 'completed', JSON.stringify(run.error));
  return run.result as unknown as TriageReport;
}

const withoutMarker = (text: unknown): string => String(text).replace(/\s*<!-- autoflow[^]*$/, '');

/** Each issue of acme/app: its title, labels and description (the marker taken off). */
const issues = (env: TestEnv): { title: string; labels: string[]; description: string }[] =>
  env.gitlab
    .issues('acme/app')
    .map((issue) => ({ title: issue.title, labels: issue.labels, description: withoutMarker(issue.description ?? '') }));

describe('order: resource types as the file gives them, each one’s summaries before its rules, as the gem’s Engine#perform', () => {
  const UNLABELLED = `  issues:
    rules:
      - name: Label unlabelled
        conditions:
          state: opened
          labels: [None]
        actions:
          labels: [needs-triage]
    summaries:
      - name: Unlabelled report
        rules:
          - name: Unlabelled
            conditions:
              state: opened
              labels: [None]
            actions:
              summarize:
                item: "- {{title}}"
                summary: "{{items}}"
        actions:
          summarize:
            title: Unlabelled issues
            summary: "{{items}}"
`;

  test('a summary of unlabelled issues lists them before the rule labels them, and is the summary the dry run previewed', async () => {
    const env = await world(`resource_rules:\n${UNLABELLED}`, seed(['needs-triage']));
    try {
      env.gitlab.actions.createIssue('dana', 'acme/app', { title: 'Crash' });
      const preview = await completed(env, true);
      const previewed = preview.rules.find((rule) => rule.rule === 'Unlabelled report')?.summaryIssue;
      assert.deepEqual(previewed, { project: 'acme/app', title: 'Unlabelled issues', description: '- Crash' });

      const report = await completed(env, false);
      assert.deepEqual(
        report.rules.map((rule) => [rule.rule, rule.matched]),
        [
          ['Unlabelled', ['acme/app#1']],
          ['Unlabelled report', []],
          ['Label unlabelled', ['acme/app#2', 'acme/app#1']],
        ],
      );
      assert.deepEqual(issues(env), [
        { title: 'Crash', labels: ['needs-triage'], description: '' },
        { title: 'Unlabelled issues', labels: ['needs-triage'], description: previewed?.description },
      ]);
    } finally {
      await env.close();
    }
  });

  test('merge requests first when the file has them first: the issue rules then see the summary issue they opened', async () => {
    const mergeRequests = `  merge_requests:
    rules:
      - name: Open merge requests
        conditions:
          state: opened
        actions:
          summarize:
            title: Merge requests to review
            item: "- {{title}}"
            summary: "{{items}}"
`;
    const env = await world(`resource_rules:\n${mergeRequests}${UNLABELLED}`, seed(['needs-triage']));
    try {
      env.gitlab.actions.openMergeRequest('dana', 'acme/app', { sourceBranch: 'fix', title: 'Fix crash', files: { 'a.txt': 'a' } });
      const report = await completed(env, false);
      assert.deepEqual(
        report.rules.map((rule) => `${rule.resource} ${rule.rule}`),
        ['merge_requests Open merge requests', 'issues Unlabelled', 'issues Unlabelled report', 'issues Label unlabelled'],
      );
      assert.deepEqual(issues(env), [
        { title: 'Merge requests to review', labels: ['needs-triage'], description: '- Fix crash' },
        { title: 'Unlabelled issues', labels: ['needs-triage'], description: '- Merge requests to review' },
      ]);
    } finally {
      await env.close();
    }
  });
});

describe('order, for policies written in TypeScript: the order their keys give the resource types', () => {
  test('mergeRequests before issues runs merge requests first', async () => {
    const text = (value: string) => `[{ kind: 'text', text: ${JSON.stringify(value)} }]`;
    const folder = workflowFolder({
      'triage.ts': `import { triage } from 'autoflow/blocks';
const summarize = { title: ${text('Merge requests to review')}, item: ${text('- ')}, summary: [{ kind: 'placeholder', name: 'items' }], redactConfidential: true };
const policies = {
  file: 'inline',
  mergeRequests: { rules: [{ name: 'Open', conditions: { state: 'opened' }, actions: { summarize } }], summaries: [] },
  issues: { rules: [{ name: 'Unlabelled', conditions: { labels: { kind: 'none' } }, actions: { labels: ['needs-triage'] } }], summaries: [] },
};
export default triage({ name: 'triage', policies, projects: ['acme/app'] });
`,
    });
    folders.push(folder);
    const env = await createTestEnv({ workflows: [folder.path('triage.ts')], gitlab: seed(['needs-triage']), schedules: false });
    try {
      env.gitlab.actions.openMergeRequest('dana', 'acme/app', { sourceBranch: 'fix', title: 'Fix crash', files: { 'a.txt': 'a' } });
      const report = await completed(env, false);
      assert.deepEqual(
        report.rules.map((rule) => [rule.resource, rule.rule, rule.matched]),
        [
          ['merge_requests', 'Open', ['acme/app!1']],
          ['issues', 'Unlabelled', ['acme/app#1']],
        ],
      );
      assert.deepEqual(env.gitlab.issue('acme/app', 1).labels, ['needs-triage']);
    } finally {
      await env.close();
    }
  });
});

describe('brace expansion: each expansion is a pass of the rule of its own, as the gem’s resources_for_rule yields them', () => {
  test('its own limit, actions and summary issue; the report has one entry per expansion', async () => {
    const env = await world(
      `resource_rules:
  issues:
    rules:
      - name: Per priority
        conditions:
          state: opened
          labels: ['priority-{1..2}']
        limits:
          oldest: 1
        actions:
          labels: [stale]
          summarize:
            title: Stale priority issues
            item: "- {{title}}"
            summary: "{{items}}"
`,
      seed(['priority-1', 'priority-2', 'stale']),
    );
    try {
      env.gitlab.actions.createIssue('dana', 'acme/app', { title: 'p1 old', labels: ['priority-1'] });
      await env.advance('1h');
      env.gitlab.actions.createIssue('dana', 'acme/app', { title: 'p2', labels: ['priority-2'] });
      await env.advance('1h');
      env.gitlab.actions.createIssue('dana', 'acme/app', { title: 'p1 new', labels: ['priority-1'] });
      const report = await completed(env, false);
      assert.deepEqual(
        report.rules.map((rule) => [rule.rule, rule.expansion, rule.matched]),
        [
          ['Per priority', ['priority-1'], ['acme/app#1']],
          ['Per priority', ['priority-2'], ['acme/app#2']],
        ],
      );
      assert.deepEqual(issues(env), [
        { title: 'p1 old', labels: ['priority-1', 'stale'], description: '' },
        { title: 'p2', labels: ['priority-2', 'stale'], description: '' },
        { title: 'p1 new', labels: ['priority-1'], description: '' },
        { title: 'Stale priority issues', labels: [], description: '- p1 old' },
        { title: 'Stale priority issues', labels: [], description: '- p2' },
      ]);
    } finally {
      await env.close();
    }
  });

  test('a resource that two expansions select is commented on by each, as in the gem', async () => {
    const env = await world(
      `resource_rules:
  issues:
    rules:
      - name: Ping areas
        conditions:
          labels: ['area-{1..2}']
        actions:
          comment: "Ping"
`,
      seed(['area-1', 'area-2']),
    );
    try {
      env.gitlab.actions.createIssue('dana', 'acme/app', { title: 'One area', labels: ['area-1'] });
      env.gitlab.actions.createIssue('dana', 'acme/app', { title: 'Both areas', labels: ['area-1', 'area-2'] });
      await completed(env, false);
      const comments = (iid: number): string[] =>
        env.gitlab
          .notes('acme/app', { issue: iid })
          .filter((note) => !note.system)
          .map((note) => withoutMarker(note.body));
      assert.deepEqual([comments(1), comments(2)], [['Ping'], ['Ping', 'Ping']]);
    } finally {
      await env.close();
    }
  });
});

describe('dates: days to years compare whole dates, as the gem’s `30.days.ago.to_date`', () => {
  const STALE = (extra = ''): string => `resource_rules:
  issues:
    rules:
      - name: Stale after 30 days
        conditions:
          state: opened
          date:
            attribute: updated_at
            condition: older_than
            interval_type: days
            interval: 30
${extra}        actions:
          labels: [stale]
`;

  test('an issue last updated on March 1st is not 30 days old on March 31st, whatever the hour; on April 1st it is', async () => {
    const env = await world(STALE(), seed(['stale']), undefined, '2026-03-01T05:00:00Z');
    try {
      env.gitlab.actions.createIssue('dana', 'acme/app', { title: 'Quiet' });
      await env.advance('30d');
      await env.advance('4h'); // 2026-03-31T09:00Z: 30 days and 4 hours later, 30 calendar days
      assert.deepEqual((await completed(env, false)).rules[0]?.matched, []);
      assert.deepEqual(env.gitlab.issue('acme/app', 1).labels, []);
      await env.advance('15h'); // 2026-04-01T00:00Z
      assert.deepEqual((await completed(env, false)).rules[0]?.matched, ['acme/app#1']);
      assert.deepEqual(env.gitlab.issue('acme/app', 1).labels, ['stale']);
    } finally {
      await env.close();
    }
  });

  test('the date is taken in the schedule’s time zone: in Auckland it is already April 1st at 11:00 UTC', async () => {
    const options = "projects: ['acme/app'], schedule: '0 6 * * *', timezone: 'Pacific/Auckland'";
    const env = await world(STALE(), seed(['stale']), options, '2026-03-01T05:00:00Z');
    try {
      env.gitlab.actions.createIssue('dana', 'acme/app', { title: 'Quiet' });
      await env.advance('30d');
      await env.advance('6h'); // 2026-03-31T11:00Z, 2026-04-01 00:00 in Auckland (UTC+13)
      assert.deepEqual((await completed(env, true)).rules[0]?.matched, ['acme/app#1']);
    } finally {
      await env.close();
    }
  });

  test('hours compare exact times', async () => {
    const policy = STALE().replace('interval_type: days', 'interval_type: hours').replace('interval: 30', 'interval: 2');
    const env = await world(policy, seed(['stale']));
    try {
      env.gitlab.actions.createIssue('dana', 'acme/app', { title: 'Quiet' });
      await env.advance('1h');
      assert.deepEqual((await completed(env, true)).rules[0]?.matched, []);
      await env.advance('61m');
      assert.deepEqual((await completed(env, true)).rules[0]?.matched, ['acme/app#1']);
    } finally {
      await env.close();
    }
  });
});

describe('a comment of quick actions only', () => {
  test('GitLab applies them and saves no note: no empty-looking comment, nobody notified', async () => {
    const env = await world(
      `resource_rules:
  issues:
    rules:
      - name: Park features
        conditions:
          labels: [feature]
        actions:
          comment: |
            /label ~stale

            /milestone %v1
`,
      seed(['feature', 'stale'], ['v1']),
    );
    try {
      env.gitlab.actions.createIssue('dana', 'acme/app', { title: 'Dark mode', labels: ['feature'] });
      await completed(env, false);
      const issue = env.gitlab.issue('acme/app', 1);
      assert.deepEqual([issue.labels, (issue.milestone as { title?: string } | null)?.title], [['feature', 'stale'], 'v1']);
      assert.deepEqual(
        env.gitlab.notes('acme/app', { issue: 1 }).filter((note) => !note.system),
        [],
      );
    } finally {
      await env.close();
    }
  });
});
