import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import type { TriagePolicies } from '../sdk/triage-policy.js';
import { createTestEnv, type TestEnv } from '../testing/test-env.js';
import { triage, type TriageReport } from './triage.js';

/** A triage pass against the simulator: what it previews, what it refuses to do, what GitLab selects for it. */

const folders: ReturnType<typeof workflowFolder>[] = [];
after(() => folders.forEach((folder) => folder.remove()));

type Seed = NonNullable<Parameters<typeof createTestEnv>[0]['gitlab']>;

/** `policy` as `.triage-policies.yml`, run by one workflow per entry of `workflows` (its name → its triage() options). */
async function world(
  policy: string,
  seed: Seed,
  workflows: Record<string, string> = { triage: "projects: ['acme/app']" },
): Promise<TestEnv> {
  const files: Record<string, string> = { '.triage-policies.yml': policy };
  for (const [name, options] of Object.entries(workflows)) {
    files[`${name}.ts`] =
      `import policies from './.triage-policies.yml';\nimport { triage } from 'autoflow/blocks';\n` +
      `export default triage({ name: '${name}', policies, ${options} });\n`;
  }
  const folder = workflowFolder(files);
  folders.push(folder);
  return createTestEnv({
    workflows: Object.keys(workflows).map((name) => folder.path(`${name}.ts`)),
    gitlab: seed,
    schedules: false,
    now: new Date('2026-03-31T09:00:00Z'),
  });
}

async function completed(env: TestEnv, input: { dryRun: boolean }, workflow = 'triage'): Promise<TriageReport> {
  const run = await env.result(await env.start(workflow, input));
  assert.equal(run.status, 'completed', JSON.stringify(run.error));
  return run.result as unknown as TriageReport;
}

async function failure(env: TestEnv, input: { dryRun: boolean }, workflow = 'triage'): Promise<string> {
  const run = await env.result(await env.start(workflow, input));
  assert.equal(run.status, 'failed');
  return String(run.error?.message);
}

const notes = (env: TestEnv, iid: number): string[] =>
  env.gitlab
    .notes('acme/app', { issue: iid })
    .filter((note) => !note.system)
    .map((note) => String(note.body).replace(/\s*<!-- autoflow[^]*$/, ''));

const team = { 'triage-bot': 'maintainer' as const, dana: 'developer' as const, alice: 'developer' as const };

describe('a dry run shows what would be posted; confidential resources are redacted as the gem does', () => {
  const POLICY = `resource_rules:
  issues:
    rules:
      - name: Unlabelled
        conditions:
          state: opened
          labels: [None]
        actions:
          labels: [needs-triage]
          mention: [alice]
          comment: |
            {{author}} please label {{title}} ({{full_reference}})
          summarize:
            title: Unlabelled {{type}}
            item: "- [ ] {{full_reference}} [{{title}}]({{web_url}}) by {{author}}"
            summary: |
              {{items}}
      - name: Security, said plainly
        conditions:
          labels: [security]
        actions:
          redact_confidential_resources: false
          comment: "{{title}} stays between us"
`;
  const seed: Seed = {
    users: ['triage-bot', 'dana', 'alice'],
    groups: [{ path: 'acme', members: team }],
    projects: [
      {
        path: 'acme/app',
        labels: ['needs-triage', 'security'],
        issues: [
          { title: 'Crash', author: 'dana' },
          { title: 'Token leak', author: 'dana', confidential: true },
          { title: 'Key in logs', author: 'dana', confidential: true, labels: ['security'] },
        ],
      },
    ],
  };

  test('each note and the summary issue, rendered; a real run then posts exactly those', async () => {
    const env = await world(POLICY, seed);
    try {
      const url = (iid: number): string => String(env.gitlab.issue('acme/app', iid).web_url);
      const preview = await completed(env, { dryRun: true });
      const [unlabelled, security] = preview.rules;
      assert.deepEqual(unlabelled?.comments, [
        { resource: 'acme/app#2', body: '@(confidential) please label (confidential) (acme/app#2)\n\n/cc @alice' },
        { resource: 'acme/app#1', body: '@dana please label Crash (acme/app#1)\n\n/cc @alice' },
      ]);
      assert.deepEqual(unlabelled?.summaryIssue, {
        project: 'acme/app',
        title: 'Unlabelled issues',
        description: `- [ ] acme/app#2 [(confidential)](${url(2)}) by @(confidential)\n- [ ] acme/app#1 [Crash](${url(1)}) by @dana\n`,
      });
      assert.equal(unlabelled?.summary, 'Unlabelled issues');
      assert.deepEqual(security?.comments, [{ resource: 'acme/app#3', body: 'Key in logs stays between us' }]);
      assert.deepEqual(notes(env, 2), [], 'a dry run posts nothing');

      const report = await completed(env, { dryRun: false });
      assert.equal(report.rules[0]?.comments, undefined, 'a real run reports what it did, not previews');
      for (const { resource, body } of [...(unlabelled?.comments ?? []), ...(security?.comments ?? [])]) {
        assert.deepEqual(notes(env, Number(resource.split('#')[1])), [body], resource);
      }
      const summary = env.gitlab.issue('acme/app', 4);
      assert.equal(String(summary.description).replace(/\s*<!-- autoflow[^]*$/, ''), unlabelled?.summaryIssue?.description.trimEnd());
    } finally {
      await env.close();
    }
  });
});

