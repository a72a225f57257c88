import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { checkWorkflowDirectory } from '../../src/app/deploy.js';
import type { TriageReport } from '../../src/blocks/triage.js';
import { createTestEnv, type TestEnv } from '../../src/testing/index.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/**
 * gitlab-triage policy files run as AutoFlow workflows (docs/triage.md), against the GitLab simulator on
 * virtual time: a real policy file from a public project, and one that uses the rest of the format.
 */
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/triage-policies/${name}`, import.meta.url), 'utf8');

const DAY = 86_400_000;
const folders: { remove(): void }[] = [];
after(() => folders.forEach((folder) => folder.remove()));

async function triageEnv(policy: string, options: string, seed: Parameters<typeof createTestEnv>[0]['gitlab']): Promise<TestEnv> {
  const folder = workflowFolder({
    '.triage-policies.yml': policy,
    'triage.ts': `import policies from './.triage-policies.yml';\nimport { triage } from 'autoflow/blocks';\nexport default triage({ name: 'triage', policies, ${options} });\n`,
  });
  folders.push(folder);
  return createTestEnv({ workflows: [folder.path('triage.ts')], gitlab: seed, now: new Date('2026-01-05T09:00:00Z') });
}

async function triageRun(env: TestEnv, input: { dryRun?: boolean } | null = null): Promise<TriageReport> {
  const run = await env.result(await env.start('triage', input));
  assert.equal(run.status, 'completed', JSON.stringify(run.error));
  return run.result as unknown as TriageReport;
}

const labelsOf = (env: TestEnv, iid: number): string[] => env.gitlab.issue('acme/app', iid).labels;

/** What AutoFlow wrote, without the hidden marker that makes its creates idempotent. */
const withoutMarker = (text: unknown): string => String(text).replace(/\s*<!-- autoflow[^]*$/, '');

const ruleReport = (report: TriageReport, rule: string, resource = 'issues') => {
  const found = report.rules.find((entry) => entry.rule === rule && entry.resource === resource);
  assert.ok(found, `no report for ${resource} rule '${rule}': ${JSON.stringify(report.rules.map((entry) => entry.rule))}`);
  return found;
};

describe("GNOME network-manager-applet's policy file, as published", () => {
  const seed = {
    users: ['triage-bot', 'dana'],
    groups: [{ path: 'gnome' }],
    projects: [
      {
        path: 'gnome/nma',
        members: { 'triage-bot': 'maintainer' as const, dana: 'developer' as const },
        labels: ['1. Enhancement', 'auto-closed'],
      },
    ],
  };

  async function quietAndFresh(env: TestEnv): Promise<{ oldMr: number }> {
    await env.gitlab.actions.createIssue('dana', 'gnome/nma', { title: 'Crash when the VPN drops' });
    await env.gitlab.actions.createIssue('dana', 'gnome/nma', { title: 'Show the signal strength', labels: ['1. Enhancement'] });
    const mr = await env.gitlab.actions.openMergeRequest('dana', 'gnome/nma', {
      sourceBranch: 'old',
      title: 'Half a fix',
      files: { 'fix.c': '' },
    });
    await env.advance('200d');
    await env.gitlab.actions.createIssue('dana', 'gnome/nma', { title: 'Wi-Fi list flickers' });
    await env.gitlab.actions.createIssue('dana', 'gnome/nma', { title: 'Reopened after a close', labels: ['auto-closed'] });
    return { oldMr: mr.iid };
  }

  test('a dry run reports what each rule would do and changes nothing', async () => {
    const env = await triageEnv(fixture('GNOME__network-manager-applet__.triage-policies.yml'), "projects: ['gnome/nma']", seed);
    try {
      await quietAndFresh(env);
      const report = await triageRun(env, { dryRun: true });
      assert.equal(report.dryRun, true);
      assert.equal(report.policyFile, '.triage-policies.yml');
      const stale = ruleReport(report, 'Close issues with no activity for 6 months');
      assert.deepEqual(stale.matched, ['gnome/nma#2', 'gnome/nma#1'], 'most recent first, as GitLab lists them');
      assert.deepEqual(stale.actions, ['label ~"auto-closed"', 'close', 'comment']);
      assert.deepEqual(ruleReport(report, 'Close RFE with no activity for 12 months').matched, [], '200 days is not 12 months');
      assert.deepEqual(ruleReport(report, 'Clear auto-closed label for open issues').matched, ['gnome/nma#4']);
      assert.deepEqual(ruleReport(report, 'Close MRs with no activity after 2 month', 'merge_requests').matched, ['gnome/nma!1']);
      assert.equal(env.gitlab.issue('gnome/nma', 1).state, 'opened', 'nothing was changed');
      assert.deepEqual(env.gitlab.notes('gnome/nma', { issue: 1 }), []);
      assert.deepEqual(env.gitlab.issue('gnome/nma', 4).labels, ['auto-closed']);
    } finally {
      await env.close();
    }
  });

  test('a real run closes what went quiet with its comment and label, and leaves the rest', async () => {
    const env = await triageEnv(fixture('GNOME__network-manager-applet__.triage-policies.yml'), "projects: ['gnome/nma']", seed);
    try {
      const { oldMr } = await quietAndFresh(env);
      const report = await triageRun(env);
      assert.equal(report.dryRun, false);
      for (const iid of [1, 2]) {
        const issue = env.gitlab.issue('gnome/nma', iid);
        assert.equal(issue.state, 'closed');
        assert.deepEqual(issue.labels, iid === 1 ? ['auto-closed'] : ['1. Enhancement', 'auto-closed']);
        const notes = env.gitlab.notes('gnome/nma', { issue: iid }).filter((note) => !note.system);
        assert.equal(notes.length, 1);
        assert.match(String(notes[0]!.body), /^This issue has been inactive for 6 months, closing automatically/);
      }
      assert.equal(env.gitlab.issue('gnome/nma', 3).state, 'opened', 'the fresh issue stays open');
      assert.deepEqual(env.gitlab.notes('gnome/nma', { issue: 3 }), []);
      assert.deepEqual(env.gitlab.issue('gnome/nma', 4).labels, [], 'a reopened issue loses auto-closed');
      const mr = env.gitlab.mergeRequest('gnome/nma', oldMr);
      assert.deepEqual([mr.state, mr.labels], ['closed', ['auto-closed']]);

      const again = await triageRun(env);
      assert.deepEqual(
        ruleReport(again, 'Close issues with no activity for 6 months').matched,
        [],
        'a second pass finds nothing left to close',
      );
      assert.equal(env.gitlab.notes('gnome/nma', { issue: 1 }).filter((note) => !note.system).length, 1);
    } finally {
      await env.close();
    }
  });
});

describe('the rest of the format: labels, members, limits, templates, summaries', () => {
  const POLICY = `resource_rules:
  issues:
    rules:
      - name: Untriaged team issues from outside
        conditions:
          state: opened
          labels:
            - team::{a, b}
          forbidden_labels:
            - workflow::in dev
          author_member:
            source: group
            condition: not_member_of
            source_id: acme
        limits:
          most_recent: 1
        actions:
          labels:
            - needs-triage
          mention:
            - alice
          comment: |
            Thanks {{author}}! Triage by #{2.days.from_now.strftime('%Y-%m-%d')}: {{title}}
    summaries:
      - name: Weekly triage digest
        rules:
          - name: Bugs without a milestone
            conditions:
              state: opened
              labels:
                - bug
              milestone: No Milestone
            actions:
              summarize:
                item: "- [ ] {{title}} {{labels}}"
                summary: |
                  Bugs with no milestone:

                  {{items}}
        actions:
          summarize:
            title: "#{resource[:type].capitalize} to triage"
            summary: |
              {{items}}

              /label ~"triage report"
