import { createKubernetesCapability } from '../../src/capabilities/kubernetes/index.js';
import type { Logger } from '../../src/core/ports.js';
import { createTestEnv, type TestEnv } from '../../src/testing/index.js';
import type { SimCommit, SimJob, SimPipeline } from '../../src/testing/gitlab-sim/model.js';
import type { GroupSeed } from '../../src/testing/gitlab-sim/seed.js';
import { createFluxReceiverStandIn, type FluxReceiverStandIn } from '../../src/testing/standins/flux-receiver.js';
import {
  createKubernetesStandIn,
  gitRepository,
  kustomization,
  type ApplyOutcome,
  type KubeObject,
  type KubernetesStandIn,
} from '../../src/testing/standins/kubernetes-api.js';
import { workflowFolder, type WorkflowFolder } from '../helpers/workflow-files.js';

export const PROJECT = 'acme/manifests';
export const RECEIVER_TOKEN = 'receiver-token-0123456789';

export interface GateFixtureOptions {
  /** How the gate triggers the sync. @default 'receiver' */
  sync?: 'receiver' | 'annotate' | 'branch';
  /** Extra gate options, as TypeScript source (`approval: {...}`, `freezeApprovers: [...]`). */
  gateSource?: string;
  /** Environment options, as source, merged into the one environment. */
  environmentSource?: string;
  outcome?: (kustomization: KubeObject, revision: string) => ApplyOutcome;
  /** False: the server has no `kubernetes` capability (not configured). @default true */
  kubernetes?: boolean;
  /** The server's logger (deploy warnings, engine errors). @default silent */
  logger?: Logger;
  /** More GitLab groups (besides `acme`, of which every user is a member). */
  groups?: GroupSeed[];
}

/**
 * A manifests project in the GitLab simulator, a Kubernetes API stand-in with Flux's objects, a
 * Flux Receiver, and the gate deployed on a test environment (virtual time; the stand-ins read it).
 */
export class GateFixture {
  private constructor(
    readonly env: TestEnv,
    readonly kube: KubernetesStandIn,
    readonly receiver: FluxReceiverStandIn,
    private readonly folder: WorkflowFolder,
  ) {}

  static async create(options: GateFixtureOptions = {}): Promise<GateFixture> {
    const clock: { now: () => number } = { now: () => Date.parse('2026-01-05T09:00:00Z') };
    const holder: { env?: TestEnv } = {};
    const kube = await createKubernetesStandIn({
      now: () => clock.now(),
      reconcileMs: 30_000,
      revisionOf: (source) => {
        const branch = (source.spec?.ref as { branch?: string } | undefined)?.branch ?? 'main';
        const sha = holder.env?.gitlab.state.requireProject(PROJECT).repository.branches.get(branch);
        return sha === undefined ? undefined : `${branch}@sha1:${sha}`;
      },
      ...(options.outcome ? { outcome: options.outcome } : {}),
    });
    const branch = options.sync === 'branch' ? 'env/production' : 'main';
    // With a Receiver or annotations, a long interval: only the gate makes Flux fetch. An
    // environment branch is what Flux polls for (every minute).
    const interval = options.sync === 'branch' ? '1m' : '24h';
    kube.add(gitRepository('flux-system', 'manifests', { url: `https://gitlab.example.com/${PROJECT}.git`, branch, interval }));
    kube.add(kustomization('flux-system', 'apps', { source: { kind: 'GitRepository', name: 'manifests' }, path: './apps' }));
    const receiver = await createFluxReceiverStandIn({
      kubernetes: kube,
      name: 'gitlab-receiver',
      namespace: 'flux-system',
      token: RECEIVER_TOKEN,
      resources: [{ kind: 'GitRepository', name: 'manifests' }],
    });
    const sync =
      options.sync === 'annotate'
        ? `{ annotate: { kind: 'GitRepository', namespace: 'flux-system', name: 'manifests' } }`
        : options.sync === 'branch'
          ? `{ branch: { name: 'env/production' } }`
          : `{ receiver: { url: ${JSON.stringify(receiver.url)}, tokenSecret: 'FLUX_RECEIVER_TOKEN' } }`;
    const folder = workflowFolder();
    const file = folder.write(
      'gitops.ts',
      `import { gitopsGate } from 'autoflow/blocks';
export default gitopsGate({
  name: 'manifests-gate',
  project: '${PROJECT}',
  autoflowUrl: 'https://autoflow.example.com',
  pipelineTimeout: '1h',
  retryWindow: '30m',
  ${options.gateSource ?? ''}
  environments: [{
    name: 'production',
    sync: ${sync},
    observe: { kustomization: { namespace: 'flux-system', name: 'apps' }, timeout: '10m', interval: '15s' },
    ${options.environmentSource ?? ''}
  }],
});
`,
    );
    const env = await createTestEnv({
      workflows: [file],
      gitlab: {
        users: ['autoflow-bot', 'dana', 'alice', 'sam'],
        groups: [
          { path: 'acme', members: { 'autoflow-bot': 'maintainer', dana: 'developer', alice: 'maintainer', sam: 'maintainer' } },
          ...(options.groups ?? []),
        ],
        projects: [
          {
            path: PROJECT,
            files: { 'apps/web.yaml': 'replicas: 1\n' },
            branches: options.sync === 'branch' ? ['env/production'] : [],
            ci: [{ name: 'validate', stage: 'test' }],
            protectDefaultBranch: false,
          },
        ],
      },
      secrets: { FLUX_RECEIVER_TOKEN: RECEIVER_TOKEN },
      capabilities: options.kubernetes === false ? [] : [createKubernetesCapability({ server: kube.url, token: kube.token })],
      ...(options.logger ? { logger: options.logger } : {}),
    });
    holder.env = env;
    clock.now = () => env.now();
    return new GateFixture(env, kube, receiver, folder);
  }

