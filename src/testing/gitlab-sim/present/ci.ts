import { restTime, restTimeOrNull, seconds } from '../format.js';
import {
  SIM_RUNNER,
  type PipelineStatus,
  type SimAuditEvent,
  type SimDeployment,
  type SimEnvironment,
  type SimFreezePeriod,
  type SimJob,
  type SimPipeline,
} from '../model.js';
import type { SimState } from '../state.js';
import { projectPagePath } from '../web-paths.js';
import { type Entity, commitBasic, environmentBasic, pipelineBasic, userBasic, userOrNull } from './basic.js';
import { projectEntity } from './people.js';

/** REST entities for CI and delivery: pipelines, jobs, commit statuses, environments, deployments, freeze periods, audit events. */

// icon, text, label per status, as GitLab's `detailed_status` presents them.
const DETAILED: Record<PipelineStatus, [string, string, string]> = {
  created: ['status_created', 'Created', 'created'],
  waiting_for_resource: ['status_pending', 'Waiting', 'waiting for resource'],
  preparing: ['status_preparing', 'Preparing', 'preparing'],
  pending: ['status_pending', 'Pending', 'pending'],
  running: ['status_running', 'Running', 'running'],
  success: ['status_success', 'Passed', 'passed'],
  failed: ['status_failed', 'Failed', 'failed'],
  canceled: ['status_canceled', 'Canceled', 'canceled'],
  skipped: ['status_skipped', 'Skipped', 'skipped'],
  manual: ['status_manual', 'Manual', 'manual action'],
  scheduled: ['status_scheduled', 'Scheduled', 'delayed'],
};

export function pipelineDetail(state: SimState, pipeline: SimPipeline): Entity {
  const project = state.requireProject(pipeline.projectId);
  const [icon, text, label] = DETAILED[pipeline.status];
  const commit = project.repository.commits.get(pipeline.sha);
  return {
    ...pipelineBasic(state, pipeline),
    before_sha: pipeline.beforeSha,
    tag: pipeline.tag,
    yaml_errors: null,
    user: userOrNull(state, pipeline.userId),
    started_at: restTimeOrNull(pipeline.startedAt),
    finished_at: restTimeOrNull(pipeline.finishedAt),
    committed_at: restTimeOrNull(commit?.createdAt ?? null),
    duration: seconds(pipeline.startedAt, pipeline.finishedAt),
    queued_duration: seconds(pipeline.createdAt, pipeline.startedAt),
    coverage: null,
    detailed_status: {
      icon,
      text,
      label,
      group: pipeline.status,
      tooltip: label,
      has_details: true,
      details_path: new URL(pipelineBasic(state, pipeline)['web_url'] as string).pathname,
      favicon: `/assets/ci_favicons/favicon_${icon}.png`,
    },
  };
}

/** `GET /jobs/:id`. `failure_reason` appears on failed jobs only, as in GitLab. */
export function jobEntity(state: SimState, job: SimJob): Entity {
  const pipeline = state.pipelines.get(job.pipelineId) as SimPipeline;
  const project = state.requireProject(job.projectId);
  const commit = project.repository.commits.get(pipeline.sha);
  return {
    id: job.id,
    status: job.status,
    stage: job.stage,
    name: job.name,
    ref: pipeline.ref,
    tag: pipeline.tag,
    coverage: job.generic?.coverage ?? null,
    allow_failure: job.allowFailure,
    created_at: restTime(job.createdAt),
    started_at: restTimeOrNull(job.startedAt),
    finished_at: restTimeOrNull(job.finishedAt),
    erased_at: null,
    duration: seconds(job.startedAt, job.finishedAt),
    queued_duration: seconds(job.createdAt, job.startedAt),
    user: userOrNull(state, job.userId),
    commit: commit ? commitBasic(state, project, commit) : null,
    pipeline: pipelineBasic(state, pipeline),
    web_url: state.webUrl(projectPagePath(state, project, 'jobs', job.id)),
    project: { ci_job_token_scope_enabled: false },
    artifacts: [],
    artifacts_expire_at: null,
    tag_list: [],
    runner:
      job.startedAt === null
        ? null
        : {
            id: SIM_RUNNER.id,
            description: SIM_RUNNER.description,
            ip_address: '127.0.0.1',
            active: true,
            is_shared: true,
            name: 'gitlab-runner',
            online: true,
            status: 'online',
          },
    archived: false,
    ...(job.status === 'failed' ? { failure_reason: job.failureReason } : {}),
  };
}

/** A commit status (`GenericCommitStatus`), as `/repository/commits/:sha/statuses` lists it. */
export function commitStatusEntity(state: SimState, job: SimJob): Entity {
  const pipeline = state.pipelines.get(job.pipelineId) as SimPipeline;
  return {
    id: job.id,
    sha: pipeline.sha,
    ref: pipeline.ref,
    status: job.status,
    name: job.name,
    target_url: job.generic?.targetUrl ?? null,
    description: job.generic?.description ?? null,
    created_at: restTime(job.createdAt),
    started_at: restTimeOrNull(job.startedAt),
    finished_at: restTimeOrNull(job.finishedAt),
    allow_failure: job.allowFailure,
    coverage: job.generic?.coverage ?? null,
    pipeline_id: pipeline.id,
    author: userBasic(state, state.requireUser(job.userId)),
  };
}

/** The listed environment; `detailed` adds the project and last deployment, as `GET /environments/:id`. */
export function environmentEntity(state: SimState, environment: SimEnvironment, detailed: boolean): Entity {
  const entity = { ...environmentBasic(environment), state: environment.state, tier: environment.tier };
  if (!detailed) return entity;
  const last = [...state.deployments.values()].filter((d) => d.environmentId === environment.id && d.status === 'success').at(-1);
  return {
    ...entity,
    project: projectEntity(state, state.requireProject(environment.projectId)),
    last_deployment: last ? deploymentEntity(state, last) : null,
  };
}

export function deploymentEntity(state: SimState, deployment: SimDeployment): Entity {
  const job = deployment.jobId === null ? undefined : state.jobs.get(deployment.jobId);
  return {
    id: deployment.id,
    iid: deployment.iid,
    ref: deployment.ref,
    sha: deployment.sha,
    created_at: restTime(deployment.createdAt),
    updated_at: restTime(deployment.updatedAt),
    finished_at: restTimeOrNull(deployment.finishedAt),
    status: deployment.status,
    user: userOrNull(state, deployment.userId),
    environment: environmentBasic(state.environments.get(deployment.environmentId) as SimEnvironment),
    deployable: job ? jobEntity(state, job) : null,
  };
}

export function freezePeriodEntity(period: SimFreezePeriod): Entity {
  return {
    id: period.id,
    freeze_start: period.freezeStart,
    freeze_end: period.freezeEnd,
    cron_timezone: period.cronTimezone,
    created_at: restTime(period.createdAt),
    updated_at: restTime(period.updatedAt),
  };
}

export function auditEventEntity(event: SimAuditEvent): Entity {
  return {
    id: event.id,
    author_id: event.authorId,
    entity_id: event.entityId,
    entity_type: event.entityType,
    event_name: event.eventName,
    details: event.details,
    created_at: restTime(event.createdAt),
  };
}
