import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { loadGitLabWebhookFixtures } from '../../test/fixtures/gitlab-webhooks/index.js';
import { ValidationError } from '../core/errors.js';
import { triggerMatches } from '../core/filter.js';
import type { Json } from '../core/model.js';
import type { WebhookSource } from './webhook-auth.js';
import { normalizeGitLabWebhook } from './webhook-event.js';

const SOURCE: WebhookSource = { name: 'main', secret: 's3cret' };
const RECEIVED_AT = Date.parse('2030-01-02T03:04:05.678Z');
const RECEIVED = '2030-01-02T03:04:05.678Z';

function normalize(body: string, headers: Record<string, string | undefined> = {}, source: WebhookSource = SOURCE) {
  return normalizeGitLabWebhook({ headers, body, source, receivedAt: RECEIVED_AT });
}

/**
 * What every documented payload must become, written out by hand from GitLab's documentation.
 * `instance` is what the payload's own URLs give (undefined: they give none); `time` undefined means
 * the payload has no time of the change, so the time of receipt is used.
 */
const EXPECTED: Record<string, { type: string; instance?: string; path: string; subject: string; time?: string }> = {
  'push.json': {
    type: 'com.gitlab.events.push',
    instance: 'http://example.com',
    path: 'mike/diaspora',
    subject: 'mike/diaspora@da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
  },
  'tag_push.json': {
    type: 'com.gitlab.events.tag_push',
    instance: 'http://example.com',
    path: 'jsmith/example',
    subject: 'jsmith/example/-/tags/v1.0.0',
  },
  'work_item.json': {
    // A work item of type Issue is sent with object_kind `issue`.
    type: 'com.gitlab.events.issue_created',
    instance: 'http://example.com',
    path: 'gitlabhq/gitlab-test',
    subject: 'gitlabhq/gitlab-test#23',
    time: '2013-12-03T17:15:43.000Z',
  },
  'note_commit.json': {
    type: 'com.gitlab.events.note_created',
    instance: 'http://example.com',
    path: 'gitlabhq/gitlab-test',
    subject: 'gitlabhq/gitlab-test@cfe32cf61b73a0d5e9f13e774abde7ff789b1660#note_1243',
    time: '2015-05-17T18:08:09.000Z',
  },
  'note_merge_request.json': {
    type: 'com.gitlab.events.note_created',
    instance: 'http://example.com',
    path: 'gitlab-org/gitlab-test',
    subject: 'gitlab-org/gitlab-test!1#note_1244',
    time: '2015-05-17T18:21:36.000Z',
  },
  'note_issue.json': {
    type: 'com.gitlab.events.note_created',
    instance: 'http://example.com',
    path: 'gitlab-org/gitlab-test',
    subject: 'gitlab-org/gitlab-test#17#note_1241',
    time: '2015-05-17T17:06:40.000Z',
  },
  'note_snippet.json': {
    type: 'com.gitlab.events.note_created',
    instance: 'http://example.com',
    path: 'gitlab-org/gitlab-test',
    subject: 'gitlab-org/gitlab-test$53#note_1245',
    time: '2015-05-17T18:35:50.000Z',
  },
  'merge_request.json': {
    type: 'com.gitlab.events.merge_request_created',
    instance: 'http://example.com',
    path: 'gitlabhq/gitlab-test',
    subject: 'gitlabhq/gitlab-test!1',
    time: '2013-12-03T17:23:34.000Z',
  },
  'wiki_page.json': {
    type: 'com.gitlab.events.wiki_page_created',
    instance: 'http://example.com',
    path: 'root/awesome-project',
    subject: 'root/awesome-project/-/wikis/awesome',
  },
  'pipeline.json': {
    type: 'com.gitlab.events.pipeline_succeeded',
    instance: 'http://192.168.64.1:3005',
    path: 'gitlab-org/gitlab-test',
    subject: 'gitlab-org/gitlab-test/-/pipelines/31',
    time: '2016-08-12T15:26:29.000Z',
  },
  'job.json': {
    type: 'com.gitlab.events.job_created',
    instance: 'http://192.168.64.1:3005',
    path: 'gitlab-org/gitlab-test',
    subject: 'gitlab-org/gitlab-test/-/jobs/1977',
    time: '2021-02-23T02:41:37.886Z',
  },
  'deployment.json': {
    type: 'com.gitlab.events.deployment_succeeded',
    instance: 'http://10.126.0.2:3000',
    path: 'root/test-deployment-webhooks',
    subject: 'root/test-deployment-webhooks/-/deployments/15',
    time: '2021-04-28T19:50:00.000Z',
  },
  'group_member_add.json': {
    type: 'com.gitlab.events.group_member_added',
    path: 'webhook-test',
    subject: '@test_user',
    time: '2020-12-11T04:57:22.000Z',
  },
  'group_member_update.json': {
    type: 'com.gitlab.events.group_member_updated',
    path: 'webhook-test',
    subject: '@test_user',
    time: '2020-12-12T08:48:19.000Z',
  },
  'group_member_remove.json': {
    type: 'com.gitlab.events.group_member_removed',
    path: 'webhook-test',
    subject: '@test_user',
    time: '2020-12-12T08:52:34.000Z',
  },
  'group_access_request.json': {
    type: 'com.gitlab.events.group_member_access_requested',
    path: 'webhook-test',
    subject: '@test_user',
    time: '2020-12-12T08:52:34.000Z',
  },
  'group_access_request_denied.json': {
    type: 'com.gitlab.events.group_member_access_denied',
    path: 'webhook-test',
    subject: '@test_user',
    time: '2020-12-12T08:52:34.000Z',
  },
  'project_create.json': {
    type: 'com.gitlab.events.project_created',
    path: 'group1/project1',
    subject: 'group1/project1',
    time: '2024-10-07T10:43:48.000Z',
  },
  'project_destroy.json': {
    type: 'com.gitlab.events.project_destroyed',
    path: 'group1/project1',
    subject: 'group1/project1',
    time: '2024-10-07T10:43:48.000Z',
  },
  'subgroup_create.json': {
    type: 'com.gitlab.events.subgroup_created',
    path: 'group1/subgroup1',
    subject: 'group1/subgroup1',
    time: '2021-01-20T09:40:12.000Z',
  },
  'subgroup_remove.json': {
    type: 'com.gitlab.events.subgroup_removed',
    path: 'group1/subgroup1',
    subject: 'group1/subgroup1',
    time: '2021-01-20T09:40:12.000Z',
  },
  'feature_flag.json': {
    type: 'com.gitlab.events.feature_flag_activated',
    instance: 'http://example.com',
    path: 'gitlabhq/gitlab-test',
    subject: 'gitlabhq/gitlab-test/-/feature_flags/test-feature-flag',
  },
  'release.json': {
    type: 'com.gitlab.events.release_created',
    instance: 'https://example.com',
    path: 'gitlab-org/release-webhook-example',
    subject: 'gitlab-org/release-webhook-example/-/releases/v1.1',
    time: '2020-11-02T12:55:12.000Z',
  },
  'milestone.json': {
    type: 'com.gitlab.events.milestone_created',
    instance: 'http://example.com',
    path: 'gitlabhq/gitlab-test',
    subject: 'gitlabhq/gitlab-test%10',
    time: '2025-06-16T14:10:57.000Z',
  },
  'emoji.json': {
    type: 'com.gitlab.events.emoji_awarded',
    instance: 'http://example.com',
    path: 'flightjs/Flight',
    subject: 'flightjs/Flight#42#note_363',
    time: '2023-07-04T20:44:11.000Z',
  },
  'access_token_project.json': {
    type: 'com.gitlab.events.access_token_expiring',
    instance: 'https://example.com',
    path: 'flightjs/Flight',
    subject: 'flightjs/Flight/-/access_tokens/25',
  },
  'access_token_group.json': {
    type: 'com.gitlab.events.access_token_expiring',
    path: 'twitter',
    subject: 'twitter/-/access_tokens/25',
  },
  'vulnerability.json': {
    type: 'com.gitlab.events.vulnerability_confirmed',
    instance: 'https://example.com',
    path: 'flightjs/Flight',
    subject: 'flightjs/Flight/-/security/vulnerabilities/1',
    time: '2025-01-08T00:46:14.413Z',
  },
};

