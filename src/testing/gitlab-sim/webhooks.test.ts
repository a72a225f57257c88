import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { loadGitLabWebhookFixtures } from '../../../test/fixtures/gitlab-webhooks/index.js';
import { VirtualClock } from '../../app/clocks.js';
import { type GitLabSimulator, createGitLabSimulator } from './index.js';
import { ACME, restClient } from './test-helpers.js';

/** Webhooks posted to a real local HTTP receiver: headers, payload shapes against GitLab's documented examples, retries. */

interface Received {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A receiver that records every request and answers `statuses.shift()` (200 once they run out). */
async function startReceiver(): Promise<{ url: string; received: Received[]; statuses: number[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const statuses: number[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body: JSON.parse(text) as Record<string, unknown> });
      response.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received, statuses, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Key paths of `fixture` missing from `actual`; arrays compare their first items; a null in `actual` stands for an absent object. */
function missingKeys(fixture: unknown, actual: unknown, path = ''): string[] {
  if (Array.isArray(fixture)) {
    if (!Array.isArray(actual)) return [`${path} (array expected)`];
    return fixture.length === 0 || actual.length === 0 ? [] : missingKeys(fixture[0], actual[0], `${path}[]`);
  }
  if (fixture === null || typeof fixture !== 'object') return [];
  if (actual === null) return [];
  if (typeof actual !== 'object') return [`${path} (object expected)`];
  return Object.entries(fixture).flatMap(([key, value]) =>
    key in actual ? missingKeys(value, (actual as Record<string, unknown>)[key], `${path}.${key}`) : [`${path}.${key}`],
  );
}

/** Documented keys GitLab sends only in situations the simulator does not have. */
const CONDITIONAL: Record<string, string[]> = {
  // Incident escalation (GitLab Premium); the simulator's issues are never incidents.
  'work_item.json': ['.object_attributes.escalation_status', '.object_attributes.escalation_policy'],
  // Only on pipelines triggered by another project's pipeline.
  'pipeline.json': ['.source_pipeline'],
  'job.json': ['.source_pipeline'],
};

describe('webhook payloads and headers', () => {
  let sim: GitLabSimulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const fixtures = new Map(loadGitLabWebhookFixtures().map((fixture) => [fixture.file, fixture]));

  before(async () => {
    receiver = await startReceiver();
    sim = createGitLabSimulator({ clock: new VirtualClock(), seed: ACME });
    sim.webhooks.add({ project: 'acme/app', url: receiver.url, token: 'project-secret' });
    sim.webhooks.add({ group: 'acme', url: receiver.url, token: 'group-secret', events: ['member_events'] });
    const alice = restClient(sim.fetch, sim.state.baseUrl, 'alice-token');

    const issue = sim.actions.createIssue('alice', 'acme/app', { title: 'Hooked', labels: ['workflow::backlog'], assignees: ['bob'] });
    sim.actions.addLabels('alice', 'acme/app', issue.iid, ['workflow::ready']);
    sim.actions.createNote('carol', 'acme/app', { issue: issue.iid }, 'Looks good');
    const mr = sim.actions.openMergeRequest('bob', 'acme/app', {
      sourceBranch: 'hooked',
      title: 'Hooked MR',
      description: `Closes #${issue.iid}`,
      assignees: ['bob'],
      reviewers: ['carol'],
      files: { 'x.txt': 'x' },
    });
    sim.actions.createNote('carol', 'acme/app', { mergeRequest: mr.iid }, 'Needs work');
    const [pipeline] = sim.state.pipelinesOf(sim.state.requireProject('acme/app'));
    sim.actions.setPipelineStatus('acme/app', pipeline?.id ?? 0, 'success');
    sim.actions.createMilestone('alice', { project: 'acme/app' }, 'Sprint 2', { dueDate: '2026-02-01' });
    sim.actions.deploy('alice', 'acme/app', { environment: 'staging', status: 'success' });
    assert.equal(
      (await alice.post('/projects/acme%2Fapp/releases', { tag_name: 'v1.0.0', ref: 'main', description: 'First' })).status,
      201,
    );
    sim.actions.setMember('alice', { group: 'acme' }, 'erin', 'reporter');
    await sim.webhooks.idle();
  });
  after(() => receiver.close());

  const cases: [file: string, pick: (body: Record<string, unknown>) => boolean][] = [
    ['work_item.json', (b) => b['object_kind'] === 'issue'],
    ['merge_request.json', (b) => b['object_kind'] === 'merge_request'],
    ['note_issue.json', (b) => b['object_kind'] === 'note' && 'issue' in b],
    ['note_merge_request.json', (b) => b['object_kind'] === 'note' && 'merge_request' in b],
    ['push.json', (b) => b['object_kind'] === 'push'],
    ['tag_push.json', (b) => b['object_kind'] === 'tag_push'],
    ['pipeline.json', (b) => b['object_kind'] === 'pipeline'],
    ['job.json', (b) => b['object_kind'] === 'build'],
    ['milestone.json', (b) => b['object_kind'] === 'milestone'],
    ['deployment.json', (b) => b['object_kind'] === 'deployment'],
    ['release.json', (b) => b['object_kind'] === 'release'],
    ['group_member_add.json', (b) => b['event_name'] === 'user_add_to_group'],
  ];
  for (const [file, pick] of cases) {
    test(`${file}: same keys and nesting as GitLab's documented example, same X-Gitlab-Event`, () => {
      const fixture = fixtures.get(file);
      assert.ok(fixture, `fixture ${file}`);
      const delivery = receiver.received.find((item) => pick(item.body));
      assert.ok(delivery, `a ${file} delivery was received`);
      // What `changes` holds depends on what changed; its shape is checked, not its keys.
      const missing = missingKeys(JSON.parse(fixture.body), delivery.body).filter(
        (key) => !(CONDITIONAL[file] ?? []).includes(key) && !key.startsWith('.changes.'),
      );
      assert.deepEqual(missing, []);
      for (const change of Object.values((delivery.body['changes'] ?? {}) as Record<string, object>))
        assert.deepEqual(Object.keys(change), ['previous', 'current']);
      assert.equal(delivery.headers['x-gitlab-event'], fixture.header);
    });
  }

  test('a comment hook has no field the real ones lack, so no filter passes on the simulator and fails on GitLab', () => {
    for (const [file, pick] of cases.filter(([name]) => name.startsWith('note_'))) {
      const fixture = JSON.parse(fixtures.get(file)?.body ?? '{}') as Record<string, unknown>;
      const delivery = receiver.received.find((item) => pick(item.body));
      assert.ok(delivery, `a ${file} delivery was received`);
      // GitLab's note hook builder sends these two (its SAFE_HOOK_ATTRIBUTES), newer than the documented examples.
      const newer = ['.type', '.discussion_id'];
      const extra = missingKeys(delivery.body['object_attributes'], fixture['object_attributes']).filter((key) => !newer.includes(key));
      assert.deepEqual(extra, [], file);
    }
  });

  test('every delivery carries GitLab’s headers', () => {
    assert.ok(receiver.received.length >= cases.length);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const { headers, body } of receiver.received) {
      assert.equal(headers['content-type'], 'application/json');
      assert.equal(headers['x-gitlab-token'], body['event_name'] === 'user_add_to_group' ? 'group-secret' : 'project-secret');
      assert.equal(headers['x-gitlab-instance'], sim.state.baseUrl);
      assert.match(String(headers['x-gitlab-event-uuid']), uuid);
      assert.match(String(headers['idempotency-key']), uuid);
      assert.match(String(headers['user-agent']), /^GitLab\//);
    }
  });

  test('an update reports its changes with previous and current values', () => {
    const update = receiver.received.find(
      (item) => item.body['object_kind'] === 'issue' && (item.body['object_attributes'] as { action: string }).action === 'update',
    );
    const changes = update?.body['changes'] as { labels: { previous: { title: string }[]; current: { title: string }[] } };
    assert.deepEqual(
      changes.labels.previous.map((label) => label.title),
      ['workflow::backlog'],
    );
    assert.deepEqual(
      changes.labels.current.map((label) => label.title),
      ['workflow::ready'],
    );
  });
});

describe('a hook reports what changed, and only that', () => {
  let sim: GitLabSimulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    receiver = await startReceiver();
    sim = createGitLabSimulator({ clock: new VirtualClock(), seed: ACME });
    sim.webhooks.add({ project: 'acme/app', url: receiver.url, token: 'project-secret' });
  });
  after(() => receiver.close());

  /** The `changes` of the hooks the actions in `act` send, by the object's action. */
  async function changesOf(act: () => void): Promise<[action: string, changes: Record<string, unknown>][]> {
    await sim.webhooks.idle();
    const seen = receiver.received.length;
    act();
    await sim.webhooks.idle();
    return receiver.received
      .slice(seen)
      .map(({ body }) => [(body['object_attributes'] as { action: string }).action, body['changes'] as Record<string, unknown>]);
  }

  test('an approval and its withdrawal change nothing of the merge request', async () => {
    const mr = sim.actions.openMergeRequest('bob', 'acme/app', {
      sourceBranch: 'approve-me',
      title: 'Approve me',
      files: { 'a.txt': 'a' },
    });
    sim.actions.addMergeRequestLabels('bob', 'acme/app', mr.iid, ['bug']);
    const hooks = await changesOf(() => {
      sim.actions.approveMergeRequest('alice', 'acme/app', mr.iid);
      sim.actions.unapproveMergeRequest('alice', 'acme/app', mr.iid);
    });
    assert.deepEqual(hooks, [
      ['approved', {}],
      ['unapproved', {}],
    ]);
  });

  test('adding a label the issue has reports no label change, whether by the API or by a quick action', async () => {
    const issue = sim.actions.createIssue('alice', 'acme/app', { title: 'Labelled', labels: ['bug', 'workflow::backlog'] });
    const hooks = await changesOf(() => {
      sim.actions.addLabels('alice', 'acme/app', issue.iid, ['bug']);
      sim.actions.createNote('alice', 'acme/app', { issue: issue.iid }, '/label ~bug');
      sim.actions.addLabels('alice', 'acme/app', issue.iid, ['workflow::ready']);
    });
    assert.deepEqual(
      hooks.map(([action, changes]) => [action, Object.keys(changes).filter((key) => key === 'labels')]),
      [
        ['update', []],
        ['update', []],
        ['update', ['labels']],
      ],
    );
    const labels = hooks[2]?.[1]['labels'] as { current: { title: string }[] };
    assert.deepEqual(
      labels.current.map((label) => label.title),
      ['bug', 'workflow::ready'],
      'a label kept keeps its place; the scoped one replaces its scope',
    );
  });
});

