import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commitOf, fluxVerdict, refOf, revisionMatches, type KustomizationObject } from './flux.js';
import { checkGateOptions, gatePermissions, gateTriggers, type GateEnvironment, type GitopsGateOptions } from './gitops-options.js';
import { compositeStatus, verdictOfStatus } from './gitops-pipeline.js';
import { meanAndDeviation, zScore } from './metrics.js';
import { parseRelease } from './targets.js';

const SHA = 'a'.repeat(40);

function ks(status: KustomizationObject['status'], generation = 2): KustomizationObject {
  return { metadata: { generation }, status };
}

describe('fluxVerdict: what a Kustomization says about one commit', () => {
  const ready = { type: 'Ready', status: 'True' as const, reason: 'ReconciliationSucceeded', message: 'Applied revision: main@sha1:…' };
  const failed = { type: 'Ready', status: 'False' as const, reason: 'BuildFailed', message: 'kustomize build failed' };

  test('Ready at this revision, with the current generation observed', () => {
    assert.equal(
      fluxVerdict(ks({ observedGeneration: 2, lastAppliedRevision: `main@sha1:${SHA}`, conditions: [ready] }), SHA).state,
      'ready',
    );
    assert.equal(
      fluxVerdict(ks({ observedGeneration: 1, lastAppliedRevision: `main@sha1:${SHA}`, conditions: [ready] }), SHA).state,
      'progressing',
      'stale status',
    );
    assert.equal(
      fluxVerdict(ks({ observedGeneration: 2, lastAppliedRevision: `main@sha1:${'b'.repeat(40)}`, conditions: [ready] }), SHA).state,
      'progressing',
    );
  });

  test('Ready=False counts only when the failed attempt was this revision', () => {
    const mine = fluxVerdict(ks({ observedGeneration: 2, lastAttemptedRevision: `main@sha1:${SHA}`, conditions: [failed] }), SHA);
    assert.deepEqual(mine, { state: 'failed', revision: `main@sha1:${SHA}`, reason: 'BuildFailed', message: 'kustomize build failed' });
    const older = fluxVerdict(
      ks({ observedGeneration: 2, lastAttemptedRevision: `main@sha1:${'b'.repeat(40)}`, conditions: [failed] }),
      SHA,
    );
    assert.equal(older.state, 'progressing');
  });

  test('given the Kustomization from before the sync, another revision Flux settled on since is `elsewhere`, not progress', () => {
    const other = `main@sha1:${'b'.repeat(40)}`;
    const before = ks({
      observedGeneration: 2,
      lastAppliedRevision: 'main@sha1:old',
      lastAttemptedRevision: 'main@sha1:old',
      conditions: [ready],
    });
    const applied = ks({ observedGeneration: 2, lastAppliedRevision: other, lastAttemptedRevision: other, conditions: [ready] });
    assert.deepEqual(fluxVerdict(applied, SHA, before), { state: 'elsewhere', revision: other, ready: true, message: ready.message });
    const attempted = ks({
      observedGeneration: 2,
      lastAppliedRevision: 'main@sha1:old',
      lastAttemptedRevision: other,
      conditions: [failed],
    });
    assert.equal(fluxVerdict(attempted, SHA, before).state, 'elsewhere', 'a failed attempt at another revision too');
    assert.equal(fluxVerdict(before, SHA, before).state, 'progressing', 'the revision from before the sync: Flux has not fetched yet');
    const reconciling = {
      ...applied,
      status: { ...applied.status, conditions: [{ type: 'Ready', status: 'Unknown' as const, reason: 'Progressing' }] },
    };
    assert.equal(fluxVerdict(reconciling, SHA, before).state, 'progressing', 'not settled yet');
    assert.equal(fluxVerdict(applied, SHA).state, 'progressing', 'without `before`, as fluxGitTarget reads it');
    assert.equal(commitOf(other), 'b'.repeat(40));
    assert.equal(commitOf(`sha-${SHA}@sha256:0123`), undefined, 'an OCI digest names no commit');
    assert.equal(refOf(`v1.2.0@sha1:${SHA}`), 'v1.2.0');
    assert.equal(refOf(`refs/heads/main@sha1:${SHA}`), 'main');
    assert.equal(refOf(`main/${SHA}`), undefined, 'Flux 0.x: no ref to tell');
  });

  test('revision forms: Flux 2 (`main@sha1:`), Flux 0.x (`main/`), OCI tags that carry the sha', () => {
    assert.ok(revisionMatches(`main@sha1:${SHA}`, SHA));
    assert.ok(revisionMatches(`main/${SHA}`, SHA));
    assert.ok(revisionMatches(`sha-${SHA}@sha256:0123`, SHA));
    assert.ok(!revisionMatches(`main@sha1:${'b'.repeat(40)}`, SHA));
    assert.ok(!revisionMatches(undefined, SHA));
  });
});

