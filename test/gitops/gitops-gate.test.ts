import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GateFixture, PROJECT } from './gate-fixture.js';

describe('gitopsGate: the sync waits for a green pipeline', () => {
  test('green pipeline → exactly one sync → commit status and deployment end success', async () => {
    const fx = await GateFixture.create();
    try {
      const commit = await fx.push(2);
      const runId = await fx.runFor(commit.sha);
      await fx.env.advance('5m');
      assert.equal(fx.receiver.received.length, 0, 'nothing is synced while the pipeline runs');
      assert.equal(fx.status(commit.sha), undefined, 'no status of ours sits in the running pipeline');

      await fx.finishPipeline(commit.sha, 'success');
      const run = await fx.env.result(runId, '1h');
      assert.equal(run.status, 'completed');
      assert.equal((run.result as { status: string }).status, 'deployed');

      assert.equal(fx.receiver.received.filter((hook) => hook.accepted).length, 1, 'one POST to the Receiver');
      assert.equal(fx.receiver.received[0]?.event, 'Push Hook');
      assert.equal((fx.receiver.received[0]?.body as { checkout_sha: string }).checkout_sha, commit.sha, 'the GitLab push payload');
      assert.deepEqual(fx.applied(), [{ revision: `main@sha1:${commit.sha}`, ok: true }], 'Flux applied this commit once');

      assert.deepEqual(await fx.statusHistory(runId), ['pending', 'running', 'success']);
      const status = fx.status(commit.sha);
      assert.equal(status?.status, 'success');
      assert.equal(status?.generic?.targetUrl, `https://autoflow.example.com/runs/${encodeURIComponent(runId)}`);
      assert.equal(status?.pipelineId, fx.pipelineOf(commit.sha).id, 'shown on the commit pipeline');
      const deployments = fx.deployments(commit.sha);
      assert.equal(deployments.length, 1);
      assert.equal(deployments[0]?.status, 'success');
      assert.equal(fx.env.gitlab.state.environments.get(deployments[0]?.environmentId ?? -1)?.name, 'production');
      assert.deepEqual(fx.gateIssues(), [], 'no issue when all is well');
    } finally {
      await fx.close();
    }
  });

  test('red pipeline → no sync, status failed, one issue opened; a retry that passes still deploys', async () => {
    const fx = await GateFixture.create();
    try {
      const commit = await fx.push(3);
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'failed');
      assert.equal(fx.receiver.received.length, 0);
      assert.equal(fx.status(commit.sha)?.status, 'failed');
      const [issue, ...more] = fx.gateIssues();
      assert.equal(more.length, 0);
      assert.equal(issue?.state, 'opened');
      assert.match(String(issue?.description), /Pipeline \[#\d+\].* failed, so no environment was synced/);
      assert.match(String(issue?.description), new RegExp(`https://autoflow.example.com/runs/${encodeURIComponent(runId)}`));
      assert.deepEqual(issue?.labels, ['gitops::failed']);

      // Someone retries the flaky job within the retry window; it passes.
      await fx.env.advance('10m');
      await fx.env.gitlab.actions.setPipelineStatus(PROJECT, fx.pipelineOf(commit.sha).id, 'running');
      await fx.env.advance('3m');
      await fx.env.gitlab.actions.setPipelineStatus(PROJECT, fx.pipelineOf(commit.sha).id, 'success');
      const run = await fx.env.result(runId, '1h');
      assert.equal((run.result as { status: string }).status, 'deployed');
      assert.equal(fx.status(commit.sha)?.status, 'success');
      assert.equal(fx.receiver.received.length, 1);
      assert.equal(fx.gateIssues()[0]?.state, 'closed', 'the deploy closes the failure issue');
    } finally {
      await fx.close();
    }
  });

  test('a red pipeline nobody retries ends the gate as pipeline_failed, never syncing', async () => {
    const fx = await GateFixture.create();
    try {
      const commit = await fx.push(4);
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'canceled');
      const run = await fx.env.result(runId, '2h');
      assert.equal((run.result as { status: string }).status, 'pipeline_failed');
      assert.equal(fx.receiver.received.length, 0);
      assert.deepEqual(fx.applied(), []);
      assert.equal(fx.status(commit.sha)?.status, 'failed');
      assert.equal(fx.gateIssues().length, 1);
    } finally {
      await fx.close();
    }
  });

  test('a pipeline that never starts: the gate times out, reports failed, and never syncs', async () => {
    const fx = await GateFixture.create();
    try {
      const commit = await fx.push(5);
      const runId = await fx.runFor(commit.sha);
      // The pipeline stays pending: no runner picks it up.
      const run = await fx.env.result(runId, '3h');
      assert.equal((run.result as { status: string }).status, 'timed_out');
      assert.equal(run.updatedAt - run.createdAt, 3_600_000, 'pipelineTimeout: 1h');
      assert.equal(fx.receiver.received.length, 0);
      assert.equal(fx.status(commit.sha)?.status, 'failed');
      assert.match(String(fx.gateIssues()[0]?.description), /did not pass within 1h/);
    } finally {
      await fx.close();
    }
  });
});
