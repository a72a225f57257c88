import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fluxVerdict, revisionMatches, type KustomizationObject } from './flux.js';
import { checkGateOptions, gatePermissions, gateTriggers, type GitopsGateOptions } from './gitops-options.js';
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

  test('triggers: pushes to the branch, or tag pushes matching the pattern', () => {
    assert.deepEqual(gateTriggers(options), [
      { event: 'com.gitlab.events.push', filter: { 'project.path_with_namespace': 'acme/manifests', ref: 'refs/heads/main' } },
    ]);
    assert.deepEqual(gateTriggers({ ...options, tagPattern: 'v*' }), [
      { event: 'com.gitlab.events.tag_push', filter: { 'project.path_with_namespace': 'acme/manifests', ref: { glob: 'refs/tags/v*' } } },
    ]);
  });

  test('mistakes are reported when the workflow file loads', () => {
    assert.throws(() => checkGateOptions({ ...options, branch: 'main', tagPattern: 'v*' }), /branch or tagPattern, not both/);
    assert.throws(() => checkGateOptions({ ...options, environments: [] }), /environments is empty/);
    const twice = options.environments[0] as GitopsGateOptions['environments'][number];
    assert.throws(() => checkGateOptions({ ...options, environments: [twice, twice] }), /distinct/);
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
