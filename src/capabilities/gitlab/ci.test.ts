import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createWorld } from './world.test.js';

/** Pipelines, jobs, commit statuses, deployments, environments, repository files and freeze periods against the simulator. */

type Page<T> = { items: T[] };
type Pipeline = { id: number; iid: number; ref: string; sha: string; status: string };

describe('CI', () => {
  test('pipelines: create, get, list, cancel, retry; jobs of a pipeline and of the project', async () => {
    const { sim, call } = createWorld();
    const pipeline = await call<Pipeline>('pipelines.create', {
      project: 'acme/app',
      attributes: { ref: 'main', variables: [{ key: 'DRY', value: '1' }] },
    });
    assert.equal(pipeline.ref, 'main');
    assert.equal((await call<Pipeline>('pipelines.get', { project: 'acme/app', pipelineId: pipeline.id })).id, pipeline.id);
    const listed = await call<Page<Pipeline>>('pipelines.list', { project: 'acme/app', query: { ref: 'main' } });
    assert.ok(listed.items.some((item) => item.id === pipeline.id));

    const jobs = await call<Page<{ name: string }>>('jobs.list', { project: 'acme/app', pipelineId: pipeline.id });
    assert.deepEqual(jobs.items.map((job) => job.name).sort(), ['build', 'deploy']);
    const projectJobs = await call<{ name: string }[]>('jobs.list', { project: 'acme/app', all: true });
    assert.ok(projectJobs.length >= 2);

    assert.equal((await call<Pipeline>('pipelines.cancel', { project: 'acme/app', pipelineId: pipeline.id })).status, 'canceled');
    const retried = await call<Pipeline>('pipelines.retry', { project: 'acme/app', pipelineId: pipeline.id });
    assert.notEqual(retried.status, 'canceled');
    assert.notEqual(sim.state.pipelines.get(pipeline.id)?.status, 'canceled');
  });

  test('commit statuses: set and list', async () => {
    const { sim, call } = createWorld();
    const sha = sim.state.requireProject('acme/app').repository.branches.get('main') as string;
    const status = await call<{ name: string; status: string }>('commitStatuses.set', {
      project: 'acme/app',
      sha,
      attributes: { state: 'success', name: 'autoflow/policy', description: 'checked' },
    });
    assert.deepEqual([status.name, status.status], ['autoflow/policy', 'success']);
    const statuses = await call<Page<{ name: string }>>('commitStatuses.list', {
      project: 'acme/app',
      sha,
      query: { name: 'autoflow/policy' },
    });
    assert.deepEqual(
      statuses.items.map((item) => item.name),
      ['autoflow/policy'],
    );
  });

  test('deployments and environments', async () => {
    const { call } = createWorld();
    const deployment = await call<{ id: number; status: string; environment: { id: number; name: string } }>('deployments.create', {
      project: 'acme/app',
      attributes: { environment: 'staging', sha: 'main', ref: 'main', tag: false, status: 'running' },
    });
    assert.equal(deployment.environment.name, 'staging');
    const updated = await call<{ status: string }>('deployments.update', {
      project: 'acme/app',
      deploymentId: deployment.id,
      attributes: { status: 'success' },
    });
    assert.equal(updated.status, 'success');
    const listed = await call<Page<{ id: number }>>('deployments.list', { project: 'acme/app', query: { environment: 'staging' } });
    assert.deepEqual(
      listed.items.map((item) => item.id),
      [deployment.id],
    );

    const environments = await call<Page<{ id: number; name: string }>>('environments.list', {
      project: 'acme/app',
      query: { name: 'staging' },
    });
    assert.equal(environments.items[0]?.id, deployment.environment.id);
    assert.equal(
      (await call<{ name: string }>('environments.get', { project: 'acme/app', environmentId: deployment.environment.id })).name,
      'staging',
    );
  });

  test('repository files: get (base64, as GitLab answers), getRaw, create and update', async () => {
    const { sim, call } = createWorld();
    const file = await call<{ file_path: string; content: string; encoding: string }>('repositoryFiles.get', {
      project: 'acme/app',
      filePath: 'ci/deploy.yml',
      ref: 'main',
    });
    assert.equal(file.file_path, 'ci/deploy.yml');
    assert.equal(Buffer.from(file.content, file.encoding as 'base64').toString(), 'stage: deploy\n');
    assert.equal(await call('repositoryFiles.getRaw', { project: 'acme/app', filePath: 'ci/deploy.yml' }), 'stage: deploy\n');
    await assert.rejects(call('repositoryFiles.get', { project: 'acme/app', filePath: 'README.md' }), /ref/);

    await call('repositoryFiles.create', {
      project: 'acme/app',
      filePath: 'docs/new file.md',
      attributes: { branch: 'main', content: 'hello', commit_message: 'Add docs' },
    });
    await call('repositoryFiles.update', {
      project: 'acme/app',
      filePath: 'docs/new file.md',
      attributes: { branch: 'main', content: 'hello again', commit_message: 'Edit docs' },
    });
    assert.equal(await call('repositoryFiles.getRaw', { project: 'acme/app', filePath: 'docs/new file.md', ref: 'main' }), 'hello again');
    const head = sim.state.requireProject('acme/app').repository.branches.get('main');
    assert.equal(
      sim.state
        .requireProject('acme/app')
        .repository.commits.get(head as string)
        ?.tree.get('docs/new file.md'),
      'hello again',
    );
  });

  test('freeze periods', async () => {
    const { call } = createWorld();
    await call('request', {
      method: 'POST',
      path: '/projects/acme%2Fapp/freeze_periods',
      body: { freeze_start: '0 23 * * 5', freeze_end: '0 7 * * 1' },
    });
    const periods = await call<Page<{ freeze_start: string }>>('freezePeriods.list', { project: 'acme/app' });
    assert.deepEqual(
      periods.items.map((item) => item.freeze_start),
      ['0 23 * * 5'],
    );
  });
});
