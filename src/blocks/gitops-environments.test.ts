import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createKubernetesCapability } from '../capabilities/kubernetes/index.js';
import { createFluxReceiverStandIn } from '../testing/standins/flux-receiver.js';
import { createKubernetesStandIn, gitRepository, kustomization } from '../testing/standins/kubernetes-api.js';
import { createTestEnv, type TestEnv } from '../testing/test-env.js';
import type { GateResult } from './gitops-gate.js';

const PROJECT = 'acme/manifests';
const TOKEN = 'receiver-token-0123456789';

/**
 * docs/gitops.md §3's two environments, on the stand-ins: staging syncs by annotating the
 * GitRepository `platform` (main); production's Kustomization reads `productionSource`, and is
 * synced with `productionSync` (source text; `RECEIVER` stands for the Receiver's URL).
 */
async function stagingAndProduction(productionSource: string, productionSync: string) {
  const holder: { env?: TestEnv } = {};
  const kube = await createKubernetesStandIn({
    now: () => holder.env?.now() ?? Date.parse('2026-01-05T09:00:00Z'),
    reconcileMs: 30_000,
    revisionOf: (source) => {
      const branch = (source.spec?.['ref'] as { branch: string }).branch;
      return `${branch}@sha1:${holder.env?.gitlab.state.requireProject(PROJECT).repository.branches.get(branch) ?? ''}`;
    },
  });
  const url = `https://gitlab.example.com/${PROJECT}.git`;
  kube.add(gitRepository('flux-system', 'platform', { url, branch: 'main', interval: '24h' }));
  kube.add(gitRepository('flux-system', 'platform-production', { url, branch: 'env/production', interval: '1m' }));
  kube.add(kustomization('flux-system', 'staging', { source: { kind: 'GitRepository', name: 'platform' }, path: './staging' }));
  kube.add(kustomization('flux-system', 'production', { source: { kind: 'GitRepository', name: productionSource }, path: './production' }));
  const receiver = await createFluxReceiverStandIn({
    kubernetes: kube,
    name: 'gitlab-receiver',
    namespace: 'flux-system',
    token: TOKEN,
    resources: [{ kind: 'GitRepository', name: productionSource }],
  });
  const folder = workflowFolder();
  const file = folder.write(
    'gitops.ts',
    `import { gitopsGate } from 'autoflow/blocks';
export default gitopsGate({
  name: 'platform-gitops',
  project: '${PROJECT}',
  environments: [
    {
      name: 'staging',
      sync: { annotate: { kind: 'GitRepository', namespace: 'flux-system', name: 'platform' } },
      observe: { kustomization: { namespace: 'flux-system', name: 'staging' }, timeout: '15m' },
    },
    {
      name: 'production',
      sync: ${productionSync.replace('RECEIVER', JSON.stringify(receiver.url))},
      observe: { kustomization: { namespace: 'flux-system', name: 'production' }, timeout: '20m' },
      approval: { approvers: ['alice'], required: 1, when: 'always', timeout: '1d' },
    },
  ],
});
`,
  );
  const env = await createTestEnv({
    workflows: [file],
    gitlab: {
      users: ['autoflow-bot', 'dana', 'alice'],
      groups: [{ path: 'acme', members: { 'autoflow-bot': 'maintainer', dana: 'developer', alice: 'maintainer' } }],
      projects: [
        {
          path: PROJECT,
          files: { 'staging/web.yaml': 'replicas: 1\n' },
          branches: ['env/production'],
          ci: [{ name: 'validate', stage: 'test' }],
          protectDefaultBranch: false,
        },
      ],
    },
    secrets: { FLUX_RECEIVER_TOKEN: TOKEN },
    capabilities: [createKubernetesCapability({ server: kube.url, token: kube.token })],
  });
  holder.env = env;
  const appliedTo = (name: string) => kube.reconciles.filter((r) => r.kind === 'Kustomization' && r.name === name).map((r) => r.revision);
  /** Pushes a commit and passes its pipeline; the gate's run. */
  async function greenCommit(): Promise<{ sha: string; runId: string }> {
    const commit = await env.gitlab.actions.push('dana', PROJECT, { branch: 'main', files: { 'staging/web.yaml': 'replicas: 2\n' } });
    const pipeline = [...env.gitlab.state.pipelines.values()].find((p) => p.sha === commit.sha && p.source !== 'external');
    await env.gitlab.actions.setPipelineStatus(PROJECT, pipeline?.id ?? -1, 'success');
    const runId = (await env.operations.listRuns({ limit: 10 })).runs[0]?.id ?? '';
    return { sha: commit.sha, runId };
  }
  return {
    env,
    appliedTo,
    greenCommit,
    async close() {
      await env.close();
      await receiver.close();
      await kube.close();
      folder.remove();
    },
  };
}

describe('gitopsGate: environments must not share a Flux source', () => {
  test('the set-up the docs used to show — production on the same GitRepository — is refused before anything syncs', async () => {
    const stand = await stagingAndProduction('platform', `{ receiver: { url: RECEIVER, tokenSecret: 'FLUX_RECEIVER_TOKEN' } }`);
    try {
      const { runId } = await stand.greenCommit();
      const result = (await stand.env.result(runId, '1h')).result as unknown as GateResult;
      assert.equal(result.status, 'failed');
      assert.deepEqual(stand.appliedTo('production'), [], 'production is not deployed before its approval');
      assert.deepEqual(stand.appliedTo('staging'), []);
      assert.deepEqual(await stand.env.tasks(), []);
      const [issue] = stand.env.gitlab.issues(PROJECT);
      assert.match(
        String(issue?.description),
        /environments staging and production share GitRepository flux-system\/platform: syncing staging deploys production at once, before staging is Ready and before production is approved/,
      );
    } finally {
      await stand.close();
    }
  });

  test("the docs' set-up — production on its own environment branch — deploys production only once approved, exactly the commit", async () => {
    const stand = await stagingAndProduction('platform-production', `{ branch: { name: 'env/production' } }`);
    try {
      const { sha, runId } = await stand.greenCommit();
      await stand.env.advance('5m');
      assert.deepEqual(stand.appliedTo('staging'), [`main@sha1:${sha}`]);
      assert.deepEqual(stand.appliedTo('production'), [], 'production waits for its approval');
      const [task] = await stand.env.tasks();
      await stand.env.decideTask(task?.id ?? '', 'alice', 'approve');
      const result = (await stand.env.result(runId, '1h')).result as unknown as GateResult;
      assert.equal(result.status, 'deployed');
      assert.deepEqual(stand.appliedTo('production').at(-1), `env/production@sha1:${sha}`);
    } finally {
      await stand.close();
    }
  });
});
