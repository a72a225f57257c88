import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Ajv, type ErrorObject } from 'ajv';
import { VirtualClock } from '../../app/clocks.js';
import { type GitLabSimulator, type SimServer, createGitLabSimulator } from './index.js';
import { type ApiResponse, ACME, restClient } from './test-helpers.js';

/**
 * Every endpoint that has a GitLab response schema, called over real HTTP, its answer validated
 * against GitLab's own JSON schema (test/fixtures/gitlab-api-schemas, see SOURCE.md there).
 * Where GitLab's schemas are malformed, out of date or contradict each other, the difference is
 * listed in FINDINGS with the reason; anything else that fails is a bug of the simulator.
 */

const ROOT = fileURLToPath(new URL('../../../test/fixtures/gitlab-api-schemas/', import.meta.url));
const BASE = 'https://gitlab-schemas.invalid/';

// Type names GitLab's Ruby validator ignored but JSON Schema does not know, read as meant.
const ODD_TYPES: Record<string, string | string[]> = {
  date: ['string', 'null'],
  uri: 'string',
  'string ': 'string',
  'integer ': 'integer',
};

/**
 * GitLab's schemas as its Ruby validator read them: odd type names mapped; `required` lists
 * without repeats (milestones.json names `state` twice, which JSON Schema's meta-schema refuses);
 * a quantified quantifier, which Ruby's regexps accept and JavaScript's refuse, grouped
 * (label_basic.json's colour `[0-9A-Fa-f]{3}{1,2}`: three or six hex digits).
 */
function tolerant(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tolerant);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => {
      if (key === 'type' && typeof value === 'string') return [key, ODD_TYPES[value] ?? value];
      if (key === 'required' && Array.isArray(value)) return [key, [...new Set(value)]];
      if (key === 'pattern' && typeof value === 'string') return [key, value.replace(/(\[[^\]]+\]\{\d+\})(\{\d+,\d+\})/g, '(?:$1)$2')];
      return [key, tolerant(value)];
    }),
  );
}

function loadSchemas(ajv: Ajv, dir = ROOT): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) loadSchemas(ajv, path);
    else if (name.endsWith('.json'))
      ajv.addSchema({ ...(tolerant(JSON.parse(readFileSync(path, 'utf8'))) as object), $id: BASE + relative(ROOT, path) });
  }
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function createValidator(): Ajv {
  // strict: false because GitLab's schemas put properties where keywords belong (`time_stats`, `head_pipeline`).
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('date-time', (value: string) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)));
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  // release.json gives an example (`{"format": "zip", "url": "string"}`) where a schema belongs.
  ajv.addFormat('zip', true);
  loadSchemas(ajv);
  return ajv;
}

interface Finding {
  schemas: RegExp;
  path: RegExp;
  keyword: string;
  param?: string;
  why: string;
}