describe('labels an action adds must exist, as gitlab-triage 1.11 requires', () => {
  const POLICY = `resource_rules:
  issues:
    rules:
      - name: Label bugs
        conditions:
          labels: [bug]
        actions:
          labels:
            - triaged
            - app-only
          comment: Seen.
      - name: Label docs
        conditions:
          labels: [docs]
        actions:
          labels: [triaged]
      - name: Label nothing yet
        conditions:
          labels: [docs, bug]
        actions:
          labels: [no-such-label]
`;
  const seed: Seed = {
    users: ['triage-bot', 'dana', 'alice'],
    groups: [{ path: 'acme', members: team, labels: ['triaged'] }],
    projects: [
      { path: 'acme/app', labels: ['bug', 'docs', 'app-only'], issues: [{ title: 'Crash', labels: ['bug'] }] },
      {
        path: 'acme/api',
        labels: ['bug', 'docs'],
        issues: [
          { title: 'Timeout', labels: ['bug'] },
          { title: 'Typo', labels: ['docs'] },
        ],
      },
    ],
  };

  test('a rule whose label is missing in a project it acts in does nothing; the others act; the run fails naming label, project and line', async () => {
    const env = await world(POLICY, seed, { triage: "groups: ['acme']" });
    try {
      const expected =
        '.triage-policies.yml:8: group acme issues rule \'Label bugs\': actions.labels: ~"app-only" does not exist in acme/api or its groups; ' +
        'create the label there or in a parent group, or correct its name (gitlab-triage stops on a missing label too; GitLab would create it silently)';
      assert.equal(await failure(env, { dryRun: false }), `1 rule(s) could not run; the others did:\n${expected}`);
      assert.deepEqual(env.gitlab.issue('acme/app', 1).labels, ['bug'], 'the failed rule labels nothing, not even where its labels exist');
      assert.deepEqual(notes(env, 1), [], 'and comments nothing');
      assert.deepEqual(env.gitlab.issue('acme/api', 2).labels, ['docs', 'triaged'], 'a group label counts, and the other rule acted');
      assert.deepEqual(env.gitlab.issue('acme/api', 1).labels, ['bug'], 'GitLab was not asked to create app-only in acme/api');
    } finally {
      await env.close();
    }
  });
});

