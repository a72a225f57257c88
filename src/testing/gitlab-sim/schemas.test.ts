import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { VirtualClock } from '../../app/clocks.js';
import { type GitLabSimulator, type SimServer, createGitLabSimulator } from './index.js';
import { createSchemaCheck } from './schema-check.js';
import { type ApiResponse, ACME, restClient } from './test-helpers.js';

/**
 * Every endpoint that has a GitLab response schema, called over real HTTP, its answer validated
 * against GitLab's own JSON schema (test/fixtures/gitlab-api-schemas, see SOURCE.md there).
 * Where GitLab's schemas are malformed, out of date or contradict each other, the difference is
 * listed in FINDINGS with the reason; anything else that fails is a bug of the simulator.
 */

describe('REST answers validate against GitLab’s JSON schemas', () => {
  const schemas = createSchemaCheck();
  let sim: GitLabSimulator;
  let server: SimServer;
  let api: ReturnType<typeof restClient>;

  before(async () => {
    sim = createGitLabSimulator({ clock: new VirtualClock(), seed: ACME });
    server = await sim.listen();
    api = restClient(fetch, server.url, 'alice-token');
    const a = sim.actions;
    a.createMilestone('alice', { project: 'acme/app' }, 'Sprint 9', {
      dueDate: '2026-03-01',
      startDate: '2026-02-01',
      description: 'Dates',
    });
    const issue = a.createIssue('alice', 'acme/app', {
      title: 'Validated',
      labels: ['bug', 'workflow::backlog'],
      milestone: 'Sprint 9',
      assignees: ['bob'],
      dueDate: '2026-02-15',
    });
    a.createNote('carol', 'acme/app', { issue: issue.iid }, 'A note');
    a.closeIssue('alice', 'acme/app', a.createIssue('carol', 'acme/app', { title: 'Closed one' }).iid);
    const mr = a.openMergeRequest('bob', 'acme/app', {
      sourceBranch: 'feature',
      title: 'Feature',
      description: `Closes #${issue.iid}`,
      labels: ['bug'],
      assignees: ['bob'],
      reviewers: ['alice'],
      milestone: 'Sprint 1',
      files: { 'f.txt': 'f' },
    });
    a.createNote('alice', 'acme/app', { mergeRequest: mr.iid }, 'Review');
    a.startThread('alice', 'acme/app', { issue: issue.iid }, 'A thread');
    a.startThread('alice', 'acme/app', { mergeRequest: mr.iid }, 'A review thread');
    a.approveMergeRequest('alice', 'acme/app', mr.iid);
    const done = a.openMergeRequest('bob', 'acme/app', { sourceBranch: 'done', title: 'Done', files: { 'd.txt': 'd' } });
    a.mergeMergeRequest('alice', 'acme/app', done.iid);
    const pipelines = sim.state.pipelinesOf(sim.state.requireProject('acme/app'));
    a.setPipelineStatus('acme/app', pipelines[0]?.id ?? 0, 'failed');
    a.setPipelineStatus('acme/app', pipelines.at(-1)?.id ?? 0, 'success');
    a.deploy('alice', 'acme/app', { environment: 'staging', status: 'success' });
    await api.post('/groups/acme/members', { user_id: sim.state.requireUser('erin').id, access_level: 20, expires_at: '2026-12-31' });
  });
  after(() => server.close());

  const validate = (response: ApiResponse, schema: string, arrayOf = false): void => {
    assert.ok(response.status >= 200 && response.status < 300, `status ${response.status}: ${JSON.stringify(response.body)}`);
    assert.deepEqual(schemas.check(response.body, schema, arrayOf), []);
  };

  const mrs = '/projects/acme%2Fapp/merge_requests';
  /** GitLab publishes no schema for a discussion; its notes are notes. */
  const notesOfThreads = async (path: string): Promise<ApiResponse> => {
    const response = await api.get(path);
    return { ...response, body: (response.body as { notes: unknown[] }[]).flatMap((thread) => thread.notes) };
  };
  const checks: [label: string, call: () => Promise<ApiResponse>, schema: string, arrayOf?: boolean][] = [
    ['GET project', () => api.get('/projects/acme%2Fapp'), 'public_api/v4/project.json'],
    ['GET project (identity)', () => api.get('/projects/acme%2Fapp'), 'public_api/v4/project/identity.json'],
    ['GET projects', () => api.get('/projects'), 'public_api/v4/projects.json'],
    ['GET projects, each', () => api.get('/projects'), 'public_api/v4/project.json', true],
    ['GET issues', () => api.get('/projects/acme%2Fapp/issues'), 'public_api/v4/issues.json'],
    ['GET issue', () => api.get('/projects/acme%2Fapp/issues/1'), 'public_api/v4/issue.json'],
    [
      'POST issue',
      () => api.post('/projects/acme%2Fapp/issues', { title: 'Posted', labels: 'bug', milestone_id: 1, assignee_ids: [3] }),
      'public_api/v4/issue.json',
    ],
    ['PUT issue', () => api.put('/projects/acme%2Fapp/issues/1', { add_labels: 'workflow::ready' }), 'public_api/v4/issue.json'],
    ['GET milestone issues', () => api.get('/projects/acme%2Fapp/milestones/4/issues'), 'public_api/v4/issues.json'],
    ['GET closes_issues', () => api.get(`${mrs}/1/closes_issues`), 'public_api/v4/issues.json'],
    ['GET merge requests', () => api.get(mrs), 'public_api/v4/merge_requests.json'],
    ['GET merge requests, each', () => api.get(mrs), 'public_api/v4/merge_request.json', true],
    ['GET merge requests, simple', () => api.get(`${mrs}?view=simple`), 'public_api/v4/merge_request_simple.json', true],
    ['GET merge request', () => api.get(`${mrs}/1`), 'public_api/v4/merge_request.json'],
    ['GET merged merge request', () => api.get(`${mrs}/2`), 'public_api/v4/merge_request.json'],
    [
      'POST merge request',
      () => api.post(mrs, { source_branch: 'done', target_branch: 'feature', title: 'Posted MR' }),
      'public_api/v4/merge_request.json',
    ],
    ['PUT merge request', () => api.put(`${mrs}/1`, { reviewer_ids: [3], milestone_id: 4 }), 'public_api/v4/merge_request.json'],
    [
      'GET related merge requests',
      () => api.get('/projects/acme%2Fapp/issues/1/related_merge_requests'),
      'public_api/v4/merge_request.json',
      true,
    ],
    ['GET closed_by', () => api.get('/projects/acme%2Fapp/issues/1/closed_by'), 'public_api/v4/merge_request.json', true],
    ['GET issue notes', () => api.get('/projects/acme%2Fapp/issues/1/notes'), 'public_api/v4/notes.json'],
    ['GET merge request notes', () => api.get(`${mrs}/1/notes`), 'public_api/v4/notes.json'],
    [
      'POST note (as a one-item list)',
      async () => {
        const response = await api.post('/projects/acme%2Fapp/issues/1/notes', { body: 'Posted note' });
        return { ...response, body: [response.body] };
      },
      'public_api/v4/notes.json',
    ],
    ['GET issue discussions, their notes', () => notesOfThreads('/projects/acme%2Fapp/issues/1/discussions'), 'public_api/v4/notes.json'],
    ['GET merge request discussions, their notes', () => notesOfThreads(`${mrs}/1/discussions`), 'public_api/v4/notes.json'],
    [
      'POST issue move',
      async () => {
        const moving = await api.post('/projects/acme%2Fapp/issues', { title: 'Moving', labels: 'priority::1' });
        const iid = (moving.body as { iid: number }).iid;
        return api.post(`/projects/acme%2Fapp/issues/${iid}/move`, { to_project_id: sim.state.requireProject('acme/platform/api').id });
      },
      'public_api/v4/issue.json',
    ],
    [
      'GET issues with label details, labels',
      async () => {
        const response = await api.get('/projects/acme%2Fapp/issues?with_labels_details=true&labels=bug');
        return { ...response, body: (response.body as { labels: unknown[] }[]).flatMap((issue) => issue.labels) };
      },
      'public_api/v4/label_basic.json',
      true,
    ],
    [
      'GET issues with label details, labels (basic)',
      async () => {
        const response = await api.get('/projects/acme%2Fapp/issues?with_labels_details=true&labels=bug');
        return { ...response, body: (response.body as { labels: unknown[] }[]).flatMap((issue) => issue.labels) };
      },
      'public_api/v4/label/basic.json',
      true,
    ],
    ['GET project labels', () => api.get('/projects/acme%2Fapp/labels'), 'public_api/v4/labels/project_label_with_counts.json', true],
    ['GET project label', () => api.get('/projects/acme%2Fapp/labels/bug'), 'public_api/v4/labels/project_label.json'],
    [
      'POST project label',
      () => api.post('/projects/acme%2Fapp/labels', { name: 'scope::new', color: '#428BCA', description: 'New' }),
      'public_api/v4/labels/label_with_counts.json',
    ],
    ['GET group labels', () => api.get('/groups/acme/labels'), 'public_api/v4/group_labels.json'],
    ['GET project milestones', () => api.get('/projects/acme%2Fapp/milestones'), 'public_api/v4/milestones.json'],
    ['GET project milestones, each', () => api.get('/projects/acme%2Fapp/milestones'), 'public_api/v4/milestone.json', true],
    ['GET group milestones, each', () => api.get('/groups/acme/milestones'), 'public_api/v4/milestone.json', true],
    ['GET project milestone', () => api.get('/projects/acme%2Fapp/milestones/4'), 'public_api/v4/milestone.json'],
    [
      'POST project milestone',
      () => api.post('/projects/acme%2Fapp/milestones', { title: 'Posted', due_date: '2026-04-01' }),
      'public_api/v4/milestone.json',
    ],
    ['GET group milestones', () => api.get('/groups/acme/milestones'), 'public_api/v4/milestones.json'],
    ['GET pipelines', () => api.get('/projects/acme%2Fapp/pipelines'), 'public_api/v4/pipelines.json'],
    ['GET pipeline', () => api.get('/projects/acme%2Fapp/pipelines/1'), 'public_api/v4/pipeline/detail.json'],
    ['GET pipeline (project_id)', () => api.get('/projects/acme%2Fapp/pipelines/1'), 'public_api/v4/pipeline.json'],
    [
      'POST pipeline',
      () => api.post('/projects/acme%2Fapp/pipeline', { ref: 'main', variables: [{ key: 'A', value: 'b' }] }),
      'public_api/v4/pipeline/detail.json',
    ],
    [
      'GET failed job',
      () => api.get(`/projects/acme%2Fapp/jobs/${[...sim.state.jobs.values()].find((job) => job.failureReason !== null)?.id}`),
      'public_api/v4/job.json',
    ],
    ['POST pipeline retry', () => api.post('/projects/acme%2Fapp/pipelines/1/retry'), 'public_api/v4/pipeline/detail.json'],
    ['GET pipeline jobs', () => api.get('/projects/acme%2Fapp/pipelines/1/jobs'), 'public_api/v4/job.json', true],
    [
      'GET finished job',
      () => api.get(`/projects/acme%2Fapp/jobs/${[...sim.state.jobs.values()].find((job) => job.status === 'success')?.id}`),
      'public_api/v4/job.json',
    ],
    ['GET deployments, each', () => api.get('/projects/acme%2Fapp/deployments'), 'public_api/v4/deployment.json', true],
    ['GET deployment (with its job)', () => api.get('/projects/acme%2Fapp/deployments/1'), 'public_api/v4/deployment.json'],
    [
      'POST deployment',
      () =>
        api.post('/projects/acme%2Fapp/deployments', { environment: 'review/x', sha: 'main', ref: 'main', tag: false, status: 'running' }),
      'public_api/v4/deployment.json',
    ],
    ['GET environments', () => api.get('/projects/acme%2Fapp/environments'), 'public_api/v4/environments.json'],
    ['GET environment', () => api.get('/projects/acme%2Fapp/environments/1'), 'public_api/v4/environment.json'],
    [
      'GET deployment environments (basic)',
      async () => {
        const response = await api.get('/projects/acme%2Fapp/deployments');
        return { ...response, body: (response.body as { environment: unknown }[]).map((d) => d.environment) };
      },
      'public_api/v4/basic_environments.json',
    ],
    ['GET user', () => api.get('/user'), 'public_api/v4/user/basic.json'],
    ['GET user by id', () => api.get('/users/3'), 'public_api/v4/user/basic.json'],
    ['GET users by username', () => api.get('/users?username=bob'), 'public_api/v4/user/basics.json'],
    ['GET group members', () => api.get('/groups/acme/members'), 'public_api/v4/members.json'],
    ['GET group members/all', () => api.get('/groups/acme%2Fplatform/members/all'), 'public_api/v4/members.json'],
    ['GET project members/all', () => api.get('/projects/acme%2Fapp/members/all'), 'public_api/v4/members.json'],
    ['GET branches', () => api.get('/projects/acme%2Fapp/repository/branches'), 'public_api/v4/branches.json'],
    ['GET branch', () => api.get('/projects/acme%2Fapp/repository/branches/main'), 'public_api/v4/branch.json'],
    ['GET commits', () => api.get('/projects/acme%2Fapp/repository/commits'), 'public_api/v4/commits.json'],
    ['GET commit', () => api.get('/projects/acme%2Fapp/repository/commits/main'), 'public_api/v4/commit/detail.json'],
    [
      'POST release',
      () => api.post('/projects/acme%2Fapp/releases', { tag_name: 'v1.0.0', ref: 'main', description: 'First', milestones: ['Sprint 1'] }),
      'public_api/v4/release.json',
    ],
    ['GET releases', () => api.get('/projects/acme%2Fapp/releases'), 'public_api/v4/releases.json'],
    ['GET release', () => api.get('/projects/acme%2Fapp/releases/v1.0.0'), 'public_api/v4/release.json'],
    ['GET tags', () => api.get('/projects/acme%2Fapp/repository/tags'), 'public_api/v4/tags.json'],
    ['GET tag', () => api.get('/projects/acme%2Fapp/repository/tags/v1.0.0'), 'public_api/v4/tag.json'],
  ];
  for (const [label, call, schema, arrayOf] of checks) {
    test(`${label} → ${schema}${arrayOf ? ' (each item)' : ''}`, async () => validate(await call(), schema, arrayOf));
  }

  test('every listed finding was observed (the list stays true)', () => assert.deepEqual(schemas.unobserved(), []));
});
