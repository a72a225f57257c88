import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HistoryEvent } from '../../src/core/model.js';
import { callsOf } from '../../src/testing/calls.js';
import { createGitLabSimulator } from '../../src/testing/gitlab-sim/index.js';
import { createFluxReceiverStandIn } from '../../src/testing/standins/flux-receiver.js';
import { createKubernetesStandIn, gitRepository, kustomization } from '../../src/testing/standins/kubernetes-api.js';
import { freePort, ServerProcess } from '../helpers/server-process.js';

/**
 * The gate under a real crash: `autoflow server` (SQLite file, a GitLab simulator and the Flux
 * stand-ins outside it, on loopback) is killed with SIGKILL while the gate watches Flux after
 * syncing, and started again on the same database. The run resumes and the commit is synced and
 * applied exactly once, with its commit status and deployment ending `success`.
 */
const PROJECT = 'acme/manifests';
const WEBHOOK_SECRET = 'crash-webhook-secret';

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // the server may be down between a kill and its restart
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('the server killed mid-gate resumes and still deploys exactly once', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-gitops-crash-'));
  const port = await freePort();
  const sim = createGitLabSimulator({
    webhookRetryDelaysMs: [300, 600, 1200, 2400, 4800],
    seed: {
      users: ['autoflow-bot', 'dana'],
      tokens: { 'autoflow-bot': 'bot-token' },
      groups: [{ path: 'acme', members: { 'autoflow-bot': 'maintainer', dana: 'developer' } }],
      projects: [
        {
          path: PROJECT,
          files: { 'apps/web.yaml': 'replicas: 1\n' },
          ci: [{ name: 'validate', stage: 'test' }],
          protectDefaultBranch: false,
        },
      ],
    },
  });
  const gitlab = await sim.listen();
  sim.webhooks.add({ project: PROJECT, url: `http://127.0.0.1:${port}/webhooks/gitlab`, token: WEBHOOK_SECRET });
  const kube = await createKubernetesStandIn({
    reconcileMs: 3000,
    revisionOf: (source) => {
      const branch = (source.spec?.ref as { branch: string }).branch;
      const sha = sim.state.requireProject(PROJECT).repository.branches.get(branch);
      return sha === undefined ? undefined : `${branch}@sha1:${sha}`;
    },
  });
  kube.add(gitRepository('flux-system', 'manifests', { url: `${gitlab.url}/${PROJECT}.git`, branch: 'main', interval: '24h' }));
  kube.add(kustomization('flux-system', 'apps', { source: { kind: 'GitRepository', name: 'manifests' } }));
  const receiver = await createFluxReceiverStandIn({
    kubernetes: kube,
    name: 'gitlab',
    namespace: 'flux-system',
    token: 'receiver-token',
    resources: [{ kind: 'GitRepository', name: 'manifests' }],
  });

  mkdirSync(join(dir, 'workflows'));
  writeFileSync(
    join(dir, 'workflows', 'gitops.ts'),
    `import { gitopsGate } from 'autoflow/blocks';
export default gitopsGate({
  name: 'manifests-gate',
  project: '${PROJECT}',
  pollInterval: '2s',
  environments: [{
    name: 'production',
    sync: { receiver: { url: ${JSON.stringify(receiver.url)}, tokenSecret: 'FLUX_RECEIVER_TOKEN' } },
    observe: { kustomization: { namespace: 'flux-system', name: 'apps' }, timeout: '2m', interval: '500ms' },
  }],
});
`,
  );
  writeFileSync(
    join(dir, 'autoflow.config.mjs'),
    `export default { kubernetes: { server: ${JSON.stringify(kube.url)}, token: ${JSON.stringify(kube.token)} } };\n`,
  );
  const server = new ServerProcess({
    port,
    db: `sqlite:${join(dir, 'autoflow.db')}`,
    workflowsDir: join(dir, 'workflows'),
    token: 'gitops-crash-token',
    env: {
      AUTOFLOW_CONFIG: join(dir, 'autoflow.config.mjs'),
      AUTOFLOW_GITLAB_URL: gitlab.url,
      AUTOFLOW_GITLAB_TOKEN: 'bot-token',
      AUTOFLOW_GITLAB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      AUTOFLOW_SECRET_FLUX_RECEIVER_TOKEN: 'receiver-token',
    },
  });
  await server.start();
  try {
    const commit = sim.actions.push('dana', PROJECT, { branch: 'main', files: { 'apps/web.yaml': 'replicas: 3\n' } });
    const runId = await until('the gate run', async () => {
      const { runs } = (await (await server.api('/api/v1/runs?workflow=manifests-gate')).json()) as { runs: Array<{ id: string }> };
      return runs[0]?.id;
    });
    const pipeline = [...sim.state.pipelines.values()].find((p) => p.sha === commit.sha);
    assert.ok(pipeline, 'the push started a pipeline');
    sim.actions.setPipelineStatus(PROJECT, pipeline.id, 'running');
    sim.actions.setPipelineStatus(PROJECT, pipeline.id, 'success');

    // Kill once the sync's result is recorded: the gate is now watching the Kustomization.
    const history = async (): Promise<HistoryEvent[]> =>
      ((await (await server.api(`/api/v1/runs/${encodeURIComponent(runId)}/history`)).json()) as { events: HistoryEvent[] }).events;
    await until('the recorded sync', async () =>
      callsOf(await history()).some((call) => call.capability === 'http' && call.status === 'completed') ? true : undefined,
    );
    await server.kill();
    assert.equal(kube.get('Kustomization', 'flux-system', 'apps')?.status?.lastAppliedRevision, undefined, 'killed before Flux applied it');
    await server.start();

    const run = await until(`the end of the run; server output:\n${server.output.slice(-3000)}`, async () => {
      const current = (await (await server.api(`/api/v1/runs/${encodeURIComponent(runId)}`)).json()) as {
        status: string;
        result?: { status: string };
      };
      return current.status === 'running' ? undefined : current;
    });
    assert.equal(run.status, 'completed', JSON.stringify(run));
    assert.equal(run.result?.status, 'deployed');
    assert.equal(receiver.received.filter((hook) => hook.accepted).length, 1, 'the sync was not repeated after the restart');
    assert.deepEqual(
      kube.reconciles.filter((r) => r.kind === 'Kustomization').map((r) => [r.revision, r.ok]),
      [[`main@sha1:${commit.sha}`, true]],
      'Flux applied the commit once',
    );
    const deployments = [...sim.state.deployments.values()].filter((d) => d.sha === commit.sha);
    assert.deepEqual(
      deployments.map((d) => d.status),
      ['success'],
    );
    const statuses = [...sim.state.jobs.values()].filter(
      (job) => job.pipelineId === pipeline.id && job.name === 'autoflow/gitops: production',
    );
    assert.deepEqual(
      statuses.map((job) => job.status),
      ['success'],
    );
  } finally {
    await server.kill();
    sim.webhooks.stop();
    await Promise.all([gitlab.close(), receiver.close(), kube.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
});