  /** Dana (or `by`) pushes a change of the manifests to main; GitLab starts its pipeline. */
  async push(replicas: number, by = 'dana'): Promise<SimCommit> {
    return this.env.gitlab.actions.push(by, PROJECT, { branch: 'main', files: { 'apps/web.yaml': `replicas: ${replicas}\n` } });
  }

  pipelineOf(sha: string): SimPipeline {
    const pipeline = [...this.env.gitlab.state.pipelines.values()]
      .filter((p) => p.sha === sha && p.source !== 'external')
      .sort((a, b) => b.id - a.id)[0];
    if (!pipeline) throw new Error(`no pipeline for ${sha}`);
    return pipeline;
  }

  async finishPipeline(sha: string, status: 'success' | 'failed' | 'canceled'): Promise<void> {
    await this.env.gitlab.actions.setPipelineStatus(PROJECT, this.pipelineOf(sha).id, 'running');
    await this.env.gitlab.actions.setPipelineStatus(PROJECT, this.pipelineOf(sha).id, status);
  }

  /** The gate's run for `sha`. */
  async runFor(sha: string): Promise<string> {
    const { runs } = await this.env.operations.listRuns({ limit: 100 });
    for (const run of runs) {
      const input = run.input as { data?: { checkout_sha?: string } } | null;
      if (run.workflow === 'manifests-gate' && input?.data?.checkout_sha === sha) return run.id;
    }
    throw new Error(`no gate run for ${sha}`);
  }

  /** The commit status `autoflow/gitops: production` of a commit, as GitLab shows it now. */
  status(sha: string, environment = 'production'): SimJob | undefined {
    const pipelines = new Set([...this.env.gitlab.state.pipelines.values()].filter((p) => p.sha === sha).map((p) => p.id));
    return [...this.env.gitlab.state.jobs.values()].find(
      (job) => pipelines.has(job.pipelineId) && job.name === `autoflow/gitops: ${environment}`,
    );
  }

  /** The successive states the gate set for a commit's status, from its calls. */
  async statusHistory(runId: string): Promise<string[]> {
    return (await this.env.calls(runId))
      .filter((call) => call.capability === 'gitlab' && call.method === 'commitStatuses.set')
      .map((call) => (call.args as { attributes: { state: string } }).attributes.state);
  }

  deployments(sha?: string) {
    return [...this.env.gitlab.state.deployments.values()].filter((d) => sha === undefined || d.sha === sha);
  }

  /** Revisions the Kustomization applied (or tried to), in order. */
  applied(): Array<{ revision: string | undefined; ok: boolean }> {
    return this.kube.reconciles.filter((r) => r.kind === 'Kustomization').map(({ revision, ok }) => ({ revision, ok }));
  }

  gateIssues() {
    return this.env.gitlab.issues(PROJECT).filter((issue) => String(issue.title).startsWith('GitOps gate manifests-gate'));
  }

  async close(): Promise<void> {
    await this.env.close();
    await this.receiver.close();
    await this.kube.close();
    this.folder.remove();
  }
}