`;

  const seed = {
    users: ['triage-bot', 'alice', 'erin', 'frank'],
    groups: [{ path: 'acme', members: { 'triage-bot': 'maintainer' as const, alice: 'developer' as const } }],
    projects: [
      {
        path: 'acme/app',
        members: { erin: 'reporter' as const, frank: 'reporter' as const },
        labels: ['team::a', 'team::b', 'workflow::in dev', 'needs-triage', 'bug', 'triage report'],
        milestones: ['v1'],
      },
    ],
  };

  test('brace-expanded labels, forbidden labels, membership and limits select; templates fill in', async () => {
    const env = await triageEnv(POLICY, "projects: ['acme/app']", seed);
    try {
      const create = (author: string, title: string, labels: string[]) =>
        env.gitlab.actions.createIssue(author, 'acme/app', { title, labels });
      await create('erin', 'Team A, oldest', ['team::a']);
      await env.advance('1d');
      await create('frank', 'Team B', ['team::b']);
      await env.advance('1d');
      await create('erin', 'Team A, newest', ['team::a']);
      await create('erin', 'Team A, in dev', ['team::a', 'workflow::in dev']);
      await create('alice', 'Team A, from a member', ['team::a']);
      await create('erin', 'No team', []);
      await create('erin', 'Crash', ['bug']);
      await create('erin', 'Scheduled crash', ['bug']);
      await env.gitlab.actions.setMilestone('triage-bot', 'acme/app', 8, 'v1');

      const report = await triageRun(env);
      // As the gem's: each expansion of team::{a, b} is a pass of its own, with its own limit.
      assert.deepEqual(
        report.rules
          .filter((entry) => entry.rule === 'Untriaged team issues from outside')
          .map((entry) => [entry.expansion, entry.matched]),
        [
          [['team::a'], ['acme/app#3']],
          [['team::b'], ['acme/app#2']],
        ],
        'the most recent of each',
      );
      assert.deepEqual(env.gitlab.issue('acme/app', 1).labels, ['team::a'], 'beyond the limit');
      assert.deepEqual(env.gitlab.issue('acme/app', 2).labels, ['needs-triage', 'team::b']);
      assert.deepEqual(env.gitlab.issue('acme/app', 3).labels, ['needs-triage', 'team::a']);
      const [note] = env.gitlab.notes('acme/app', { issue: 3 }).filter((entry) => !entry.system);
      assert.equal(
        withoutMarker(note?.body),
        `Thanks @erin! Triage by ${new Date(env.now() + 2 * DAY).toISOString().slice(0, 10)}: Team A, newest\n\n/cc @alice`,
      );
      for (const iid of [4, 5, 6]) assert.ok(!labelsOf(env, iid).includes('needs-triage'), `#${iid} is left alone`);

      const digest = ruleReport(report, 'Weekly triage digest');
      assert.match(String(digest.summary), /\/acme\/app\/-\/issues\/9$/);
      const summary = env.gitlab.issue('acme/app', 9);
      assert.equal(summary.title, 'Issues to triage');
      // GitLab runs the summary's quick action: the label is set and the line leaves the description.
      assert.equal(withoutMarker(summary.description), 'Bugs with no milestone:\n\n- [ ] Crash ~"bug"');
      assert.deepEqual(summary.labels, ['triage report']);
      assert.deepEqual(ruleReport(report, 'Bugs without a milestone').matched, ['acme/app#7']);
    } finally {
      await env.close();
    }
  });

  test('on a schedule the policies run by themselves, with the permissions they need and nothing more', async () => {
    const env = await triageEnv(POLICY, "projects: ['acme/app'], schedule: '0 6 * * *', timezone: 'Europe/Berlin'", seed);
    try {
      const [definition] = await env.operations.listWorkflows();
      assert.deepEqual(definition?.permissions, { gitlab: { projects: ['acme/app'], groups: ['acme'] } });
      await env.gitlab.actions.createIssue('erin', 'acme/app', { title: 'Team B', labels: ['team::b'] });
      await env.advance('1d');
      const runs = (await env.operations.listRuns({ workflow: 'triage', limit: 10 })).runs;
      assert.equal(runs.length, 1, 'one morning, one run');
      assert.equal(new Date(runs[0]!.createdAt).toISOString(), '2026-01-06T05:00:00.000Z', '06:00 in Berlin');
      assert.deepEqual(env.gitlab.issue('acme/app', 1).labels, ['needs-triage', 'team::b']);
    } finally {
      await env.close();
    }
  });
});