describe('gate options', () => {
  const options: GitopsGateOptions = {
    name: 'gate',
    project: 'acme/manifests',
    environments: [
      {
        name: 'staging',
        sync: { annotate: { kind: 'OCIRepository', namespace: 'flux-system', name: 'apps' } },
        observe: { kustomization: { namespace: 'flux-system', name: 'staging' } },
      },
      {
        name: 'production',
        sync: { receiver: { url: 'https://flux.example.com/hook/1', tokenSecret: 'T' } },
        observe: { kustomization: { namespace: 'prod', name: 'apps' } },
      },
    ],
    permissions: { http: ['https://chat.example.com/'] },
  };

  test('permissions are exactly what the options reach, plus the extra ones', () => {
    const withGroups = gatePermissions({ ...options, freezeApprovers: ['alice', 'acme/sre', 'group:ops'] });
    assert.deepEqual(
      withGroups.gitlab,
      { projects: ['acme/manifests'], groups: ['acme/sre', 'ops'] },
      'approver groups are read for their members',
    );
    assert.deepEqual(gatePermissions(options), {
      http: ['https://flux.example.com/hook/1', 'https://chat.example.com/'],
      gitlab: { projects: ['acme/manifests'] },
      secrets: ['T'],
      kubernetes: { namespaces: ['flux-system', 'prod'], kinds: ['Kustomization', 'Event', 'OCIRepository'] },
    });
  });

  test("triggers: pushes to the branch, or tag pushes matching the pattern, AutoFlow's own included", () => {
    assert.deepEqual(gateTriggers(options), [
      {
        event: 'com.gitlab.events.push',
        filter: { 'project.path_with_namespace': 'acme/manifests', ref: 'refs/heads/main' },
        runKey: ['project_id', 'checkout_sha'],
        includeOwnEvents: true,
      },
    ]);
    assert.deepEqual(gateTriggers({ ...options, tagPattern: 'v*' }), [
      {
        event: 'com.gitlab.events.tag_push',
        filter: { 'project.path_with_namespace': 'acme/manifests', ref: { glob: 'refs/tags/v*' } },
        runKey: ['project_id', 'checkout_sha', 'ref'],
        includeOwnEvents: true,
      },
    ]);
  });

  test('mistakes are reported when the workflow file loads', () => {
    assert.throws(() => checkGateOptions({ ...options, branch: 'main', tagPattern: 'v*' }), /branch or tagPattern, not both/);
    assert.throws(() => checkGateOptions({ ...options, environments: [] }), /environments is empty/);
    const twice = options.environments[0] as GitopsGateOptions['environments'][number];
    assert.throws(() => checkGateOptions({ ...options, environments: [twice, twice] }), /distinct/);
  });

  test('durations, approvers and URLs that could only fail at run time are refused when the file loads', () => {
    const [staging, production] = options.environments as [GateEnvironment, GateEnvironment];
    const broken: GitopsGateOptions = {
      ...options,
      pipelineTimeout: '2 hours',
      autoflowUrl: 'autoflow.example.com',
      environments: [
        staging,
        {
          ...production,
          sync: { receiver: { url: 'flux-hook', tokenSecret: 'T' } },
          observe: { ...production.observe, timeout: '15min' },
          approval: { approvers: [], required: 3 },
        },
      ],
    };
    assert.throws(
      () => checkGateOptions(broken),
      (error: Error) =>
        [
          /Invalid pipelineTimeout '2 hours': use milliseconds or a string like '500ms'/,
          /autoflowUrl 'autoflow\.example\.com' is not an absolute http\(s\) URL/,
          /environment production: Invalid observe\.timeout '15min'/,
          /environment production: sync\.receiver\.url 'flux-hook' is not an absolute http\(s\) URL/,
          /environment production: approval\.approvers is empty: list GitLab usernames or group paths/,
        ].every((pattern) => pattern.test(error.message)),
    );
    const approval = (required: number, approvers: string[]) => ({
      ...options,
      environments: [{ ...production, approval: { approvers, required } }],
    });
    assert.throws(() => checkGateOptions(approval(2, ['alice'])), /approval\.required is 2 but 1 approver/);
    assert.doesNotThrow(() => checkGateOptions(approval(2, ['alice', 'acme/sre'])), 'a group may have any number of members');
    assert.throws(() => checkGateOptions(approval(0, ['alice'])), /approval\.required is 0: use a whole number of at least 1/);
    assert.throws(() => checkGateOptions({ ...options, pollInterval: 0 }), /pollInterval must be longer than 0/);
    assert.throws(() => checkGateOptions({ ...options, freezeApprovers: [] }), /freezeApprovers is empty/);
  });

  test('two environments synced through one target are refused: the first sync would deploy both', () => {
    const [staging, production] = options.environments as [GateEnvironment, GateEnvironment];
    const shared = { ...options, environments: [staging, { ...production, sync: staging.sync, approval: { approvers: ['alice'] } }] };
    assert.throws(
      () => checkGateOptions(shared),
      /environments staging and production share OCIRepository flux-system\/apps: syncing staging deploys production at once, before staging is Ready and before production is approved\. Give production a Flux source of its own/,
    );
  });
});