const FIXTURES = loadGitLabWebhookFixtures();
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('normalizeGitLabWebhook on every payload of GitLab’s documentation', () => {
  test('the expected table covers exactly the fixture folder', () => {
    assert.equal(FIXTURES.length, 28);
    assert.deepEqual(FIXTURES.map((fixture) => fixture.file).sort(), Object.keys(EXPECTED).sort());
  });

  for (const fixture of FIXTURES) {
    test(`${fixture.file} (${fixture.header})`, () => {
      const expected = EXPECTED[fixture.file];
      assert.ok(expected, `no expectation for ${fixture.file}`);
      const { event, dedupeKey } = normalize(fixture.body, { 'x-gitlab-event': fixture.header });
      const id = sha256(fixture.body);
      assert.deepEqual(event, {
        specversion: '1.0',
        id,
        source: `${expected.instance ?? 'urn:autoflow:gitlab:main'}/${expected.path}`,
        type: expected.type,
        subject: expected.subject,
        time: expected.time ?? RECEIVED,
        datacontenttype: 'application/json',
        webhooksource: 'main',
        data: JSON.parse(fixture.body) as Json,
      });
      assert.equal(dedupeKey, `gitlab:main:${id}`);
    });
  }

  test('a configured instance URL, then X-Gitlab-Instance, is the prefix of every source', () => {
    for (const fixture of FIXTURES) {
      const { path } = EXPECTED[fixture.file] ?? assert.fail(fixture.file);
      const configured = normalize(
        fixture.body,
        { 'x-gitlab-instance': 'https://header.example' },
        { ...SOURCE, instanceUrl: 'https://gitlab.acme.test/' },
      );
      assert.equal(configured.event.source, `https://gitlab.acme.test/${path}`, fixture.file);
      const fromHeader = normalize(fixture.body, { 'x-gitlab-instance': 'https://header.example' });
      assert.equal(fromHeader.event.source, `https://header.example/${path}`, fixture.file);
    }
  });
});

