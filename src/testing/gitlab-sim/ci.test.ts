import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../../app/clocks.js';
import { createGitLabSimulator } from './index.js';
import { ACME, restClient } from './test-helpers.js';

/** Pipelines driven by the test, commit statuses, deployments, repository files, freeze periods, audit events and API hooks. */

function setup() {
  const clock = new VirtualClock();
  const sim = createGitLabSimulator({ clock, seed: ACME });
  return {
    sim,
    clock,
    alice: restClient(sim.fetch, sim.state.baseUrl, 'alice-token'),
    bob: restClient(sim.fetch, sim.state.baseUrl, 'bob-token'),
  };
}

type Job = { name: string; status: string; failure_reason?: string };

describe('pipelines', () => {
  test('a push to a project with CI starts a pipeline whose status the test drives', async () => {
    const { sim, clock, alice } = setup();
    sim.actions.push('bob', 'acme/app', { branch: 'topic', startBranch: 'main', files: { 'a.txt': 'a' } });
    const [pipeline] = (await alice.get('/projects/acme%2Fapp/pipelines')).body as {
      id: number;
      status: string;
      ref: string;
      source: string;
    }[];
    assert.deepEqual([pipeline?.status, pipeline?.ref, pipeline?.source], ['pending', 'topic', 'push']);
    const jobs = async (): Promise<string[]> =>
      ((await alice.get(`/projects/acme%2Fapp/pipelines/${pipeline?.id}/jobs`)).body as Job[])
        .map((job) => `${job.name}:${job.status}`)
        .sort();

    clock.advance(5_000);
    sim.actions.setPipelineStatus('acme/app', pipeline?.id ?? 0, 'running');
    assert.deepEqual(await jobs(), ['build:running', 'deploy:created', 'test:created']);
    clock.advance(60_000);
    sim.actions.setPipelineStatus('acme/app', pipeline?.id ?? 0, 'failed');
    assert.deepEqual(await jobs(), ['build:failed', 'deploy:skipped', 'test:skipped']);
    const detail = (await alice.get(`/projects/acme%2Fapp/pipelines/${pipeline?.id}`)).body as { status: string; duration: number };
    assert.deepEqual([detail.status, detail.duration], ['failed', 60]);

    assert.equal((await alice.post(`/projects/acme%2Fapp/pipelines/${pipeline?.id}/retry`)).status, 201);
    assert.deepEqual(await jobs(), ['build:pending', 'deploy:pending', 'test:pending']);
    sim.actions.setPipelineStatus('acme/app', pipeline?.id ?? 0, 'success');
    const deployments = (await alice.get('/projects/acme%2Fapp/deployments')).body as { status: string; environment: { name: string } }[];
    assert.deepEqual(
      deployments.map((d) => [d.environment.name, d.status]),
      [['production', 'success']],
      'the deploy job deployed',
    );
  });

  test('commit statuses make an external pipeline whose status is composed from them', async () => {
    const { sim, bob } = setup();
    const sha = sim.state.requireProject('acme/app').repository.branches.get('main') as string;
    await bob.post(`/projects/acme%2Fapp/statuses/${sha}`, { state: 'success', name: 'lint' });
    await bob.post(`/projects/acme%2Fapp/statuses/${sha}`, { state: 'running', name: 'e2e', target_url: 'https://ci.example.com/1' });
    const statuses = (await bob.get(`/projects/acme%2Fapp/repository/commits/${sha}/statuses`)).body as { name: string; status: string }[];
    assert.deepEqual(
      statuses.map((s) => `${s.name}:${s.status}`),
      ['lint:success', 'e2e:running'],
    );
    const commit = (await bob.get(`/projects/acme%2Fapp/repository/commits/${sha}`)).body as {
      status: string;
      last_pipeline: { source: string };
    };
    assert.deepEqual([commit.status, commit.last_pipeline.source], ['running', 'external']);
    await bob.post(`/projects/acme%2Fapp/statuses/${sha}`, { state: 'failed', name: 'e2e' });
    assert.equal(((await bob.get(`/projects/acme%2Fapp/repository/commits/${sha}`)).body as { status: string }).status, 'failed');
    assert.deepEqual((await bob.post(`/projects/acme%2Fapp/statuses/${sha}`, { state: 'bogus' })).body, {
      error: 'state does not have a valid value',
    });
  });
});