describe('policy files at check time', () => {
  test('what the gem ignores is a warning that names the file, the rule and the key; Ruby is refused', async () => {
    const folder = workflowFolder({
      '.triage-policies.yml': fixture('1g4-mirror__xkeyboard-config__.triage-policies.yml'),
      'triage.ts': `import policies from './.triage-policies.yml';\nimport { triage } from 'autoflow/blocks';\nexport default triage({ name: 'triage', policies, projects: ['xkb/config'] });\n`,
      'nm.triage-policies.yml': fixture('NetworkManager__NetworkManager__.triage-policies.yml'),
      'uses-ruby.ts': `import policies from './nm.triage-policies.yml';\nimport { triage } from 'autoflow/blocks';\nexport default triage({ name: 'nm', policies, projects: ['nm/nm'] });\n`,
    });
    folders.push(folder);
    const results = await checkWorkflowDirectory(folder.dir);
    const accepted = results.find((result) => result.file.endsWith('triage.ts'));
    assert.equal(accepted?.error, undefined);
    assert.ok(
      accepted?.warnings?.some((warning) => /\.triage-policies\.yml.*add_labels/.test(warning)),
      JSON.stringify(accepted?.warnings),
    );
    const refused = results.find((result) => result.file.endsWith('uses-ruby.ts'));
    assert.match(String(refused?.error), /nm\.triage-policies\.yml:\d+: .*conditions\.ruby/);
  });
});