describe("pipeline verdicts: green is GitLab's `success` and nothing else", () => {
  test('blocked, skipped, canceling and unknown statuses are not green', () => {
    assert.equal(verdictOfStatus('success'), 'success');
    assert.equal(verdictOfStatus('manual'), 'blocked', 'held at a manual job');
    assert.equal(verdictOfStatus('skipped'), 'skipped');
    assert.equal(verdictOfStatus('canceled'), 'canceled');
    for (const status of ['canceling', 'waiting_for_callback', 'scheduled', 'created', 'a status GitLab adds next year']) {
      assert.equal(verdictOfStatus(status), 'running', status);
    }
  });

  test('composed from jobs as GitLab does: allowed failures and allowed manual jobs pass, the rest must succeed', () => {
    const job = (status: string, allowFailure = false) => ({ status: status as 'success', allow_failure: allowFailure });
    assert.equal(compositeStatus([job('success'), job('manual', true)]), 'success', 'an optional manual job');
    assert.equal(compositeStatus([job('success'), job('failed', true)]), 'success', 'passed with warnings');
    assert.equal(compositeStatus([job('success'), job('manual')]), 'manual', 'a blocking manual job');
    assert.equal(compositeStatus([job('skipped'), job('manual', true)]), 'skipped', 'nothing ran');
    assert.equal(compositeStatus([]), 'skipped');
    assert.equal(compositeStatus([job('success'), job('canceled')]), 'canceled');
    assert.equal(compositeStatus([job('success'), job('canceling')]), 'running');
    assert.equal(compositeStatus([job('success'), job('failed'), job('manual')]), 'manual', 'as GitLab: manual before failed');
    assert.equal(compositeStatus([job('success'), job('a status GitLab adds next year')]), 'failed', 'unknown: never green');
  });
});

describe('rollout arithmetic', () => {
  test('z-score against a baseline; flat or tiny baselines', () => {
    const baseline = [1, 2, 3, 4, 5];
    assert.deepEqual(meanAndDeviation(baseline), { mean: 3, sd: Math.sqrt(2.5) });
    assert.equal(zScore(3, baseline), 0);
    assert.ok(Math.abs(zScore(3 + 2 * Math.sqrt(2.5), baseline) - 2) < 1e-9);
    assert.equal(zScore(1.1, [1, 1, 1]), Number.POSITIVE_INFINITY);
    assert.equal(zScore(1, [1, 1, 1]), 0);
    assert.equal(zScore(100, [1, 2]), 0, 'two samples say nothing');
  });

  test('release files', () => {
    assert.deepEqual(parseRelease('# x\nversion: "v1.2.3"\nweight: 30\n'), { version: 'v1.2.3', weight: 30 });
    assert.deepEqual(parseRelease('nothing'), {});
  });
});
