import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GateFixture, PROJECT } from '../../test/gitops/gate-fixture.js';
import { CapabilityError } from '../core/errors.js';
import type { GateResult } from './gitops-gate.js';

/** The gate's defects found by the audit of its GitOps use, each with the run that shows it fixed. */

const resultOf = async (fx: GateFixture, runId: string, limit = '3h'): Promise<GateResult> =>
  (await fx.env.result(runId, limit)).result as unknown as GateResult;

async function setPipeline(fx: GateFixture, sha: string, status: 'manual' | 'skipped' | 'success'): Promise<void> {
  await fx.env.gitlab.actions.setPipelineStatus(PROJECT, fx.pipelineOf(sha).id, status);
}

/** A request to the simulator's REST API as the test's user (what the GitLab UI would do). */
async function gitlabApi(fx: GateFixture, method: string, path: string, body: unknown): Promise<void> {
  const response = await fx.env.gitlab.sim.fetch(`/api/v4/projects/${encodeURIComponent(PROJECT)}${path}`, {
    method,
    headers: { 'PRIVATE-TOKEN': fx.env.gitlab.token, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(response.ok, await response.text());
  await fx.env.settle();
}

describe("gitopsGate: a push by AutoFlow's own account is gated like a person's", () => {
  test('a workflow that promotes a release by committing (as autoflow-bot) gets the gate: its commit deploys once green', async () => {
    const fx = await GateFixture.create();
    try {
      const commit = await fx.push(2, 'autoflow-bot');
      const runId = await fx.runFor(commit.sha);
      await setPipeline(fx, commit.sha, 'success');
      assert.equal((await resultOf(fx, runId)).status, 'deployed');
      assert.equal(fx.receiver.received.length, 1);
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: only a pipeline GitLab calls `success`, on the watched ref, is green', () => {
  test('a pipeline held at a manual job is not green: nothing syncs until someone runs the job and it passes', async () => {
    const fx = await GateFixture.create();
    try {
      const commit = await fx.push(2);
      const runId = await fx.runFor(commit.sha);
      await setPipeline(fx, commit.sha, 'manual');
      await fx.env.advance('30m');
      assert.equal(fx.receiver.received.length, 0, 'a blocked pipeline does not deploy');
      assert.equal((await fx.env.run(runId)).status, 'running');
      assert.ok((await fx.env.logs(runId)).some((line) => /waits at a manual job/.test(line)));

      await setPipeline(fx, commit.sha, 'success');
      assert.equal((await resultOf(fx, runId)).status, 'deployed');
      assert.equal(fx.receiver.received.length, 1);
    } finally {
      await fx.close();
    }
  });

  test('a pipeline whose jobs were all skipped is not green: the gate ends pipeline_failed', async () => {
    const fx = await GateFixture.create();
    try {
      const commit = await fx.push(3);
      const runId = await fx.runFor(commit.sha);
      await setPipeline(fx, commit.sha, 'skipped');
      const result = await resultOf(fx, runId);
      assert.equal(result.status, 'pipeline_failed');
      assert.equal(fx.receiver.received.length, 0);
      assert.match(String(fx.gateIssues()[0]?.description), /Pipeline skipped for/);
    } finally {
      await fx.close();
    }
  });

  test('a green pipeline of the same commit on another branch does not count for main', async () => {
    const fx = await GateFixture.create();
    try {
      const commit = await fx.push(4);
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'failed');
      await gitlabApi(fx, 'POST', '/repository/branches', { branch: 'feature', ref: commit.sha });
      const other = await fx.env.gitlab.actions.createPipeline('dana', PROJECT, 'feature');
      await fx.env.gitlab.actions.setPipelineStatus(PROJECT, other.id, 'success');
      const result = await resultOf(fx, runId);
      assert.equal(result.status, 'pipeline_failed');
      assert.equal(fx.receiver.received.length, 0);
    } finally {
      await fx.close();
    }
  });

  test('a tag gate counts the pipeline of its tag', async () => {
    const fx = await GateFixture.create({ gateSource: `tagPattern: 'v*',` });
    try {
      const commit = await fx.push(5);
      await gitlabApi(fx, 'POST', '/repository/tags', { tag_name: 'v1.0.0', ref: commit.sha });
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'success'); // the branch pipeline of main
      await fx.env.advance('5m');
      assert.equal(fx.receiver.received.length, 0, 'the branch pipeline says nothing about the tag');
      const tagged = await fx.env.gitlab.actions.createPipeline('dana', PROJECT, 'v1.0.0');
      await fx.env.gitlab.actions.setPipelineStatus(PROJECT, tagged.id, 'success');
      assert.equal((await resultOf(fx, runId)).status, 'deployed');
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: GitLab away right after an approval', () => {
  test('the gate reads the freezes and the head again until GitLab answers, then deploys what was approved', async () => {
    const fx = await GateFixture.create({ environmentSource: `approval: { approvers: ['alice'], when: 'always', timeout: '4h' },` });
    try {
      const commit = await fx.push(2);
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'success');
      const [task] = await fx.env.tasks();
      assert.ok(task);
      const outage = fx.env.gitlab.faults.add({ kind: 'status', status: 500, path: '/api/v4/**' });
      await fx.env.decideTask(task.id, 'alice', 'approve');
      await fx.env.advance('30m');
      assert.equal((await fx.env.run(runId)).status, 'running', 'half an hour of 500s does not end the gate');
      fx.env.gitlab.faults.remove(outage.id);
      assert.equal((await resultOf(fx, runId)).status, 'deployed');
      assert.deepEqual(fx.applied(), [{ revision: `main@sha1:${commit.sha}`, ok: true }]);
      assert.equal(fx.status(commit.sha)?.status, 'success');
      assert.ok(
        (await fx.env.logs(runId)).some((line) => /^reading the deploy freezes failed, trying again in 1m: /.test(line)),
        'the outage is in the run log',
      );
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: tags', () => {
  test('a second tag on a commit whose first tag failed its pipeline is a gate of its own, and deploys', async () => {
    const fx = await GateFixture.create({ gateSource: `tagPattern: 'v*',` });
    try {
      const commit = await fx.push(5);
      await gitlabApi(fx, 'POST', '/repository/tags', { tag_name: 'v1.0.0-rc1', ref: commit.sha });
      const candidate = await fx.env.gitlab.actions.createPipeline('dana', PROJECT, 'v1.0.0-rc1');
      await fx.env.gitlab.actions.setPipelineStatus(PROJECT, candidate.id, 'failed');
      await fx.env.advance('2h');
      await gitlabApi(fx, 'POST', '/repository/tags', { tag_name: 'v1.0.0', ref: commit.sha });
      const release = await fx.env.gitlab.actions.createPipeline('dana', PROJECT, 'v1.0.0');
      await fx.env.gitlab.actions.setPipelineStatus(PROJECT, release.id, 'success');
      await fx.env.advance('5m');
      const { runs } = await fx.env.operations.listRuns({ workflow: 'manifests-gate', limit: 10 });
      const byTag = Object.fromEntries(
        runs.map((run) => [(run.input as { data: { ref: string } }).data.ref, (run.result as { status?: string } | undefined)?.status]),
      );
      assert.deepEqual(byTag, { 'refs/tags/v1.0.0-rc1': 'pipeline_failed', 'refs/tags/v1.0.0': 'deployed' });
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: a commit Flux fetched instead of the gate’s own is reported', () => {
  test('a commit landing between the sync and the fetch, its pipeline not passed: failed, naming what runs, and an issue', async () => {
    const fx = await GateFixture.create();
    try {
      const first = await fx.push(6);
      const runId = await fx.runFor(first.sha);
      await fx.finishPipeline(first.sha, 'success'); // the gate posts to the Receiver; Flux fetches 30 s later
      const second = await fx.push(7);
      const result = await resultOf(fx, runId);
      const revision = `main@sha1:${second.sha}`;
      assert.deepEqual(fx.applied(), [{ revision, ok: true }], 'the cluster runs the untested commit');
      assert.equal(result.status, 'failed');
      assert.equal(result.appliedInstead, revision);
      const described = `Flux applied ${revision} instead of ${first.sha.slice(0, 8)}: a commit whose pipeline on main has not passed (running)`;
      assert.equal(result.environments[0]?.detail, described);
      assert.equal(fx.status(first.sha)?.status, 'failed');
      assert.equal(fx.status(first.sha)?.generic?.description, described);
      assert.equal(fx.deployments(first.sha)[0]?.status, 'failed');
      const [issue] = fx.gateIssues();
      assert.match(String(issue?.description), /Flux applied an untested commit to production/);
      assert.match(String(issue?.description), new RegExp(`Flux fetched its head: \`${revision}\``));
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: a commit Flux fetched that its own gate has not approved is reported', () => {
  test('approved, synced, and a newer green commit lands before the fetch: it runs unapproved, so the gate fails loudly', async () => {
    const fx = await GateFixture.create({ environmentSource: `approval: { approvers: ['alice'], when: 'always' },` });
    try {
      const first = await fx.push(6);
      const runId = await fx.runFor(first.sha);
      await fx.finishPipeline(first.sha, 'success');
      const [task] = await fx.env.tasks();
      assert.ok(task);
      await fx.env.decideTask(task.id, 'alice', 'approve'); // the gate posts to the Receiver; Flux fetches 30 s later
      const second = await fx.push(7);
      await fx.env.advance('10s');
      await fx.finishPipeline(second.sha, 'success');
      const result = await resultOf(fx, runId);
      const revision = `main@sha1:${second.sha}`;
      assert.deepEqual(fx.applied(), [{ revision, ok: true }], 'the cluster runs the newer commit, which nobody approved');
      assert.equal(result.status, 'failed', 'not superseded: the newer commit did not pass its own gate');
      assert.equal(result.appliedInstead, revision);
      assert.match(
        result.environments[0]?.detail ?? '',
        /: a commit whose pipeline passed, but which production needs an approval for, and its own gate has not cleared it \(its status there: pending, waiting for approval/,
      );
      const [issue] = fx.gateIssues();
      assert.match(String(issue?.description), /Flux applied an unapproved commit to production/);
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: a gate that stops half-way closes its statuses and deployments', () => {
  test('cancelled while Flux applies: status and deployment canceled, the pipeline not held at running', async () => {
    const fx = await GateFixture.create();
    try {
      const commit = await fx.push(8);
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'success');
      assert.equal(fx.status(commit.sha)?.status, 'running');
      await fx.env.cancel(runId, 'operator abort');
      assert.equal((await fx.env.run(runId)).status, 'cancelled');
      assert.equal(fx.status(commit.sha)?.status, 'canceled');
      assert.match(String(fx.status(commit.sha)?.generic?.description), /cancelled: operator abort: not deployed/);
      assert.equal(fx.deployments(commit.sha)[0]?.status, 'canceled');
      assert.notEqual(fx.pipelineOf(commit.sha).status, 'running');
    } finally {
      await fx.close();
    }
  });

  test('failing (the Receiver refuses): status and deployment failed, with the error', async () => {
    const fx = await GateFixture.create();
    try {
      fx.env.mock('http', () => {
        throw new CapabilityError('http_error', 'HTTP 401 from the Receiver', { retryable: false });
      });
      const commit = await fx.push(9);
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'success');
      assert.equal((await fx.env.run(runId)).status, 'failed');
      assert.equal(fx.status(commit.sha)?.status, 'failed');
      assert.match(String(fx.status(commit.sha)?.generic?.description), /HTTP 401 from the Receiver: not deployed/);
      assert.equal(fx.deployments(commit.sha)[0]?.status, 'failed');
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: deploy freezes and long waits', () => {
  test('an approval given after a freeze began does not cover the freeze: the freeze approvers are asked', async () => {
    const fx = await GateFixture.create({
      gateSource: `freezeApprovers: ['sam'],`,
      environmentSource: `approval: { approvers: ['alice'], when: 'always', timeout: '1d' },`,
    });
    try {
      const project = fx.env.gitlab.state.requireProject(PROJECT);
      // Monday 09:00 UTC now; a freeze from 10:00 to 18:00.
      const at = fx.env.now();
      fx.env.gitlab.state.freezePeriods.set(900, {
        id: 900,
        projectId: project.id,
        freezeStart: '0 10 * * 1',
        freezeEnd: '0 18 * * 1',
        cronTimezone: 'UTC',
        createdAt: at,
        updatedAt: at,
      });
      const commit = await fx.push(10);
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'success');
      const [before] = await fx.env.tasks();
      await fx.env.advance('2h');
      await fx.env.decideTask(before?.id ?? '', 'alice', 'approve');
      assert.equal(fx.receiver.received.length, 0, 'no sync during the freeze on an approval given before it');
      const [during, ...others] = await fx.env.tasks({ status: 'open' });
      assert.equal(others.length, 0);
      assert.deepEqual(during?.eligible, ['sam']);
      assert.match(String(fx.status(commit.sha)?.generic?.description), /deploy freeze: waiting for approval/);

      await fx.env.decideTask(during?.id ?? '', 'sam', 'approve');
      assert.equal((await resultOf(fx, runId)).status, 'deployed');
      assert.ok((await fx.env.logs(runId)).some((line) => /approval approved by @sam/.test(line)));
    } finally {
      await fx.close();
    }
  });

  test('a 45-minute GitLab outage while the pipeline runs: the gate rides it out, each failed read in its log', async () => {
    const fx = await GateFixture.create();
    try {
      const commit = await fx.push(11);
      const runId = await fx.runFor(commit.sha);
      fx.env.gitlab.faults.add({ kind: 'status', status: 503 });
      await fx.env.advance('45m');
      fx.env.gitlab.faults.clear();
      assert.equal((await fx.env.run(runId)).status, 'running');
      const failures = (await fx.env.logs(runId)).filter((line) => /failed, trying again at the next wake-up: .*503/.test(line));
      assert.ok(failures.length >= 10, `${failures.length} failed reads logged`);

      await fx.finishPipeline(commit.sha, 'success');
      assert.equal((await resultOf(fx, runId)).status, 'deployed');
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: its log and history explain a deploy', () => {
  test('pipeline, sync and Flux verdict are logged; call sites name the block, not where AutoFlow is installed', async () => {
    const fx = await GateFixture.create();
    try {
      const commit = await fx.push(12);
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'success');
      await resultOf(fx, runId);
      const short = commit.sha.slice(0, 8);
      assert.deepEqual(await fx.env.logs(runId), [
        `pipeline #${fx.pipelineOf(commit.sha).id} of ${short} on main is pending`,
        `pipeline #${fx.pipelineOf(commit.sha).id} of ${short} on main passed`,
        'production: posted the push to the Flux Receiver',
        `production: Ready at main@sha1:${commit.sha}`,
      ]);
      const sites = (await fx.env.history(runId)).flatMap((event) => (event.type === 'call_scheduled' ? [event.site] : []));
      assert.ok(sites.length > 0);
      for (const site of sites) assert.match(String(site), /^autoflow\/blocks\/[\w-]+\.ts:\d+:\d+$/);
    } finally {
      await fx.close();
    }
  });
});