describe('a dry run with a missing label still previews every other rule', () => {
  const POLICY = `resource_rules:
  issues:
    rules:
      - name: Needs triage
        conditions:
          labels: [None]
        actions:
          labels: [needs-triage]
          comment: Please add a label.
      - name: Bugs
        conditions:
          labels: [bug]
        actions:
          comment: Thanks for the report.
          summarize:
            title: Bugs to look at
            item: '- {{full_reference}}'
            summary: '{{items}}'
`;
  const seed: Seed = {
    users: ['triage-bot', 'dana'],
    groups: [{ path: 'acme', members: { 'triage-bot': 'maintainer', dana: 'developer' } }],
    projects: [{ path: 'acme/app', labels: ['bug'], issues: [{ title: 'Crash', labels: ['bug'] }, { title: 'Unsorted' }] }],
  };

  test('the run completes with the full report: the broken rule reports its error, the others their comments and summary issue', async () => {
    const env = await world(POLICY, seed);
    try {
      const report = await completed(env, { dryRun: true });
      const [broken, bugs] = report.rules;
      assert.deepEqual(broken?.matched, ['acme/app#2']);
      assert.equal(
        broken?.error,
        '.triage-policies.yml:8: acme/app issues rule \'Needs triage\': actions.labels: ~"needs-triage" does not exist in acme/app or its groups; ' +
          'create the label there or in a parent group, or correct its name (gitlab-triage stops on a missing label too; GitLab would create it silently)',
      );
      assert.equal(broken?.comments, undefined, 'it would act on nothing, so it previews nothing');
      assert.deepEqual(bugs?.comments, [{ resource: 'acme/app#1', body: 'Thanks for the report.' }]);
      assert.deepEqual(bugs?.summaryIssue, { project: 'acme/app', title: 'Bugs to look at', description: '- acme/app#1' });
      assert.equal(bugs?.error, undefined);
      assert.deepEqual(notes(env, 1), [], 'a dry run changes nothing');
      assert.equal(env.gitlab.state.issues.size, 2);
    } finally {
      await env.close();
    }
  });
});

describe('milestone upcoming and started, as GitLab selects them', () => {
  const POLICY = `resource_rules:
  issues:
    rules:
      - name: Upcoming
        conditions:
          milestone: upcoming
      - name: Started
        conditions:
          milestone: Started
`;
  const seed: Seed = {
    users: ['triage-bot', 'dana'],
    groups: [
      { path: 'acme', members: { 'triage-bot': 'maintainer', dana: 'developer' }, milestones: [{ title: 'Q2', dueDate: '2026-06-30' }] },
    ],
    projects: [
      {
        path: 'acme/app',
        milestones: [
          { title: 'Old', startDate: '2025-01-01', dueDate: '2025-02-01' },
          { title: 'Now', startDate: '2026-03-01', dueDate: '2026-04-15' },
          { title: 'Next', startDate: '2026-04-16', dueDate: '2026-05-01' },
          { title: 'Done', startDate: '2026-03-01', dueDate: '2026-04-10', state: 'closed' },
        ],
        issues: [...['Old', 'Now', 'Next', 'Done', 'Q2'].map((milestone) => ({ title: `In ${milestone}`, milestone })), { title: 'None' }],
      },
    ],
  };

  test("upcoming: each project's and group's active milestone due first after today; started: active ones that have begun", async () => {
    const env = await world(POLICY, seed);
    try {
      const report = await completed(env, { dryRun: true });
      assert.deepEqual(
        report.rules.map((rule) => `${rule.rule}: ${rule.matched.join(' ')}`),
        ['Upcoming: acme/app#5 acme/app#2', 'Started: acme/app#2 acme/app#1'],
      );
    } finally {
      await env.close();
    }
  });
});

