import { z } from 'zod';
import { type Method, attributes, id, list, method, paging, path, query, read, ref, write } from './define.js';

/** Pipelines, jobs, commit statuses, deployments, environments, repository files and deploy freezes. */

const projectList = z.object({ project: ref, query, ...paging });
const pipeline = z.object({ project: ref, pipelineId: id });
const file = z.object({ project: ref, filePath: z.string().min(1), ref: z.string().min(1).optional() });
const fileWrite = z.object({ project: ref, filePath: z.string().min(1), attributes });

export const ciMethods: Record<string, Method> = {
  'pipelines.list': method(projectList, (args) => list(path`/projects/${args.project}/pipelines`, args)),
  'pipelines.get': method(pipeline, (args) => read(path`/projects/${args.project}/pipelines/${args.pipelineId}`)),
  'pipelines.create': method(z.object({ project: ref, attributes }), (args) =>
    write('POST', path`/projects/${args.project}/pipeline`, args.attributes),
  ),
  'pipelines.retry': method(pipeline, (args) => write('POST', path`/projects/${args.project}/pipelines/${args.pipelineId}/retry`)),
  'pipelines.cancel': method(pipeline, (args) => write('POST', path`/projects/${args.project}/pipelines/${args.pipelineId}/cancel`)),

  // A pipeline's jobs, or the project's when no pipeline is given.
  'jobs.list': method(z.object({ project: ref, pipelineId: id.optional(), query, ...paging }), (args) =>
    list(
      args.pipelineId === undefined
        ? path`/projects/${args.project}/jobs`
        : path`/projects/${args.project}/pipelines/${args.pipelineId}/jobs`,
      args,
    ),
  ),

  'commitStatuses.set': method(z.object({ project: ref, sha: z.string().min(1), attributes }), (args) =>
    write('POST', path`/projects/${args.project}/statuses/${args.sha}`, args.attributes),
  ),
  'commitStatuses.list': method(z.object({ project: ref, sha: z.string().min(1), query, ...paging }), (args) =>
    list(path`/projects/${args.project}/repository/commits/${args.sha}/statuses`, args),
  ),

  'deployments.list': method(projectList, (args) => list(path`/projects/${args.project}/deployments`, args)),
  'deployments.create': method(z.object({ project: ref, attributes }), (args) =>
    write('POST', path`/projects/${args.project}/deployments`, args.attributes),
  ),
  'deployments.update': method(z.object({ project: ref, deploymentId: id, attributes }), (args) =>
    write('PUT', path`/projects/${args.project}/deployments/${args.deploymentId}`, args.attributes),
  ),

  'environments.list': method(projectList, (args) => list(path`/projects/${args.project}/environments`, args)),
  'environments.get': method(z.object({ project: ref, environmentId: id }), (args) =>
    read(path`/projects/${args.project}/environments/${args.environmentId}`),
  ),

  // GitLab wants the file path as one encoded segment (`ci%2Fdeploy.yml`); `ref` defaults to the default branch for `getRaw` only.
  'repositoryFiles.get': method(file.required({ ref: true }), (args) =>
    read(path`/projects/${args.project}/repository/files/${args.filePath}`, { ref: args.ref }),
  ),
  'repositoryFiles.getRaw': method(file, (args) => {
    const plan = read(
      path`/projects/${args.project}/repository/files/${args.filePath}/raw`,
      args.ref === undefined ? undefined : { ref: args.ref },
    );
    return { ...plan, route: { ...plan.route, text: true } };
  }),
  'repositoryFiles.create': method(fileWrite, (args) =>
    write('POST', path`/projects/${args.project}/repository/files/${args.filePath}`, args.attributes),
  ),
  'repositoryFiles.update': method(fileWrite, (args) =>
    write('PUT', path`/projects/${args.project}/repository/files/${args.filePath}`, args.attributes),
  ),

  'freezePeriods.list': method(projectList, (args) => list(path`/projects/${args.project}/freeze_periods`, args)),
};
