import { CAN, type SimContext, authorize, publish } from '../context.js';
import { badRequest, notFound, refused } from '../errors.js';
import { jobEvent, pipelineEvent } from '../hooks/ci-events.js';
import { PIPELINE_STATUSES, type PipelineStatus, type SimJob, type SimPipeline, type SimProject, type SimUser } from '../model.js';
import { recordDeployment } from './deployments.js';
import { resolveRef } from './git.js';

/** Statuses after which a job or pipeline does not change by itself. */
const FINISHED: ReadonlySet<PipelineStatus> = new Set(['success', 'failed', 'canceled', 'skipped']);
export const isFinished = (status: PipelineStatus): boolean => FINISHED.has(status);

export function requireStatus(value: string | undefined, field = 'status'): PipelineStatus {
  if (value === undefined) throw badRequest(`${field} is missing`);
  if (!(PIPELINE_STATUSES as readonly string[]).includes(value)) throw badRequest(`${field} does not have a valid value`);
  return value as PipelineStatus;
}

export interface PipelineInput {
  ref: string;
  source: string;
  beforeSha?: string | null | undefined;
  variables?: { key: string; value: string }[] | undefined;
  mergeRequestId?: number | undefined;
  /** Jobs to create. @default the project's `ciJobs` */
  jobs?: readonly { name: string; stage: string; environment?: string | undefined }[] | undefined;
}

/**
 * A new pipeline for the head of `ref`, with the project's jobs: the first stage pending, the
 * others created, as a fresh GitLab pipeline looks before a runner picks anything up.
 */
export function createPipeline(ctx: SimContext, actor: SimUser, project: SimProject, input: PipelineInput): SimPipeline {
  const { state } = ctx;
  authorize(state, actor, project, CAN.develop);
  const commit = resolveRef(project, input.ref);
  if (!commit) throw refused('Reference not found');
  const now = state.now();
  const templates = input.jobs ?? project.ciJobs;
  const pipeline: SimPipeline = {
    id: state.nextId('pipeline'),
    iid: ++project.iids.pipeline,
    projectId: project.id,
    sha: commit.sha,
    beforeSha: input.beforeSha ?? commit.parentShas[0] ?? '0000000000000000000000000000000000000000',
    ref: input.ref,
    tag: project.repository.tags.has(input.ref),
    status: templates.length === 0 ? 'created' : 'pending',
    source: input.source,
    userId: actor.id,
    mergeRequestId: input.mergeRequestId ?? null,
    variables: input.variables ?? [],
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
  };
  state.pipelines.set(pipeline.id, pipeline);
  const firstStage = templates[0]?.stage;
  for (const template of templates) {
    addJob(
      ctx,
      pipeline,
      { name: template.name, stage: template.stage, environment: template.environment ?? null, generic: null },
      template.stage === firstStage ? 'pending' : 'created',
    );
  }
  publish(ctx, { actor, on: project, audit: 'pipeline_created', details: { pipeline_id: pipeline.id } });
  return announce(ctx, actor, pipeline, state.jobsOf(pipeline));
}

function addJob(
  ctx: SimContext,
  pipeline: SimPipeline,
  fields: Pick<SimJob, 'name' | 'stage' | 'environment' | 'generic'>,
  status: PipelineStatus,
): SimJob {
  const job: SimJob = {
    id: ctx.state.nextId('job'),
    projectId: pipeline.projectId,
    pipelineId: pipeline.id,
    status,
    userId: pipeline.userId,
    allowFailure: false,
    failureReason: null,
    createdAt: ctx.state.now(),
    startedAt: null,
    finishedAt: null,
    ...fields,
  };
  ctx.state.jobs.set(job.id, job);
  return job;
}

/** Moves a job and keeps its times as GitLab would; a job with an environment records its deployment. */
function moveJob(ctx: SimContext, job: SimJob, status: PipelineStatus): boolean {
  if (job.status === status) return false;
  const now = ctx.state.now();
  job.status = status;
  if (status === 'running' || (isFinished(status) && status !== 'skipped')) job.startedAt ??= now;
  if (status === 'pending' || status === 'created') {
    job.startedAt = null;
    job.finishedAt = null;
    job.failureReason = null;
  }
  if (isFinished(status)) job.finishedAt = now;
  if (status === 'failed') job.failureReason ??= 'script_failure';
  if (job.environment !== null && (status === 'running' || isFinished(status))) recordDeployment(ctx, job, status);
  return true;
}

function movePipeline(pipeline: SimPipeline, status: PipelineStatus, now: number): void {
  pipeline.status = status;
  pipeline.updatedAt = now;
  if (status === 'running') pipeline.startedAt ??= now;
  if (isFinished(status)) {
    pipeline.startedAt ??= now;
    pipeline.finishedAt = now;
  } else pipeline.finishedAt = null;
}

/** Job hooks for the jobs that changed, then the pipeline hook, in the order GitLab sends them. */
function announce(ctx: SimContext, actor: SimUser, pipeline: SimPipeline, changed: readonly SimJob[]): SimPipeline {
  const project = ctx.state.requireProject(pipeline.projectId);
  for (const job of changed) publish(ctx, { actor, on: project, hook: jobEvent(ctx.state, job) });
  publish(ctx, { actor, on: project, hook: pipelineEvent(ctx.state, pipeline) });
  return pipeline;
}