describe('webhook delivery retries', () => {
  test('a failed delivery is retried on the clock with the same Idempotency-Key and event UUID', async () => {
    const receiver = await startReceiver();
    try {
      const clock = new VirtualClock();
      const sim = createGitLabSimulator({ clock, seed: ACME });
      sim.webhooks.add({ project: 'acme/app', url: receiver.url, events: ['issues_events'] });
      receiver.statuses.push(500);
      sim.actions.createIssue('alice', 'acme/app', { title: 'Retry me' });
      await sim.webhooks.idle();
      assert.deepEqual(
        sim.webhooks.deliveries().map((d) => d.status),
        [500],
      );

      clock.advance(14_999);
      await sim.webhooks.idle();
      assert.equal(receiver.received.length, 1, 'no retry before GitLab’s first backoff (15 s)');
      clock.advance(1);
      await sim.webhooks.idle();
      assert.deepEqual(
        sim.webhooks.deliveries().map((d) => [d.attempt, d.status]),
        [
          [1, 500],
          [2, 200],
        ],
      );
      const [first, second] = receiver.received;
      assert.equal(first?.headers['idempotency-key'], second?.headers['idempotency-key']);
      assert.equal(first?.headers['x-gitlab-event-uuid'], second?.headers['x-gitlab-event-uuid']);
      assert.deepEqual(first?.body, second?.body);
    } finally {
      await receiver.close();
    }
  });

  test('a receiver that never answers gets the first attempt and four retries, then nothing', async () => {
    const receiver = await startReceiver();
    await receiver.close();
    const clock = new VirtualClock();
    const sim = createGitLabSimulator({ clock, seed: ACME });
    sim.webhooks.add({ project: 'acme/app', url: receiver.url, events: ['issues_events'] });
    sim.actions.createIssue('alice', 'acme/app', { title: 'Nobody listens' });
    for (const wait of [0, 15_000, 16_000, 31_000, 96_000, 3_600_000]) {
      clock.advance(wait);
      await sim.webhooks.idle();
    }
    const attempts = sim.webhooks.deliveries();
    assert.deepEqual(
      attempts.map((d) => d.attempt),
      [1, 2, 3, 4, 5],
    );
    assert.ok(attempts.every((d) => d.status === null && d.error !== null));
    assert.equal(new Set(attempts.map((d) => d.idempotencyKey)).size, 1);
  });
});