describe('repository files', () => {
  test('create, read, update as GitLab answers them, protected branches included', async () => {
    const { alice, bob } = setup();
    const path = '/projects/acme%2Fapp/repository/files/docs%2Fguide.md';
    assert.deepEqual((await bob.post(path, { branch: 'main', content: 'x', commit_message: 'm' })).status, 403, 'main is protected');
    assert.deepEqual((await alice.post(path, { branch: 'main', content: '# Guide', commit_message: 'Add guide' })).body, {
      file_path: 'docs/guide.md',
      branch: 'main',
    });
    assert.deepEqual((await alice.post(path, { branch: 'main', content: 'again', commit_message: 'm' })).body, {
      message: 'A file with this name already exists',
    });
    await alice.put(path, {
      branch: 'main',
      content: Buffer.from('# Guide v2').toString('base64'),
      encoding: 'base64',
      commit_message: 'Update guide',
    });
    const file = (await alice.get(`${path}?ref=main`)).body as { content: string; encoding: string; last_commit_id: string };
    assert.equal(Buffer.from(file.content, 'base64').toString(), '# Guide v2');
    const [latest] = (await alice.get('/projects/acme%2Fapp/repository/commits?path=docs/guide.md')).body as {
      id: string;
      title: string;
    }[];
    assert.deepEqual([latest?.id, latest?.title], [file.last_commit_id, 'Update guide']);
    assert.deepEqual(
      (await alice.put('/projects/acme%2Fapp/repository/files/nope.txt', { branch: 'main', content: 'x', commit_message: 'm' })).body,
      {
        message: "A file with this name doesn't exist",
      },
    );
  });
});

describe('freeze periods, audit events and hooks through the API', () => {
  test('maintainers manage freeze periods and hooks; changes leave audit events', async () => {
    const { sim, alice, bob } = setup();
    assert.equal(
      (await bob.post('/projects/acme%2Fapp/freeze_periods', { freeze_start: '0 23 * * 5', freeze_end: '0 7 * * 1' })).status,
      403,
    );
    const period = await alice.post('/projects/acme%2Fapp/freeze_periods', {
      freeze_start: '0 23 * * 5',
      freeze_end: '0 7 * * 1',
      cron_timezone: 'UTC',
    });
    assert.equal(period.status, 201);
    assert.deepEqual((await alice.post('/projects/acme%2Fapp/freeze_periods', { freeze_start: 'friday', freeze_end: '0 7 * * 1' })).body, {
      error: 'freeze_start is invalid syntax',
    });
    assert.equal(((await bob.get('/projects/acme%2Fapp/freeze_periods')).body as unknown[]).length, 1);

    const hook = await alice.post('/projects/acme%2Fapp/hooks', { url: 'http://127.0.0.1:9/hook', issues_events: true, token: 't' });
    assert.deepEqual(
      [hook.status, (hook.body as { push_events: boolean }).push_events, (hook.body as { issues_events: boolean }).issues_events],
      [201, true, true],
    );
    assert.equal(sim.webhooks.list().length, 1);

    const events = (await alice.get('/projects/acme%2Fapp/audit_events')).body as { event_name: string; author_id: number }[];
    assert.deepEqual(
      events.slice(0, 2).map((event) => event.event_name),
      ['webhook_created', 'freeze_period_created'],
    );
    assert.equal((await bob.get('/projects/acme%2Fapp/audit_events')).status, 403);
  });
});
