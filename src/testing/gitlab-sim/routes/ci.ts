import { CAN, type SimContext, authorize } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { type SimApi, type SimRequest, currentUser, idParam, projectParam } from '../http/app.js';
import { paginate } from '../http/pagination.js';
import { Params, scalarText } from '../http/params.js';
import type { SimDeployment, SimEnvironment, SimJob, SimPipeline, SimProject } from '../model.js';
import { cancelPipeline, createPipeline, recordCommitStatus, retryPipeline } from '../ops/ci.js';
import { createDeployment, findOrCreateEnvironment, updateDeployment } from '../ops/deployments.js';
import { requireRef } from '../ops/git.js';
import { pipelineBasic } from '../present/basic.js';
import { commitStatusEntity, deploymentEntity, environmentEntity, jobEntity, pipelineDetail } from '../present/ci.js';

/** Pipelines, jobs, commit statuses, deployments and environments. Reading CI needs Reporter, as in GitLab. */
export function registerCi(api: SimApi, ctx: SimContext): void {
  const { state } = ctx;
  const ciProject = (c: SimRequest): SimProject => {
    const project = projectParam(c, ctx);
    authorize(state, currentUser(c), project, CAN.report);
    return project;
  };
  const pipelineParam = (c: SimRequest): SimPipeline => state.requirePipeline(ciProject(c), idParam(c, 'pipeline_id'));
  const jobsList = async (c: SimRequest, jobs: SimJob[]): Promise<Response> => {
    const scope = (await Params.of(c)).list('scope');
    const picked = jobs
      .filter((job) => job.generic === null && (scope === undefined || scope.includes(job.status)))
      .sort((a, b) => b.id - a.id);
    return c.json(paginate(c, picked).map((job) => jobEntity(state, job)));
  };

  api.get('/projects/:id/pipelines', async (c) => {
    const p = await Params.of(c);
    const project = ciProject(c);
    const wanted = { status: p.string('status'), ref: p.string('ref'), sha: p.string('sha'), source: p.string('source') };
    const username = p.string('username');
    const pipelines = state
      .pipelinesOf(project)
      .filter(
        (pipeline) =>
          Object.entries(wanted).every(([key, value]) => value === undefined || pipeline[key as keyof typeof wanted] === value) &&
          (username === undefined || state.users.get(pipeline.userId)?.username === username),
      )
      .sort((a, b) => ((p.string('sort') ?? 'desc') === 'asc' ? a.id - b.id : b.id - a.id));
    return c.json(paginate(c, pipelines).map((pipeline) => pipelineBasic(state, pipeline)));
  });
  api.get('/projects/:id/pipelines/latest', async (c) => {
    const project = ciProject(c);
    const ref = (await Params.of(c)).string('ref') ?? project.defaultBranch;
    const latest = state
      .pipelinesOf(project)
      .filter((pipeline) => pipeline.ref === ref)
      .at(-1);
    if (!latest) throw notFound();
    return c.json(pipelineDetail(state, latest));
  });
  api.get('/projects/:id/pipelines/:pipeline_id', (c) => c.json(pipelineDetail(state, pipelineParam(c))));
  api.post('/projects/:id/pipeline', async (c) => {
    const p = await Params.of(c);
    const ref = p.string('ref');
    if (ref === undefined) throw badRequest('ref is missing');
    const variables = (p.objects('variables') ?? []).map((v) => ({
      key: scalarText('variables[key]', v['key']),
      value: scalarText('variables[value]', v['value'] ?? ''),
    }));
    return c.json(pipelineDetail(state, createPipeline(ctx, currentUser(c), projectParam(c, ctx), { ref, source: 'api', variables })), 201);
  });
  api.post('/projects/:id/pipelines/:pipeline_id/retry', (c) =>
    c.json(pipelineDetail(state, retryPipeline(ctx, currentUser(c), pipelineParam(c))), 201),
  );
  api.post('/projects/:id/pipelines/:pipeline_id/cancel', (c) =>
    c.json(pipelineDetail(state, cancelPipeline(ctx, currentUser(c), pipelineParam(c)))),
  );
  api.get('/projects/:id/pipelines/:pipeline_id/jobs', (c) => jobsList(c, state.jobsOf(pipelineParam(c))));
  api.get('/projects/:id/jobs', (c) =>
    jobsList(
      c,
      [...state.jobs.values()].filter((job) => job.projectId === ciProject(c).id),
    ),
  );
  api.get('/projects/:id/jobs/:job_id', (c) => {
    const job = state.jobs.get(idParam(c, 'job_id'));
    if (!job || job.projectId !== ciProject(c).id) throw notFound();
    return c.json(jobEntity(state, job));
  });

  api.get('/projects/:id/repository/commits/:sha/statuses', async (c) => {
    const p = await Params.of(c);
    const project = ciProject(c);
    const commit = requireRef(project, c.req.param('sha'));
    const ref = p.string('ref');
    const name = p.string('name');
    const statuses = [...state.jobs.values()].filter((job) => {
      const pipeline = state.pipelines.get(job.pipelineId) as SimPipeline;
      return (
        job.projectId === project.id &&
        pipeline.sha === commit.sha &&
        (ref === undefined || pipeline.ref === ref) &&
        (name === undefined || job.name === name)
      );
    });
    return c.json(paginate(c, statuses).map((job) => commitStatusEntity(state, job)));
  });
  api.post('/projects/:id/statuses/:sha', async (c) => {
    const p = await Params.of(c);
    const job = recordCommitStatus(ctx, currentUser(c), projectParam(c, ctx), c.req.param('sha'), {
      state: p.string('state'),
      ref: p.string('ref'),
      name: p.string('name') ?? p.string('context'),
      targetUrl: p.string('target_url'),
      description: p.string('description'),
      coverage: p.has('coverage') ? Number(p.string('coverage')) : undefined,
      pipelineId: p.int('pipeline_id'),
    });
    return c.json(commitStatusEntity(state, job), 201);
  });

  const deploymentParam = (c: SimRequest): SimDeployment => {
    const deployment = state.deployments.get(idParam(c, 'deployment_id'));
    if (!deployment || deployment.projectId !== ciProject(c).id) throw notFound('Deployment');
    return deployment;
  };
  api.get('/projects/:id/deployments', async (c) => {
    const p = await Params.of(c);
    const project = ciProject(c);
    const environment = p.string('environment');
    const status = p.string('status');
    const deployments = [...state.deployments.values()]
      .filter(
        (d) =>
          d.projectId === project.id &&
          (status === undefined || d.status === status) &&
          (environment === undefined || state.environments.get(d.environmentId)?.name === environment),
      )
      .sort((a, b) => ((p.string('sort') ?? 'asc') === 'asc' ? a.id - b.id : b.id - a.id));
    return c.json(paginate(c, deployments).map((d) => deploymentEntity(state, d)));
  });
  api.get('/projects/:id/deployments/:deployment_id', (c) => c.json(deploymentEntity(state, deploymentParam(c))));
  api.post('/projects/:id/deployments', async (c) => {
    const p = await Params.of(c);
    const input = {
      environment: p.string('environment'),
      sha: p.string('sha'),
      ref: p.string('ref'),
      tag: p.bool('tag'),
      status: p.string('status'),
    };
    return c.json(deploymentEntity(state, createDeployment(ctx, currentUser(c), projectParam(c, ctx), input)), 201);
  });
  api.put('/projects/:id/deployments/:deployment_id', async (c) => {
    const p = await Params.of(c);
    return c.json(deploymentEntity(state, updateDeployment(ctx, currentUser(c), deploymentParam(c), p.string('status'))));
  });

  const environmentParam = (c: SimRequest): SimEnvironment => {
    const environment = state.environments.get(idParam(c, 'environment_id'));
    if (!environment || environment.projectId !== ciProject(c).id) throw notFound('Environment');
    return environment;
  };
  api.get('/projects/:id/environments', async (c) => {
    const p = await Params.of(c);
    const project = ciProject(c);
    const [name, search, states] = [p.string('name'), p.string('search'), p.string('states')];
    const environments = [...state.environments.values()].filter(
      (env) =>
        env.projectId === project.id &&
        (name === undefined || env.name === name) &&
        (search === undefined || env.name.includes(search)) &&
        (states === undefined || env.state === states),
    );
    return c.json(paginate(c, environments).map((env) => environmentEntity(state, env, false)));
  });
  api.get('/projects/:id/environments/:environment_id', (c) => c.json(environmentEntity(state, environmentParam(c), true)));
  api.post('/projects/:id/environments', async (c) => {
    const p = await Params.of(c);
    const project = projectParam(c, ctx);
    authorize(state, currentUser(c), project, CAN.develop);
    const name = p.string('name');
    if (name === undefined) throw badRequest('name is missing');
    if ([...state.environments.values()].some((env) => env.projectId === project.id && env.name === name))
      throw badRequest('name has already been taken');
    const environment = findOrCreateEnvironment(ctx, project, name, p.nullableString('external_url') ?? null);
    environment.tier = p.string('tier') ?? environment.tier;
    return c.json(environmentEntity(state, environment, true), 201);
  });
  api.post('/projects/:id/environments/:environment_id/stop', (c) => {
    const environment = environmentParam(c);
    authorize(state, currentUser(c), state.requireProject(environment.projectId), CAN.develop);
    environment.state = 'stopped';
    environment.updatedAt = state.now();
    return c.json(environmentEntity(state, environment, true));
  });
}