/**
 * Drives a pipeline as its runner would, so tests need no CI: unfinished jobs follow the
 * pipeline, except that on failure the first unfinished job fails and the rest are skipped,
 * and on `running` only the first unfinished stage runs.
 */
export function setPipelineStatus(ctx: SimContext, actor: SimUser, pipeline: SimPipeline, status: PipelineStatus): SimPipeline {
  const open = ctx.state.jobsOf(pipeline).filter((job) => !isFinished(job.status));
  const firstStage = open[0]?.stage;
  const changed = open.filter((job, index) => {
    if (status === 'failed') return moveJob(ctx, job, index === 0 ? 'failed' : 'skipped');
    if (status === 'running') return job.stage === firstStage && moveJob(ctx, job, 'running');
    return moveJob(ctx, job, status);
  });
  movePipeline(pipeline, status, ctx.state.now());
  return announce(ctx, actor, pipeline, changed);
}

/** `POST /pipelines/:id/retry`: failed, canceled and skipped jobs run again. */
export function retryPipeline(ctx: SimContext, actor: SimUser, pipeline: SimPipeline): SimPipeline {
  authorize(ctx.state, actor, ctx.state.requireProject(pipeline.projectId), CAN.develop);
  const retried = ctx.state
    .jobsOf(pipeline)
    .filter((job) => job.status === 'failed' || job.status === 'canceled' || job.status === 'skipped');
  if (retried.length === 0) throw refused('No job to retry');
  for (const job of retried) moveJob(ctx, job, 'pending');
  movePipeline(pipeline, 'pending', ctx.state.now());
  return announce(ctx, actor, pipeline, retried);
}

/** `POST /pipelines/:id/cancel`: unfinished jobs are canceled; a finished pipeline stays as it is. */
export function cancelPipeline(ctx: SimContext, actor: SimUser, pipeline: SimPipeline): SimPipeline {
  authorize(ctx.state, actor, ctx.state.requireProject(pipeline.projectId), CAN.develop);
  return isFinished(pipeline.status) ? pipeline : setPipelineStatus(ctx, actor, pipeline, 'canceled');
}

/** A pipeline's status from its jobs, as GitLab composes it (allowed failures count as success). */
export function compositeStatus(jobs: readonly SimJob[]): PipelineStatus {
  const statuses = jobs.map((job) => (job.status === 'failed' && job.allowFailure ? 'success' : job.status));
  const all = (...wanted: PipelineStatus[]): boolean => statuses.every((status) => wanted.includes(status));
  if (statuses.length === 0 || all('skipped')) return 'skipped';
  if (all('created')) return 'created';
  if (all('pending', 'created')) return 'pending';
  if (!all('success', 'failed', 'canceled', 'skipped')) return 'running';
  if (statuses.includes('failed')) return 'failed';
  if (statuses.includes('canceled')) return 'canceled';
  return 'success';
}

const COMMIT_STATES: readonly PipelineStatus[] = ['pending', 'running', 'success', 'failed', 'canceled', 'skipped'];

export interface CommitStatusInput {
  state: string | undefined;
  ref?: string | undefined;
  name?: string | undefined;
  targetUrl?: string | undefined;
  description?: string | undefined;
  coverage?: number | undefined;
  pipelineId?: number | undefined;
}

/**
 * `POST /statuses/:sha`: an external CI reports on a commit. GitLab keeps such statuses as jobs of
 * an `external` pipeline for the sha and ref, one job per `name`, and derives the pipeline's status.
 */
export function recordCommitStatus(ctx: SimContext, actor: SimUser, project: SimProject, sha: string, input: CommitStatusInput): SimJob {
  const { state } = ctx;
  authorize(state, actor, project, CAN.develop);
  const status = requireStatus(input.state, 'state');
  if (!COMMIT_STATES.includes(status)) throw badRequest('state does not have a valid value');
  const commit = resolveRef(project, sha);
  if (!commit) throw notFound('Commit');
  const ref = input.ref ?? [...project.repository.branches].find(([, head]) => head === commit.sha)?.[0] ?? project.defaultBranch;
  const name = input.name ?? 'default';
  const pipeline =
    (input.pipelineId === undefined ? undefined : state.requirePipeline(project, input.pipelineId)) ??
    state.pipelinesOf(project).find((p) => p.sha === commit.sha && p.ref === ref && p.source === 'external') ??
    createPipeline(ctx, actor, project, { ref, source: 'external', jobs: [] });
  pipeline.sha = commit.sha;
  const generic = { targetUrl: input.targetUrl ?? null, description: input.description ?? null, coverage: input.coverage ?? null };
  const existing = state.jobsOf(pipeline).find((job) => job.name === name && job.generic !== null);
  const job = existing ?? addJob(ctx, pipeline, { name, stage: 'external', environment: null, generic }, 'created');
  job.generic = generic;
  job.userId = actor.id;
  moveJob(ctx, job, status);
  movePipeline(pipeline, compositeStatus(state.jobsOf(pipeline)), state.now());
  announce(ctx, actor, pipeline, [job]);
  return job;
}
