import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createGitLabSimulator, demoSeed, SnapshotError } from './index.js';
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION } from './snapshot.js';

/** A demo world with one of each kind of record: repository, merge request, pipeline, jobs, deployment, threads, a move. */
function busyWorld() {
  const sim = createGitLabSimulator({
    seed: { ...demoSeed(), projects: [...(demoSeed().projects ?? []), { path: 'demo/ops', members: { alice: 'maintainer' } }] },
  });
  const { actions } = sim;
  actions.push('bob', 'demo/app', { branch: 'fix', startBranch: 'main', files: { 'src/fix.ts': 'export {};\n' }, message: 'Fix it' });
  const mr = actions.openMergeRequest('bob', 'demo/app', { sourceBranch: 'fix', title: 'Fix it', description: 'Closes #2' });
  actions.addReviewer('bob', 'demo/app', mr.iid, 'alice');
  actions.approveMergeRequest('alice', 'demo/app', mr.iid);
  const pipeline = actions.createPipeline('bob', 'demo/app', 'fix');
  actions.setPipelineStatus('demo/app', pipeline.id, 'success');
  actions.mergeMergeRequest('alice', 'demo/app', mr.iid);
  actions.deploy('alice', 'demo/app', { environment: 'production', status: 'success' });
  const thread = actions.startThread('carol', 'demo/app', { issue: 1 }, 'Seen on staging too');
  actions.reply('alice', 'demo/app', { issue: 1 }, thread.discussionId, 'Thanks');
  actions.moveIssue('alice', 'demo/app', 3, 'demo/ops');
  actions.closeMilestone('alice', { project: 'demo/app' }, 'Sprint 1');
  return sim;
}

describe('snapshot()', () => {
  test('restores every record, id sequence and iid counter: a snapshot of the restored simulator is the same text', async () => {
    const before = busyWorld();
    const text = before.snapshot();
    const after = createGitLabSimulator({ snapshot: text });
    assert.equal(after.snapshot(), text);
    // REST answers are the same, and the next objects continue the numbering instead of reusing it.
    for (const path of [
      '/api/v4/projects/demo%2Fapp/merge_requests/1',
      '/api/v4/projects/demo%2Fapp/issues/1/discussions',
      '/api/v4/projects/demo%2Fapp/repository/files/src%2Ffix.ts?ref=main',
    ]) {
      const read = async (sim: typeof before) => (await sim.fetch(path, { headers: { 'private-token': 'alice-token' } })).json();
      assert.deepEqual(await read(after), await read(before), path);
    }
    const next = (sim: typeof before) => {
      const issue = sim.actions.createIssue('bob', 'demo/app', { title: 'Next' });
      const pipeline = sim.actions.createPipeline('bob', 'demo/app', 'main');
      return [issue.id, issue.iid, pipeline.id, pipeline.iid];
    };
    assert.deepEqual(next(after), next(before));
  });

  test('is refused with what is wrong when it is not a snapshot of this version, and the state stays as it was', () => {
    const valid = JSON.parse(createGitLabSimulator({ seed: demoSeed() }).snapshot()) as Record<string, unknown>;
    const cases: Array<[string, RegExp]> = [
      ['{"format": "autoflow-gitlab-simu', /not valid JSON/],
      ['null', /not a JSON object/],
      ['{"name": "package"}', /not a GitLab simulator state file/],
      [JSON.stringify({ ...valid, version: SNAPSHOT_VERSION + 1 }), /version 2; this AutoFlow reads version 1/],
      [JSON.stringify({ ...valid, issues: [] }), /"issues" is missing or not a map/],
      [JSON.stringify({ ...valid, users: { $map: [[7, { id: 8 }]] } }), /"users" holds a record whose id is not its key 7/],
      [
        JSON.stringify({ format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, sequences: { $map: [['user']] } }),
        /not a \[key, value\] pair/,
      ],
    ];
    for (const [text, reason] of cases) {
      assert.throws(
        () => createGitLabSimulator({ snapshot: text }),
        (error: Error) => error instanceof SnapshotError && reason.test(error.message),
        text,
      );
    }
  });

  test('an onChange listener hears about requests that may change something and about actions, not about reads', async () => {
    let changes = 0;
    const sim = createGitLabSimulator({
      seed: demoSeed(),
      onChange: () => {
        changes++;
      },
    });
    assert.equal(changes, 1, 'the seed');
    await sim.fetch('/api/v4/projects/demo%2Fapp/issues', { headers: { 'private-token': 'alice-token' } });
    assert.equal(changes, 1);
    await sim.fetch('/api/v4/projects/demo%2Fapp/issues', {
      method: 'POST',
      headers: { 'private-token': 'alice-token', 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'By REST' }),
    });
    assert.equal(changes, 2);
    assert.throws(() => sim.actions.closeIssue('alice', 'demo/app', 999));
    sim.actions.closeIssue('alice', 'demo/app', 1);
    assert.equal(changes, 4, 'every action, also one that failed part way');
  });
});
