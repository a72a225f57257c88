import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestEnv, demoSeed } from 'autoflow/testing';

interface RuleReport {
  rule: string;
  matched: string[];
}

test('the triage policies label what nobody labelled, and a dry run only reports it', async () => {
  const env = await createTestEnv({ workflows: [new URL('./triage.ts', import.meta.url)], gitlab: demoSeed() });
  try {
    const issue = await env.gitlab.actions.createIssue('carol', 'demo/app', { title: 'Login button is grey' });
    const rulesOf = async (input: { dryRun: boolean }): Promise<RuleReport[]> => {
      const run = await env.result(await env.start('triage', input));
      return (run.result as unknown as { rules: RuleReport[] }).rules;
    };

    const preview = await rulesOf({ dryRun: true });
    assert.deepEqual(preview.find((rule) => rule.rule === 'Unlabelled issues go to the backlog')?.matched, [`demo/app#${issue.iid}`]);
    assert.deepEqual(env.gitlab.issue('demo/app', issue.iid).labels, [], 'a dry run changes nothing');

    await rulesOf({ dryRun: false });
    assert.deepEqual(env.gitlab.issue('demo/app', issue.iid).labels, ['workflow::backlog']);
    const [note] = env.gitlab.notes('demo/app', { issue: issue.iid }).filter((entry) => !entry.system);
    assert.match(String(note?.body), /^@carol thanks for the report!/);
  } finally {
    await env.close();
  }
});
