import { CAN, type SimContext, authorize, publish } from '../context.js';
import { badRequest } from '../errors.js';
import { deploymentEvent, tierOf } from '../hooks/ci-events.js';
import type { DeploymentStatus, PipelineStatus, SimDeployment, SimEnvironment, SimJob, SimProject, SimUser } from '../model.js';
import { requireRef } from './git.js';

/** `review/feature-x` → `review-feature-x`, GitLab's slug (it adds a random suffix only on clashes). */
const slugOf = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 24) || 'env';

export function findOrCreateEnvironment(
  ctx: SimContext,
  project: SimProject,
  name: string,
  externalUrl: string | null = null,
): SimEnvironment {
  const { state } = ctx;
  const existing = [...state.environments.values()].find((env) => env.projectId === project.id && env.name === name);
  if (existing) return existing;
  const now = state.now();
  const environment: SimEnvironment = {
    id: state.nextId('environment'),
    projectId: project.id,
    name,
    slug: slugOf(name),
    tier: tierOf(name),
    externalUrl,
    state: 'available',
    createdAt: now,
    updatedAt: now,
  };
  state.environments.set(environment.id, environment);
  return environment;
}

const DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = ['created', 'running', 'success', 'failed', 'canceled', 'skipped', 'blocked'];

export function requireDeploymentStatus(value: string | undefined): DeploymentStatus {
  if (value === undefined) throw badRequest('status is missing');
  if (!(DEPLOYMENT_STATUSES as readonly string[]).includes(value)) throw badRequest('status does not have a valid value');
  return value as DeploymentStatus;
}

export interface DeploymentInput {
  environment: string | undefined;
  sha: string | undefined;
  ref: string | undefined;
  tag: boolean | undefined;
  status: string | undefined;
}

/** `POST /deployments`: a deployment made outside GitLab CI, reported through the API. */
export function createDeployment(
  ctx: SimContext,
  actor: SimUser,
  project: SimProject,
  input: DeploymentInput,
  jobId: number | null = null,
): SimDeployment {
  const { state } = ctx;
  authorize(state, actor, project, CAN.develop);
  for (const field of ['environment', 'sha', 'ref', 'tag'] as const)
    if (input[field] === undefined) throw badRequest(`${field} is missing`);
  const status = requireDeploymentStatus(input.status);
  const commit = requireRef(project, input.sha as string);
  const environment = findOrCreateEnvironment(ctx, project, input.environment as string);
  const now = state.now();
  const deployment: SimDeployment = {
    id: state.nextId('deployment'),
    iid: ++project.iids.deployment,
    projectId: project.id,
    environmentId: environment.id,
    ref: input.ref as string,
    sha: commit.sha,
    tag: input.tag as boolean,
    status,
    userId: actor.id,
    jobId,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
  };
  state.deployments.set(deployment.id, deployment);
  return announceDeployment(ctx, actor, deployment, 'deployment_created');
}

export function updateDeployment(ctx: SimContext, actor: SimUser, deployment: SimDeployment, status: string | undefined): SimDeployment {
  const project = ctx.state.requireProject(deployment.projectId);
  authorize(ctx.state, actor, project, CAN.develop);
  const next = requireDeploymentStatus(status);
  if (next === deployment.status) return deployment;
  deployment.status = next;
  deployment.updatedAt = ctx.state.now();
  return announceDeployment(ctx, actor, deployment, 'deployment_updated');
}

/** GitLab fires deployment hooks when a deployment starts running or finishes, not when it is created or blocked. */
function announceDeployment(ctx: SimContext, actor: SimUser, deployment: SimDeployment, audit: string): SimDeployment {
  const project = ctx.state.requireProject(deployment.projectId);
  const environment = ctx.state.environments.get(deployment.environmentId) as SimEnvironment;
  const finished = ['success', 'failed', 'canceled', 'skipped'].includes(deployment.status);
  if (finished) deployment.finishedAt = deployment.updatedAt;
  environment.updatedAt = deployment.updatedAt;
  const hooked = deployment.status === 'running' || (finished && deployment.status !== 'skipped');
  publish(ctx, {
    actor,
    on: project,
    audit,
    details: { environment: environment.name, status: deployment.status },
    hook: hooked ? deploymentEvent(ctx.state, deployment) : undefined,
  });
  return deployment;
}

/** A CI job with an environment deploys: its deployment follows the job's status. */
export function recordDeployment(ctx: SimContext, job: SimJob, status: PipelineStatus): void {
  const { state } = ctx;
  const actor = state.requireUser(job.userId);
  const existing = [...state.deployments.values()].find((deployment) => deployment.jobId === job.id);
  const mapped: DeploymentStatus =
    status === 'running' || status === 'success' || status === 'failed' || status === 'canceled' || status === 'skipped'
      ? status
      : 'created';
  if (existing) {
    updateDeployment(ctx, actor, existing, mapped);
    return;
  }
  const pipeline = state.pipelines.get(job.pipelineId);
  if (!pipeline) return;
  const project = state.requireProject(job.projectId);
  createDeployment(
    ctx,
    actor,
    project,
    { environment: job.environment ?? undefined, sha: pipeline.sha, ref: pipeline.ref, tag: pipeline.tag, status: mapped },
    job.id,
  );
}
