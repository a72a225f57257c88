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
      // An hour of 2-minute polls re-parks nothing: each webhook wait is registered once.
      const history = await fx.env.history(runId);
      const waits = history.filter((event) => event.type === 'wait_started').map((event) => (event as { eventType: string }).eventType);
      assert.deepEqual(waits.sort(), [
        'com.gitlab.events.pipeline_canceled',
        'com.gitlab.events.pipeline_failed',
        'com.gitlab.events.pipeline_succeeded',
        'com.gitlab.events.push',
      ]);
      assert.equal(history.filter((event) => event.type === 'timer_started').length, 31, 'one poll every 2 minutes, and the deadline');
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: webhooks lost', () => {
  test('without pipeline webhooks the gate still learns of the green pipeline by polling, within one poll interval', async () => {
    const fx = await GateFixture.create({ gateSource: `pollInterval: '2m',` });
    try {
      const commit = await fx.push(30);
      const runId = await fx.runFor(commit.sha);
      // The project's hook stops sending pipeline events (a misconfigured hook, a GitLab outage).
      const webhooks = fx.env.gitlab.webhooks;
      for (const hook of webhooks.list()) {
        webhooks.remove(hook.id);
        webhooks.add({
          project: PROJECT,
          url: hook.url,
          ...(hook.token === null ? {} : { token: hook.token }),
          events: ['push_events', 'tag_push_events'],
        });
      }
      await fx.env.advance('30s');
      await fx.finishPipeline(commit.sha, 'success');
      const greenAt = fx.env.now();
      assert.equal(fx.receiver.received.length, 0, 'nothing told the gate yet');
      await fx.env.advance('2m');
      assert.equal(fx.receiver.received.length, 1, 'the next poll found the green pipeline and synced');
      const run = await fx.env.result(runId, '1h');
      assert.equal((run.result as { status: string }).status, 'deployed');
      const syncedAt =
        (await fx.env.history(runId)).find((event) => event.type === 'call_scheduled' && event.capability === 'http')?.at ?? 0;
      assert.ok(syncedAt - greenAt <= 2 * 60_000, `synced ${syncedAt - greenAt} ms after the pipeline passed`);
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: a newer commit supersedes an older one', () => {
  test('two quick pushes → only the newer commit is synced; the older gate ends superseded', async () => {
    const fx = await GateFixture.create();
    try {
      const older = await fx.push(6);
      const newer = await fx.push(7);
      const [olderRun, newerRun] = [await fx.runFor(older.sha), await fx.runFor(newer.sha)];
      assert.equal((await fx.env.run(olderRun)).status, 'completed', 'the newer push ended the older gate at once');
      assert.deepEqual((await fx.env.run(olderRun)).result, {
        status: 'superseded',
        sha: older.sha,
        environments: [{ name: 'production', status: 'canceled', detail: `superseded by ${newer.sha.slice(0, 8)}` }],
        supersededBy: newer.sha,
      });
      // The older pipeline passing afterwards changes nothing.
      await fx.finishPipeline(older.sha, 'success');
      await fx.finishPipeline(newer.sha, 'success');
      assert.equal(((await fx.env.result(newerRun, '1h')).result as { status: string }).status, 'deployed');
      assert.equal(fx.receiver.received.length, 1);
      assert.deepEqual(fx.applied(), [{ revision: `main@sha1:${newer.sha}`, ok: true }]);
      assert.equal(fx.status(older.sha)?.status, 'canceled');
      assert.equal(fx.status(newer.sha)?.status, 'success');
      assert.equal(fx.deployments(older.sha).length, 0);
    } finally {
      await fx.close();
    }
  });

  test('an older gate whose pipeline passes while the newer one deploys never syncs after it', async () => {
    const fx = await GateFixture.create({ gateSource: `pollInterval: '1m',` });
    try {
      const older = await fx.push(8);
      const olderRun = await fx.runFor(older.sha);
      await fx.finishPipeline(older.sha, 'success');
      // The older gate is observing Flux when the newer commit lands and its pipeline passes.
      const newer = await fx.push(9);
      const newerRun = await fx.runFor(newer.sha);
      await fx.finishPipeline(newer.sha, 'success');
      const [a, b] = [await fx.env.result(olderRun, '1h'), await fx.env.result(newerRun, '1h')];
      assert.equal((b.result as { status: string }).status, 'deployed');
      assert.equal((a.result as { status: string }).status, 'superseded', 'the older gate stops watching once the ref moved');
      assert.equal(fx.status(older.sha)?.status, 'canceled');
      assert.equal(fx.deployments(older.sha)[0]?.status, 'canceled');
      // Flux fetches the branch head when asked: the older gate's request brought the newer commit.
      assert.deepEqual(fx.applied(), [{ revision: `main@sha1:${newer.sha}`, ok: true }], 'never the older commit after the newer');
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: approvals and deploy freezes', () => {
  test('during a GitLab deploy freeze the gate waits for an approval before syncing', async () => {
    const fx = await GateFixture.create({ gateSource: `freezeApprovers: ['alice', 'sam'],` });
    try {
      const project = fx.env.gitlab.state.requireProject(PROJECT);
      // Monday 2026-01-05 09:00 UTC: a freeze from Monday 08:00 to Monday 18:00 is in force.
      fx.env.gitlab.state.freezePeriods.set(900, {
        id: 900,
        projectId: project.id,
        freezeStart: '0 8 * * 1',
        freezeEnd: '0 18 * * 1',
        cronTimezone: 'UTC',
        createdAt: fx.env.now(),
        updatedAt: fx.env.now(),
      });
      const commit = await fx.push(10);
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'success');
      const [task, ...others] = await fx.env.tasks();
      assert.equal(others.length, 0);
      assert.equal(task?.kind, 'approval');
      assert.match(String(task?.title), /Deploy .* to production/);
      assert.deepEqual([...(task?.eligible ?? [])].sort(), ['alice', 'sam']);
      assert.equal(fx.status(commit.sha)?.status, 'pending');
      assert.match(String(fx.status(commit.sha)?.generic?.description), /deploy freeze: waiting for approval/);
      await fx.env.advance('2h');
      assert.equal(fx.receiver.received.length, 0, 'no sync without the approval');

      await fx.env.decideTask(task?.id ?? '', 'alice', 'approve', 'hotfix, go');
      const run = await fx.env.result(runId, '1h');
      assert.equal((run.result as { status: string }).status, 'deployed');
      assert.equal(fx.receiver.received.length, 1);
      assert.equal(fx.status(commit.sha)?.status, 'success');
    } finally {
      await fx.close();
    }
  });

  test('outside a freeze, the same gate deploys without asking; a rejection stops the sync', async () => {
    const fx = await GateFixture.create({ environmentSource: `approval: { approvers: ['alice'], when: 'always', timeout: '4h' },` });
    try {
      const commit = await fx.push(11);
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'success');
      const [task] = await fx.env.tasks();
      await fx.env.decideTask(task?.id ?? '', 'alice', 'reject', 'not during the board meeting');
      const run = await fx.env.result(runId, '1h');
      assert.equal((run.result as { status: string }).status, 'rejected');
      assert.equal(fx.receiver.received.length, 0);
      assert.equal(fx.status(commit.sha)?.status, 'failed');
      assert.match(String(fx.status(commit.sha)?.generic?.description), /rejected by @alice/);
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: Flux reports a failure', () => {
  test('Ready=False → status and deployment failed, the issue carries the condition message and is updated, not duplicated', async () => {
    const fx = await GateFixture.create({
      outcome: () => ({
        ok: false,
        reason: 'HealthCheckFailed',
        message: "health check failed after 30s: Deployment/apps/web status: 'Failed'",
      }),
    });
    try {
      const first = await fx.push(12);
      await fx.finishPipeline(first.sha, 'success');
      const firstRun = await fx.env.result(await fx.runFor(first.sha), '1h');
      assert.equal((firstRun.result as { status: string }).status, 'failed');
      assert.equal(fx.status(first.sha)?.status, 'failed');
      assert.match(String(fx.status(first.sha)?.generic?.description), /HealthCheckFailed: health check failed/);
      assert.equal(fx.deployments(first.sha)[0]?.status, 'failed');
      const [issue] = fx.gateIssues();
      assert.match(String(issue?.description), /Flux did not apply .* to production/);
      assert.match(String(issue?.description), /Deployment\/apps\/web status: 'Failed'/);
      assert.match(String(issue?.description), /Warning \*\*HealthCheckFailed\*\*/, 'the Kustomization events');

      const second = await fx.push(13);
      await fx.finishPipeline(second.sha, 'success');
      await fx.env.result(await fx.runFor(second.sha), '1h');
      const issues = fx.gateIssues();
      assert.equal(issues.length, 1, 'the second failure updates the open issue');
      const notes = fx.env.gitlab.notes(PROJECT, { issue: Number(issues[0]?.iid) });
      assert.equal(notes.length, 1);
      assert.match(String(notes[0]?.body), new RegExp(`Flux did not apply ${second.sha.slice(0, 8)} to production`));
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: the other ways to trigger Flux', () => {
  test('annotate: reconcile.fluxcd.io/requestedAt is merge-patched on the GitRepository', async () => {
    const fx = await GateFixture.create({ sync: 'annotate' });
    try {
      const commit = await fx.push(14);
      await fx.finishPipeline(commit.sha, 'success');
      const run = await fx.env.result(await fx.runFor(commit.sha), '1h');
      assert.equal((run.result as { status: string }).status, 'deployed');
      const patches = fx.kube.patches.filter((p) => p.path.endsWith('/gitrepositories/manifests'));
      assert.equal(patches.length, 1);
      assert.equal(patches[0]?.contentType, 'application/merge-patch+json');
      assert.equal(
        (patches[0]?.body as { metadata: { annotations: Record<string, string> } }).metadata.annotations['reconcile.fluxcd.io/requestedAt'],
        new Date(Date.parse('2026-01-05T09:00:00Z')).toISOString(),
      );
      assert.deepEqual(fx.applied(), [{ revision: `main@sha1:${commit.sha}`, ok: true }]);
      assert.equal(fx.receiver.received.length, 0);
    } finally {
      await fx.close();
    }
  });

  test('branch: the environment branch Flux watches is moved to exactly the commit', async () => {
    const fx = await GateFixture.create({ sync: 'branch' });
    try {
      const commit = await fx.push(15);
      await fx.finishPipeline(commit.sha, 'success');
      // Flux notices the moved branch on its own interval (1m).
      const run = await fx.env.result(await fx.runFor(commit.sha), '1h');
      assert.equal(fx.env.gitlab.state.requireProject(PROJECT).repository.branches.get('env/production'), commit.sha);
      assert.equal((run.result as { status: string }).status, 'deployed');
      assert.deepEqual(fx.applied(), [{ revision: `env/production@sha1:${commit.sha}`, ok: true }]);
      assert.equal(fx.receiver.received.length, 0);
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: tags', () => {
  test('tagPattern: a matching tag of a green commit is synced; a later matching tag supersedes a gate still waiting', async () => {
    const fx = await GateFixture.create({ gateSource: `tagPattern: 'v*',` });
    const tag = async (name: string, ref: string) => {
      const response = await fx.env.gitlab.sim.fetch(`/api/v4/projects/${encodeURIComponent(PROJECT)}/repository/tags`, {
        method: 'POST',
        headers: { 'PRIVATE-TOKEN': fx.env.gitlab.token, 'content-type': 'application/json' },
        body: JSON.stringify({ tag_name: name, ref }),
      });
      assert.equal(response.status, 201, await response.text());
      await fx.env.settle();
    };
    try {
      const first = await fx.push(20);
      assert.equal((await fx.env.operations.listRuns({ limit: 10 })).runs.length, 0, 'a branch push does not start a tag gate');
      await tag('release-1', first.sha);
      assert.equal((await fx.env.operations.listRuns({ limit: 10 })).runs.length, 0, 'a tag outside the pattern neither');
      await tag('v1.0.0', first.sha);
      const firstRun = await fx.runFor(first.sha);
      // Its pipeline has not passed yet when v1.0.1 is tagged on a newer commit.
      const second = await fx.push(21);
      await fx.env.advance('1m');
      await tag('v1.0.1', second.sha);
      // The simulator starts no pipeline for a tag push; GitLab would, and only the tag's pipeline counts for a tag gate.
      await fx.env.gitlab.actions.createPipeline('dana', PROJECT, 'v1.0.1');
      assert.equal(((await fx.env.run(firstRun)).result as { status: string } | null)?.status, 'superseded');
      await fx.finishPipeline(first.sha, 'success');
      await fx.finishPipeline(second.sha, 'success');
      const run = await fx.env.result(await fx.runFor(second.sha), '1h');
      assert.equal((run.result as { status: string }).status, 'deployed');
      assert.equal(fx.receiver.received.length, 1);
      assert.equal(fx.receiver.received[0]?.event, 'Tag Push Hook');
      assert.equal(fx.deployments(second.sha)[0]?.tag, true);
    } finally {
      await fx.close();
    }
  });
});