describe('event id', () => {
  const body = FIXTURES.find((fixture) => fixture.file === 'merge_request.json')?.body ?? assert.fail('merge_request.json');

  test('Idempotency-Key wins over X-Gitlab-Event-UUID with the body hash, which wins over the body hash alone', () => {
    const all = normalize(body, { 'idempotency-key': 'idem-1', 'x-gitlab-event-uuid': 'uuid-1' });
    assert.equal(all.event.id, 'idem-1');
    assert.equal(all.dedupeKey, 'gitlab:main:idem-1');
    assert.equal(normalize(body, { 'x-gitlab-event-uuid': 'uuid-1' }).event.id, `uuid-1:${sha256(body).slice(0, 16)}`);
    assert.equal(normalize(body).event.id, sha256(body));
  });

  test('two hooks one request fired share X-Gitlab-Event-UUID and are two events; a retry of one is the same', () => {
    const note = FIXTURES.find((fixture) => fixture.file === 'note_issue.json')?.body ?? assert.fail('note_issue.json');
    const headers = { 'x-gitlab-event-uuid': '11111111-aaaa-4bbb-8ccc-000000000001' };
    assert.notEqual(normalize(body, headers).dedupeKey, normalize(note, headers).dedupeKey);
    assert.equal(normalize(note, headers).dedupeKey, normalize(note, headers).dedupeKey);
  });

  test('blank headers count as absent', () => {
    assert.equal(
      normalize(body, { 'idempotency-key': '  ', 'x-gitlab-event-uuid': 'uuid-1' }).event.id,
      `uuid-1:${sha256(body).slice(0, 16)}`,
    );
    assert.equal(normalize(body, { 'idempotency-key': '', 'x-gitlab-event-uuid': '' }).event.id, sha256(body));
  });

  test('a redelivered body gets the same key; another body another one; the source name scopes the key', () => {
    assert.equal(normalize(body).dedupeKey, normalize(body).dedupeKey);
    assert.notEqual(normalize(body).dedupeKey, normalize(`${body}\n`).dedupeKey);
    assert.equal(normalize(body, {}, { name: 'other', secret: 'x' }).dedupeKey, `gitlab:other:${sha256(body)}`);
  });
});

describe('the webhook source an event came through', () => {
  test("a trigger filter on webhooksource takes team-b's deliveries and not team-a's, whatever their payloads say", () => {
    const push = FIXTURES.find((fixture) => fixture.file === 'push.json') ?? assert.fail('push.json');
    const [fromA, fromB] = ['team-a', 'team-b'].map(
      (name) => normalize(push.body, { 'x-gitlab-event': push.header }, { name, secret: `${name}-secret` }).event,
    );
    const trigger = { event: 'com.gitlab.events.push', filter: { webhooksource: 'team-b', project_id: 15 } };
    assert.deepEqual(
      [fromA, fromB].map((event) => event && triggerMatches(trigger, event)),
      [false, true],
    );
  });
});

describe('bodies that are not a JSON object', () => {
  test('malformed JSON is a ValidationError that gives the parser’s position', () => {
    for (const body of ['{"object_kind": "push",}', '{', '', 'object_kind=push']) {
      assert.throws(
        () => normalize(body),
        (error: unknown) =>
          error instanceof ValidationError && error.code === 'invalid' && /not valid JSON/.test(error.message) && error.issues.length === 1,
        JSON.stringify(body),
      );
    }
    assert.throws(() => normalize('{"a": 1,}'), /position \d+/);
  });

  test('JSON that is not an object is a ValidationError naming what it is', () => {
    for (const [body, kind] of [
      ['[]', 'an array'],
      ['null', 'null'],
      ['42', 'a number'],
      ['"push"', 'a string'],
      ['true', 'a boolean'],
    ] as const) {
      assert.throws(
        () => normalize(body),
        (error: unknown) => error instanceof ValidationError && error.message.includes(`got ${kind}`),
        body,
      );
    }
  });
});