/** Known differences between GitLab's schemas and GitLab's API; each must still be observed, so the list stays true. */
const FINDINGS: Finding[] = [
  {
    schemas: /^public_api\/v4\/projects\.json$/,
    path: /^\/\d+$/,
    keyword: 'additionalProperties',
    param: 'topics',
    why: 'projects.json predates `topics` (GitLab 14.0) and allows no other properties, while project.json requires it: no answer satisfies both. Lists are also checked item by item against project.json.',
  },
  ...[
    'reviewers',
    'draft',
    'merged_by',
    'merge_user',
    'merged_at',
    'closed_by',
    'closed_at',
    'assignees',
    'references',
    'detailed_merge_status',
    'reference',
    'imported',
    'imported_from',
    'squash_on_merge',
    'squash_commit_sha',
    'has_conflicts',
    'blocking_discussions_resolved',
    'prepared_at',
    'task_completion_status',
    'merge_after',
  ].map((param): Finding => ({
    schemas: /^public_api\/v4\/merge_requests\.json$/,
    path: /^\/\d+$/,
    keyword: 'additionalProperties',
    param,
    why: 'merge_requests.json is from about 2018 (SOURCE.md): it forbids fields GitLab has sent since. Lists are also checked item by item against merge_request.json.',
  })),
  {
    schemas: /^public_api\/v4\/merge_requests\.json$/,
    path: /^\/\d+$/,
    keyword: 'required',
    param: 'approvals_before_merge',
    why: 'approvals_before_merge is a GitLab EE field, deprecated since; CE does not send it.',
  },
  {
    schemas: /./,
    path: /milestones?(\/\d+)?\/(due_date|start_date)$|^\/(\d+\/)?(due_date|start_date)$/,
    keyword: 'format',
    why: 'GitLab sends milestone dates as dates (`2026-03-01`); milestone.json says date-time, while issue.json’s own milestone allows `date`.',
  },
  {
    schemas: /^public_api\/v4\/group_labels\.json$/,
    path: /^\/\d+\/description$/,
    keyword: 'type',
    why: 'group_labels.json’s malformed `"string "` type, read as string, refuses the null description GitLab sends for a label without one (GitLab’s Ruby validator ignored the malformed type).',
  },
  {
    schemas: /^public_api\/v4\/job\.json$/,
    path: /^$/,
    keyword: 'additionalProperties',
    param: 'failure_reason',
    why: 'GitLab adds failure_reason to failed jobs; job.json, which allows no unlisted property, does not list it.',
  },
  ...['target', 'protected', 'created_at'].map((param): Finding => ({
    schemas: /^public_api\/v4\/tags?\.json$/,
    path: /^(\/\d+)?$/,
    keyword: 'additionalProperties',
    param,
    why: 'tag.json is its only version found (SOURCE.md); GitLab’s tags API has sent target, protected and created_at since.',
  })),
  {
    schemas: /^public_api\/v4\/tags?\.json$/,
    path: /^(\/\d+)?\/release$/,
    keyword: 'required',
    why: 'tag.json points `release` at release.json, which has become the full Release entity; the tags API still sends the {tag_name, description} stub (SOURCE.md).',
  },
  ...['expired', 'web_url'].map((param): Finding => ({
    schemas: /^public_api\/v4\/(milestones|merge_requests)\.json$/,
    path: /^\/\d+(\/milestone)?$/,
    keyword: 'additionalProperties',
    param,
    why: 'milestones.json (and the milestone inside the old merge_requests.json) predate `expired` and `web_url`, which milestone.json lists and requires (`expired`). Lists are also checked item by item against milestone.json.',
  })),
  {
    schemas: /^public_api\/v4\/members\.json$/,
    path: /^\/\d+\/expires_at$/,
    keyword: 'format',
    why: 'members.json says date-time; GitLab sends membership expiry as a date (`2026-12-31`).',
  },
];

/** Summary errors (`oneOf`, `anyOf`) and the "must be null" branch of nullable unions say nothing of their own. */
const substantive = (error: ErrorObject): boolean => !['oneOf', 'anyOf'].includes(error.keyword) && error.params['type'] !== 'null';

const paramOf = (error: ErrorObject): string | undefined =>
  (error.params['additionalProperty'] as string | undefined) ?? (error.params['missingProperty'] as string | undefined);

describe('REST answers validate against GitLab’s JSON schemas', () => {
  const ajv = createValidator();
  const observed = new Set<Finding>();
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
    const id = BASE + schema;
    const check = arrayOf ? ajv.compile({ type: 'array', minItems: 1, items: { $ref: id } }) : ajv.getSchema(id);
    assert.ok(check, `schema ${schema}`);
    if (check(response.body)) return;
    const unexplained = (check.errors ?? []).filter(substantive).filter((error) => {
      const finding = FINDINGS.find(
        (f) =>
          f.schemas.test(schema) &&
          f.path.test(error.instancePath) &&
          f.keyword === error.keyword &&
          (f.param === undefined || f.param === paramOf(error)),
      );
      if (finding) observed.add(finding);
      return !finding;
    });
    assert.deepEqual(
      unexplained.map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`),
      [],
    );
  };

  const mrs = '/projects/acme%2Fapp/merge_requests';
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

  test('every listed finding was observed (the list stays true)', () => {
    const stale = FINDINGS.filter((finding) => !observed.has(finding)).map(
      (f) => `${f.schemas.source} ${f.path.source} ${f.keyword} ${f.param ?? ''}`,
    );
    assert.deepEqual(stale, []);
  });
});
