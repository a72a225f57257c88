import { hookTime, hookTimeOrNull, isoSecondsOrNull, restTime, restTimeOrNull, seconds } from '../format.js';
import { SIM_RUNNER, type SimCommit, type SimDeployment, type SimJob, type SimPipeline, type SimProject, type SimUser } from '../model.js';
import type { SimState } from '../state.js';
import { projectPagePath, userWebPath } from '../web-paths.js';
import { type HookObject, commitHook, mergeStatusOf, projectHook, repositoryHook, userHook } from './attributes.js';
import type { HookEvent } from './webhooks.js';

/** Payloads of the hooks about code and CI: push, tag push, pipeline, job, deployment. */

const ZERO_SHA = '0000000000000000000000000000000000000000';

const runnerHook = (job: SimJob): HookObject | null =>
  job.startedAt === null
    ? null
    : { ...SIM_RUNNER, active: true, runner_type: 'instance_type', is_shared: true, tags: [...SIM_RUNNER.tags] };

/**
 * A push of `commits` (oldest first) moving `ref` from `before` to `after`. A new branch has
 * `before` all zeros; a deleted one `after` all zeros. GitLab lists at most 20 commits.
 */
export function pushEvent(
  state: SimState,
  actor: SimUser,
  project: SimProject,
  ref: string,
  before: string | null,
  after: string | null,
  commits: SimCommit[],
): HookEvent {
  const tag = ref.startsWith('refs/tags/');
  const branch = ref.replace(/^refs\/heads\//, '');
  const diff = (commit: SimCommit): { added: string[]; modified: string[]; removed: string[] } => {
    const parent = commit.parentShas[0] === undefined ? undefined : project.repository.commits.get(commit.parentShas[0]);
    const old = parent?.tree ?? new Map<string, string>();
    return {
      added: [...commit.tree.keys()].filter((path) => !old.has(path)),
      modified: [...commit.tree.keys()].filter((path) => old.has(path) && old.get(path) !== commit.tree.get(path)),
      removed: [...old.keys()].filter((path) => !commit.tree.has(path)),
    };
  };
  return {
    name: tag ? 'tag_push_events' : 'push_events',
    project,
    payload: {
      object_kind: tag ? 'tag_push' : 'push',
      event_name: tag ? 'tag_push' : 'push',
      before: before ?? ZERO_SHA,
      after: after ?? ZERO_SHA,
      ref,
      ref_protected: !tag && project.protectedBranches.has(branch),
      checkout_sha: after,
      message: null,
      user_id: actor.id,
      user_name: actor.name,
      user_username: actor.username,
      user_email: actor.email,
      user_avatar: userHook(actor)['avatar_url'],
      project_id: project.id,
      project: projectHook(state, project),
      repository: repositoryHook(state, project, 'push'),
      commits: commits.slice(-20).map((commit) => ({ ...commitHook(state, project, commit), ...diff(commit) })),
      total_commits_count: commits.length,
    },
  };
}

function pipelineCommit(state: SimState, project: SimProject, pipeline: SimPipeline): HookObject | null {
  const commit = project.repository.commits.get(pipeline.sha);
  return commit ? commitHook(state, project, commit) : null;
}

/** A job as the `builds` of a pipeline hook list it. */
function pipelineBuild(state: SimState, job: SimJob): HookObject {
  return {
    id: job.id,
    stage: job.stage,
    name: job.name,
    status: job.status,
    created_at: hookTime(job.createdAt),
    started_at: hookTimeOrNull(job.startedAt),
    finished_at: hookTimeOrNull(job.finishedAt),
    duration: seconds(job.startedAt, job.finishedAt),
    queued_duration: seconds(job.createdAt, job.startedAt),
    failure_reason: job.failureReason,
    when: 'on_success',
    manual: false,
    allow_failure: job.allowFailure,
    user: userHook(state.requireUser(job.userId)),
    runner: runnerHook(job),
    artifacts_file: { filename: null, size: null },
    environment: job.environment === null ? null : { name: job.environment, action: 'start', deployment_tier: tierOf(job.environment) },
  };
}

/** GitLab guesses an environment's tier from its name. */
export function tierOf(environment: string): string {
  if (/^(prod|production|live)/i.test(environment)) return 'production';
  if (/^(stag|staging|model|pre)/i.test(environment)) return 'staging';
  if (/^(test|qa|uat)/i.test(environment)) return 'testing';
  if (/^(dev|review)/i.test(environment)) return 'development';
  return 'other';
}

export function pipelineEvent(state: SimState, pipeline: SimPipeline): HookEvent {
  const project = state.requireProject(pipeline.projectId);
  const jobs = state.jobsOf(pipeline);
  const mr = pipeline.mergeRequestId === null ? undefined : state.mergeRequests.get(pipeline.mergeRequestId);
  return {
    name: 'pipeline_events',
    project,
    payload: {
      object_kind: 'pipeline',
      object_attributes: {
        id: pipeline.id,
        iid: pipeline.iid,
        name: null,
        ref: pipeline.ref,
        tag: pipeline.tag,
        sha: pipeline.sha,
        before_sha: pipeline.beforeSha,
        source: pipeline.source,
        status: pipeline.status,
        detailed_status: pipeline.status,
        stages: [...new Set(jobs.map((job) => job.stage))],
        created_at: hookTime(pipeline.createdAt),
        finished_at: hookTimeOrNull(pipeline.finishedAt),
        duration: seconds(pipeline.startedAt, pipeline.finishedAt),
        queued_duration: seconds(pipeline.createdAt, pipeline.startedAt),
        variables: pipeline.variables,
        url: state.webUrl(projectPagePath(state, project, 'pipelines', pipeline.id)),
      },
      merge_request: mr
        ? {
            id: mr.id,
            iid: mr.iid,
            title: mr.title,
            source_branch: mr.sourceBranch,
            source_project_id: mr.projectId,
            target_branch: mr.targetBranch,
            target_project_id: mr.projectId,
            state: mr.state,
            ...mergeStatusOf(state, mr),
            url: state.webUrl(projectPagePath(state, project, 'merge_requests', mr.iid)),
          }
        : null,
      user: userHook(state.requireUser(pipeline.userId)),
      project: projectHook(state, project, false),
      commit: pipelineCommit(state, project, pipeline),
      builds: jobs.map((job) => pipelineBuild(state, job)),
    },
  };
}

export function jobEvent(state: SimState, job: SimJob): HookEvent {
  const pipeline = state.pipelines.get(job.pipelineId) as SimPipeline;
  const project = state.requireProject(job.projectId);
  const commit = project.repository.commits.get(pipeline.sha);
  const user = state.requireUser(job.userId);
  const { username: _username, ...jobUser } = userHook(user);
  return {
    name: 'job_events',
    project,
    payload: {
      object_kind: 'build',
      ref: pipeline.ref,
      tag: pipeline.tag,
      before_sha: pipeline.beforeSha,
      sha: pipeline.sha,
      build_id: job.id,
      build_name: job.name,
      build_stage: job.stage,
      build_status: job.status,
      build_created_at: restTime(job.createdAt),
      build_created_at_iso: isoSecondsOrNull(job.createdAt),
      build_started_at: restTimeOrNull(job.startedAt),
      build_started_at_iso: isoSecondsOrNull(job.startedAt),
      build_finished_at: restTimeOrNull(job.finishedAt),
      build_finished_at_iso: isoSecondsOrNull(job.finishedAt),
      build_duration: seconds(job.startedAt, job.finishedAt),
      build_queued_duration: seconds(job.createdAt, job.startedAt),
      build_allow_failure: job.allowFailure,
      build_failure_reason: job.failureReason,
      retries_count: 0,
      pipeline_id: pipeline.id,
      project_id: project.id,
      project_name: state.namespaceName(project) + ' / ' + project.name,
      user: jobUser,
      commit: {
        id: pipeline.id,
        name: null,
        sha: pipeline.sha,
        message: commit?.message ?? '',
        author_name: commit?.authorName ?? user.name,
        author_email: commit?.authorEmail ?? user.email,
        status: pipeline.status,
        duration: seconds(pipeline.startedAt, pipeline.finishedAt),
        started_at: hookTimeOrNull(pipeline.startedAt),
        started_at_iso: isoSecondsOrNull(pipeline.startedAt),
        finished_at: hookTimeOrNull(pipeline.finishedAt),
        finished_at_iso: isoSecondsOrNull(pipeline.finishedAt),
      },
      repository: repositoryHook(state, project, 'build'),
      project: projectHook(state, project, false),
      runner: runnerHook(job),
      environment: job.environment === null ? null : { name: job.environment, action: 'start', deployment_tier: tierOf(job.environment) },
    },
  };
}

export function deploymentEvent(state: SimState, deployment: SimDeployment): HookEvent {
  const project = state.requireProject(deployment.projectId);
  const environment = state.environments.get(deployment.environmentId);
  const commit = project.repository.commits.get(deployment.sha);
  const user = state.requireUser(deployment.userId);
  const changedAt = new Date(deployment.updatedAt).toISOString();
  return {
    name: 'deployment_events',
    project,
    payload: {
      object_kind: 'deployment',
      status: deployment.status,
      // GitLab formats this one field with its zone offset: `2021-04-28 21:50:00 +0200`.
      status_changed_at: `${changedAt.slice(0, 10)} ${changedAt.slice(11, 19)} +0000`,
      deployment_id: deployment.id,
      deployable_id: deployment.jobId,
      deployable_url: deployment.jobId === null ? null : state.webUrl(projectPagePath(state, project, 'jobs', deployment.jobId)),
      environment: environment?.name ?? null,
      environment_tier: environment?.tier ?? null,
      environment_slug: environment?.slug ?? null,
      environment_external_url: environment?.externalUrl ?? null,
      project: projectHook(state, project),
      short_sha: deployment.sha.slice(0, 8),
      user: userHook(user),
      user_url: state.webUrl(userWebPath(user)),
      commit_url: state.webUrl(projectPagePath(state, project, 'commit', deployment.sha)),
      commit_title: commit?.message.split('\n')[0] ?? '',
    },
  };
}