describe('maxPages', () => {
  const POLICY = `resource_rules:\n  issues:\n    rules:\n      - name: Everything open\n        conditions:\n          state: opened\n`;
  const seed: Seed = {
    users: ['triage-bot', 'dana'],
    groups: [{ path: 'acme', members: { 'triage-bot': 'maintainer', dana: 'developer' } }],
    projects: [{ path: 'acme/app', issues: Array.from({ length: 101 }, (_, index) => ({ title: `Issue ${index + 1}` })) }],
  };

  test('a rule that lists more pages fails saying what to do; triage({ maxPages }) raises the bound', async () => {
    const env = await world(POLICY, seed, { narrow: "projects: ['acme/app'], maxPages: 1", wide: "projects: ['acme/app'], maxPages: 2" });
    try {
      assert.equal(
        await failure(env, { dryRun: true }, 'narrow'),
        ".triage-policies.yml: acme/app issues rule 'Everything open': GitLab lists more than 1 pages of 100 issues for it; " +
          'narrow the rule with a `date` or `labels` condition, or raise triage({ maxPages }) (at most 1000; docs/triage.md)',
      );
      assert.equal((await completed(env, { dryRun: true }, 'wide')).rules[0]?.matched.length, 101);
    } finally {
      await env.close();
    }
  });

  test('refused unless a whole number from 1 to 1000', () => {
    const policies: TriagePolicies = {
      file: 'p.yml',
      issues: { rules: [], summaries: [] },
      mergeRequests: { rules: [], summaries: [] },
    };
    assert.throws(
      () => triage({ name: 't', policies, projects: ['a/b'], maxPages: 0 }),
      /maxPages: 0 is not a whole number from 1 to 1000/,
    );
    assert.doesNotThrow(() => triage({ name: 't', policies, projects: ['a/b'], maxPages: 1000 }));
  });
});

describe('triage() options', () => {
  const policies: TriagePolicies = { file: 'p.yml', issues: { rules: [], summaries: [] }, mergeRequests: { rules: [], summaries: [] } };

  test('one it does not take, or a time zone without a schedule, is refused rather than doing nothing', () => {
    assert.throws(
      () => triage({ name: 't', policies, projects: ['a/b'], ...({ dryrun: true } as object) }),
      /^TypeError: triage\('t'\): 'dryrun' is not an option of triage\(\) \(it takes name, policies, projects, groups, schedule, timezone, dryRun, maxPages, description\)/,
    );
    assert.throws(
      () => triage({ name: 't', policies, projects: ['a/b'], timezone: 'Europe/Berlin' }),
      /timezone is the time zone of the schedule: give schedule too, or leave timezone out/,
    );
    assert.doesNotThrow(() =>
      triage({ name: 't', policies, projects: ['a/b'], schedule: '0 6 * * 1', timezone: 'Europe/Berlin', dryRun: true }),
    );
  });
});

describe('comment_on_summary, as the gem posts it', () => {
  const POLICY = `resource_rules:
  issues:
    rules:
      - name: Stale
        conditions:
          state: opened
        actions:
          summarize:
            title: Stale {{type}}
            item: "- {{full_reference}}"
            summary: "{{items}}"
          comment_on_summary: "{{full_reference}} by {{author}}: {{title}}"
`;
  const seed: Seed = {
    users: ['triage-bot', 'dana'],
    groups: [{ path: 'acme', members: { 'triage-bot': 'maintainer', dana: 'developer' } }],
    projects: [
      {
        path: 'acme/app',
        issues: [
          { title: 'Crash', author: 'dana' },
          { title: 'Token leak', author: 'dana', confidential: true },
        ],
      },
    ],
  };

  test('a note on the summary issue for each resource, previewed in a dry run and posted by a real one', async () => {
    const env = await world(POLICY, seed);
    try {
      const preview = await completed(env, { dryRun: true });
      assert.deepEqual(preview.rules[0]?.actions, ['summarize', 'comment on the summary']);
      const expected = [
        { resource: 'acme/app#2', body: 'acme/app#2 by @(confidential): (confidential)' },
        { resource: 'acme/app#1', body: 'acme/app#1 by @dana: Crash' },
      ];
      assert.deepEqual(preview.rules[0]?.summaryComments, expected);
      await completed(env, { dryRun: false });
      assert.deepEqual(
        notes(env, 3),
        expected.map((note) => note.body),
        'on the summary issue (#3), nothing on the resources',
      );
      assert.deepEqual([notes(env, 1), notes(env, 2)], [[], []]);
    } finally {
      await env.close();
    }
  });
});
