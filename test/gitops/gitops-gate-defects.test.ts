import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CapabilityError } from '../../src/core/errors.js';
import type { CloudEvent, RunRecord } from '../../src/core/model.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { GateFixture, PROJECT } from './gate-fixture.js';

interface GateResultView {
  status: string;
  environments: Array<{ name: string; status: string; detail: string }>;
}

const gateResult = (run: RunRecord): GateResultView => run.result as unknown as GateResultView;

/** The commit statuses a run set, as `<pipeline id> <state>`, in order. */
async function statusCalls(fx: GateFixture, runId: string): Promise<string[]> {
  return (await fx.env.calls(runId))
    .filter((call) => call.capability === 'gitlab' && call.method === 'commitStatuses.set')
    .map((call) => (call.args as { attributes: { state: string; pipeline_id?: number } }).attributes)
    .map(({ state, pipeline_id }) => `${pipeline_id ?? '-'} ${state}`);
}

describe('gitopsGate: a red pipeline re-run as a new pipeline', () => {
  test('statuses follow the pipeline that replaced the red one; none is left pending on the red one', async () => {
    const fx = await GateFixture.create();
    try {
      const commit = await fx.push(3);
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'failed');
      const red = fx.pipelineOf(commit.sha).id;
      await fx.env.advance('5m');
      // "Run pipeline" on main: a new pipeline of the same commit, not a retry of the red one.
      await fx.env.gitlab.actions.createPipeline('dana', PROJECT, 'main');
      await fx.env.advance('1m');
      const rerun = fx.pipelineOf(commit.sha).id;
      assert.notEqual(rerun, red);
      await fx.finishPipeline(commit.sha, 'success');

      const run = await fx.env.result(runId, '1h');
      assert.equal(gateResult(run).status, 'deployed');
      assert.deepEqual(await statusCalls(fx, runId), [`${red} failed`, `${rerun} pending`, `${rerun} running`, `${rerun} success`]);
      const ours = [...fx.env.gitlab.state.jobs.values()].filter((job) => job.name === 'autoflow/gitops: production');
      assert.deepEqual(
        ours.map((job) => `${job.pipelineId} ${job.status}`).sort(),
        [`${red} failed`, `${rerun} success`].sort(),
        'the red pipeline keeps its failed status, nothing pending',
      );
      assert.equal(fx.env.gitlab.state.pipelines.get(red)?.status, 'failed');
      assert.equal(fx.env.gitlab.state.pipelines.get(rerun)?.status, 'success');
      assert.equal(fx.gateIssues()[0]?.state, 'closed', 'the deploy closes the failure issue');
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: one gate per commit', () => {
  test('the same push delivered twice (project hook and group hook, two event ids) starts one gate', async () => {
    const fx = await GateFixture.create();
    try {
      const commit = await fx.push(5);
      const runId = await fx.runFor(commit.sha);
      const input = (await fx.env.run(runId)).input as unknown as CloudEvent;
      const again = await fx.env.emit({ ...input, id: `${input.id}-group-hook` });
      assert.deepEqual(again.started, [], 'the second delivery starts nothing: its run would be the same run');

      await fx.finishPipeline(commit.sha, 'success');
      const run = await fx.env.result(runId, '1h');
      assert.equal(gateResult(run).status, 'deployed');
      const { runs } = await fx.env.operations.listRuns({ limit: 100 });
      assert.deepEqual(
        runs.filter((candidate) => candidate.workflow === 'manifests-gate').map((candidate) => candidate.id),
        [runId],
      );
      assert.equal(fx.receiver.received.length, 1, 'one sync');
      assert.equal(fx.deployments(commit.sha).length, 1, 'one deployment');
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: nobody but the pusher may approve', () => {
  for (const [what, environmentSource, groups] of [
    ['the only listed approver pushed', "approval: { approvers: ['dana'], when: 'always', timeout: '1h' },", []],
    [
      "the approver group's only member pushed",
      "approval: { approvers: ['group:deployers'], when: 'always', timeout: '1h' },",
      [{ path: 'deployers', members: { dana: 'developer' as const, 'autoflow-bot': 'maintainer' as const } }],
    ],
  ] as const) {
    test(`${what}: the gate fails with the reason, marks the deployment and opens its issue`, async () => {
      const fx = await GateFixture.create({ environmentSource, groups: [...groups] });
      try {
        const commit = await fx.push(40);
        const runId = await fx.runFor(commit.sha);
        await fx.finishPipeline(commit.sha, 'success');
        const run = await fx.env.result(runId, '1h');
        assert.equal(run.status, 'completed', String(run.error?.message));
        const result = gateResult(run);
        assert.equal(result.status, 'failed');
        assert.match(String(result.environments[0]?.detail), /nobody but the pusher @dana may approve the deploy to production/);
        assert.equal(fx.status(commit.sha)?.status, 'failed');
        assert.match(String(fx.status(commit.sha)?.generic?.description), /nobody but the pusher @dana/);
        assert.deepEqual(
          fx.deployments(commit.sha).map((deployment) => deployment.status),
          ['failed'],
        );
        const [issue, ...more] = fx.gateIssues();
        assert.equal(more.length, 0);
        assert.match(String(issue?.description), /nobody but the pusher @dana may approve/);
        assert.deepEqual(await fx.env.tasks(), [], 'no approval was opened');
        assert.equal(fx.receiver.received.length, 0, 'nothing synced');
      } finally {
        await fx.close();
      }
    });
  }

  test('an unexpected error still opens the gate issue, as every failure does', async () => {
    const fx = await GateFixture.create();
    try {
      fx.env.mock('kubernetes', () => {
        throw new CapabilityError('forbidden', 'kustomizations.kustomize.toolkit.fluxcd.io "apps" is forbidden', { retryable: false });
      });
      const commit = await fx.push(41);
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'success');
      const run = await fx.env.result(runId, '1h');
      assert.equal(run.status, 'failed');
      const [issue] = fx.gateIssues();
      assert.match(String(issue?.description), /The gate failed on .*CapabilityError/);
      assert.match(String(issue?.description), /is forbidden/);
    } finally {
      await fx.close();
    }
  });
});

describe('gitopsGate: a server without the kubernetes capability', () => {
  test('deploy warns naming the capability; the gate fails before any approval or deployment, saying why', async () => {
    const logger = memoryLogger();
    const fx = await GateFixture.create({
      kubernetes: false,
      logger,
      environmentSource: "approval: { approvers: ['alice'], when: 'always', timeout: '1h' },",
    });
    try {
      const warnings = logger.entries.filter((entry) => entry.level === 'warn').map((entry) => entry.message);
      assert.ok(
        warnings.some(
          (warning) => /no capability named 'kubernetes' is installed on this server/.test(warning) && /autoflow\.config\.ts/.test(warning),
        ),
        `a deploy warning names the capability and how to configure it; got ${JSON.stringify(warnings)}`,
      );

      const commit = await fx.push(42);
      const runId = await fx.runFor(commit.sha);
      await fx.finishPipeline(commit.sha, 'success');
      const run = await fx.env.result(runId, '1h');
      assert.equal(run.status, 'completed', String(run.error?.message));
      assert.equal(gateResult(run).status, 'failed');
      assert.deepEqual(await fx.env.tasks(), [], 'nobody was asked to approve');
      assert.deepEqual(fx.deployments(commit.sha), [], 'no deployment was created');
      assert.equal(fx.status(commit.sha)?.status, 'failed');
      const [issue] = fx.gateIssues();
      assert.match(String(issue?.description), /no capability named 'kubernetes' is installed on this server/);
      assert.match(String(issue?.description), /autoflow\.config\.ts/);
    } finally {
      await fx.close();
    }
  });
});
