import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadGitLabWebhookFixtures } from '../../test/fixtures/gitlab-webhooks/index.js';
import type { CloudEvent, JsonObject } from '../core/model.js';
import { isoTime } from './payload.js';
import { normalizeGitLabWebhook } from './webhook-event.js';

const FIXTURES = new Map(loadGitLabWebhookFixtures().map((fixture) => [fixture.file, fixture]));
const RECEIVED_AT = Date.parse('2030-01-02T03:04:05.678Z');

/** A documented payload, changed by `edit`, normalised with the fixture's own `X-Gitlab-Event`. */
function variant(file: string, edit: (payload: JsonObject) => void, headers: Record<string, string> = {}): CloudEvent {
  const fixture = FIXTURES.get(file) ?? assert.fail(`no fixture ${file}`);
  const payload = JSON.parse(fixture.body) as JsonObject;
  edit(payload);
  return normalize(JSON.stringify(payload), { 'x-gitlab-event': fixture.header, ...headers });
}

function normalize(body: string, headers: Record<string, string>, instanceUrl?: string): CloudEvent {
  const source = { name: 'main', secret: 's', ...(instanceUrl === undefined ? {} : { instanceUrl }) };
  return normalizeGitLabWebhook({ headers, body, source, receivedAt: RECEIVED_AT }).event;
}

function attributes(payload: JsonObject): JsonObject {
  return payload.object_attributes as JsonObject;
}

/** Asserts the type each GitLab word gives when written at one place of a payload. */
function assertVerbs(file: string, set: (payload: JsonObject, word: string) => void, table: Record<string, string>) {
  for (const [word, type] of Object.entries(table)) {
    assert.equal(variant(file, (p) => set(p, word)).type, `com.gitlab.events.${type}`, `${file}: ${word}`);
  }
}

const CI_STATUSES = {
  created: 'created',
  waiting_for_resource: 'waiting_for_resource',
  preparing: 'preparing',
  pending: 'pending',
  running: 'running',
  success: 'succeeded',
  failed: 'failed',
  canceling: 'canceling',
  canceled: 'canceled',
  cancelled: 'canceled',
  skipped: 'skipped',
  manual: 'manual',
  scheduled: 'scheduled',
};
const prefixed = (object: string, table: Record<string, string>) =>
  Object.fromEntries(Object.entries(table).map(([word, verb]) => [word, `${object}_${verb}`]));

describe('event types: one per action, status or event name', () => {
  test('issues, confidential issues included', () => {
    const actions = { open: 'issue_created', update: 'issue_updated', close: 'issue_closed', reopen: 'issue_reopened' };
    assertVerbs('work_item.json', (p, word) => (attributes(p).action = word), actions);
    const confidential = variant(
      'work_item.json',
      (p) => {
        p.event_type = 'confidential_issue';
        attributes(p).confidential = true;
        attributes(p).action = 'close';
      },
      { 'x-gitlab-event': 'Confidential Issue Hook' },
    );
    assert.equal(confidential.type, 'com.gitlab.events.issue_closed');
  });

  test('work items other than issues: object_kind work_item, epics referenced with &', () => {
    const task = variant('work_item.json', (p) => {
      p.object_kind = p.event_type = 'work_item';
      attributes(p).type = 'Task';
      attributes(p).action = 'reopen';
    });
    assert.equal(task.type, 'com.gitlab.events.work_item_reopened');
    assert.equal(task.subject, 'gitlabhq/gitlab-test#23');
    // Epics live in groups: no project, the group is in the URL.
    const epic = variant('work_item.json', (p) => {
      p.object_kind = p.event_type = 'work_item';
      delete p.project;
      delete p.repository;
      Object.assign(attributes(p), {
        type: 'Epic',
        iid: 5,
        action: 'update',
        url: 'https://gitlab.example.com/groups/acme/platform/-/epics/5',
      });
    });
    assert.equal(epic.type, 'com.gitlab.events.work_item_updated');
    assert.equal(epic.source, 'https://gitlab.example.com/acme/platform');
    assert.equal(epic.subject, 'acme/platform&5');
  });

  test('merge requests: every documented action', () => {
    assertVerbs('merge_request.json', (p, word) => (attributes(p).action = word), {
      open: 'merge_request_created',
      update: 'merge_request_updated',
      merge: 'merge_request_merged',
      close: 'merge_request_closed',
      reopen: 'merge_request_reopened',
      approved: 'merge_request_approved',
      unapproved: 'merge_request_unapproved',
      approval: 'merge_request_approval',
      unapproval: 'merge_request_unapproval',
    });
  });

  test('notes: created or updated; before GitLab 16.11 (no action) always created', () => {
    assertVerbs('note_issue.json', (p, word) => (attributes(p).action = word), { create: 'note_created', update: 'note_updated' });
    assert.equal(variant('note_issue.json', (p) => delete attributes(p).action).type, 'com.gitlab.events.note_created');
    const confidential = variant('note_issue.json', (p) => (p.event_type = 'confidential_note'), {
      'x-gitlab-event': 'Confidential Note Hook',
    });
    assert.equal(confidential.type, 'com.gitlab.events.note_created');
  });

  test('pipelines, jobs and deployments: one type per status, success → succeeded', () => {
    assertVerbs('pipeline.json', (p, word) => (attributes(p).status = word), prefixed('pipeline', CI_STATUSES));
    assertVerbs('job.json', (p, word) => (p.build_status = word), prefixed('job', CI_STATUSES));
    assertVerbs('deployment.json', (p, word) => (p.status = word), {
      running: 'deployment_running',
      success: 'deployment_succeeded',
      failed: 'deployment_failed',
      canceled: 'deployment_canceled',
    });
  });

  test('milestones: the action at the top (as in the example) or in object_attributes (as documented)', () => {
    const actions = {
      create: 'milestone_created',
      close: 'milestone_closed',
      reopen: 'milestone_reopened',
      delete: 'milestone_deleted',
      update: 'milestone_updated',
    };
    assertVerbs('milestone.json', (p, word) => (p.action = word), actions);
    assertVerbs(
      'milestone.json',
      (p, word) => {
        delete p.action;
        attributes(p).action = word;
      },
      actions,
    );
  });

  test('releases, wiki pages, emoji reactions, feature flags, vulnerabilities', () => {
    const edits = { create: 'created', update: 'updated', delete: 'deleted' };
    assertVerbs('release.json', (p, word) => (p.action = word), prefixed('release', edits));
    assertVerbs('wiki_page.json', (p, word) => (attributes(p).action = word), prefixed('wiki_page', edits));
    assertVerbs('emoji.json', (p, word) => (attributes(p).action = p.event_type = word), {
      award: 'emoji_awarded',
      revoke: 'emoji_revoked',
    });
    assert.equal(variant('emoji.json', (p) => delete attributes(p).action).type, 'com.gitlab.events.emoji_awarded');
    assert.equal(variant('feature_flag.json', (p) => (attributes(p).active = false)).type, 'com.gitlab.events.feature_flag_deactivated');
    assert.equal(variant('feature_flag.json', (p) => delete attributes(p).active).type, 'com.gitlab.events.feature_flag');
    assertVerbs('vulnerability.json', (p, word) => (attributes(p).state = word), {
      detected: 'vulnerability_detected',
      confirmed: 'vulnerability_confirmed',
      dismissed: 'vulnerability_dismissed',
      resolved: 'vulnerability_resolved',
    });
  });

  test('a new action or status becomes its own type; a missing one leaves the object alone', () => {
    assert.equal(
      variant('work_item.json', (p) => (attributes(p).action = 'Move To Project')).type,
      'com.gitlab.events.issue_move_to_project',
    );
    assert.equal(
      variant('pipeline.json', (p) => (attributes(p).status = 'waiting_for_callback')).type,
      'com.gitlab.events.pipeline_waiting_for_callback',
    );
    assert.equal(variant('merge_request.json', (p) => (attributes(p).action = null)).type, 'com.gitlab.events.merge_request');
    assert.equal(variant('group_member_add.json', (p) => delete p.event_name).type, 'com.gitlab.events.group_member');
  });
});

describe('hooks nobody has mapped are kept, named after what they say they are', () => {
  const typeOf = (payload: JsonObject, header?: string) =>
    normalize(JSON.stringify(payload), header === undefined ? {} : { 'x-gitlab-event': header }).type;

  test('by object_kind, else event_name, else the X-Gitlab-Event header, else unknown', () => {
    assert.equal(
      typeOf({ object_kind: 'repository_update', event_name: 'repository_update' }, 'System Hook'),
      'com.gitlab.events.repository_update',
    );
    assert.equal(typeOf({ event_name: 'user_create' }, 'System Hook'), 'com.gitlab.events.user_create');
    assert.equal(typeOf({ something: 1 }, 'Fancy New Hook'), 'com.gitlab.events.fancy_new');
    assert.equal(typeOf({}), 'com.gitlab.events.unknown');
    assert.equal(typeOf({ object_kind: '   ' }), 'com.gitlab.events.unknown');
  });

  test('the header alone still recognises a known hook', () => {
    assert.equal(typeOf({}, 'Job Hook'), 'com.gitlab.events.job');
    assert.equal(typeOf({}, 'Member Hook'), 'com.gitlab.events.group_member');
    assert.equal(typeOf({ object_kind: null, event_name: 7 }, 'Push Hook'), 'com.gitlab.events.push');
  });

  test('names are snake_cased and bounded; inherited property names are not hooks', () => {
    assert.equal(typeOf({ object_kind: 'Deploy Key/Created!' }), 'com.gitlab.events.deploy_key_created');
    assert.equal(typeOf({ object_kind: 'x'.repeat(500) }), `com.gitlab.events.${'x'.repeat(64)}`);
    const inherited = [
      ['constructor', 'constructor'],
      ['toString', 'tostring'],
      ['__proto__', 'proto'],
      ['hasOwnProperty', 'hasownproperty'],
    ] as const;
    for (const [name, type] of inherited) {
      assert.equal(typeOf({ object_kind: name }), `com.gitlab.events.${type}`, name);
      assert.equal(typeOf({ event_name: name }), `com.gitlab.events.${type}`, name);
    }
    assert.equal(variant('work_item.json', (p) => (attributes(p).action = 'constructor')).type, 'com.gitlab.events.issue_constructor');
  });

  test('an unknown hook keeps its whole payload, and its object URL as subject', () => {
    const payload = { object_kind: 'deploy_key', object_attributes: { url: 'https://gitlab.example.com/acme/app/-/deploy_keys/3' } };
    const event = normalize(JSON.stringify(payload), {});
    assert.deepEqual(event.data, payload);
    assert.equal(event.source, 'https://gitlab.example.com/acme/app');
    assert.equal(event.subject, 'acme/app/-/deploy_keys/3');
  });
});

describe('source and subject', () => {
  test('a relative URL root stays part of the instance', () => {
    const event = variant('merge_request.json', (p) => {
      (p.project as JsonObject).web_url = 'https://example.com/gitlab/gitlabhq/gitlab-test';
    });
    assert.equal(event.source, 'https://example.com/gitlab/gitlabhq/gitlab-test');
  });

  test('without path fields the path comes from the URLs, below a configured instance', () => {
    const fixture = FIXTURES.get('vulnerability.json') ?? assert.fail();
    const payload = JSON.parse(fixture.body) as JsonObject;
    attributes(payload).url = 'https://example.com/gitlab/flightjs/Flight/-/security/vulnerabilities/1';
    const event = normalize(JSON.stringify(payload), {}, 'https://example.com/gitlab/');
    assert.equal(event.source, 'https://example.com/gitlab/flightjs/Flight');
    assert.equal(event.subject, 'flightjs/Flight/-/security/vulnerabilities/1');
  });

  test('emoji reactions on issues, merge requests and snippets are referenced like them', () => {
    const on = (type: string, extra: JsonObject) =>
      variant('emoji.json', (p) => {
        delete p.note;
        delete p.issue;
        attributes(p).awardable_type = type;
        Object.assign(p, extra);
      }).subject;
    assert.equal(on('Issue', { issue: { iid: 42 } }), 'flightjs/Flight#42');
    assert.equal(on('MergeRequest', { merge_request: { iid: 7 } }), 'flightjs/Flight!7');
    assert.equal(on('Snippet', { snippet: { id: 9 } }), 'flightjs/Flight$9');
    assert.equal(on('Epic', {}), undefined);
  });

  test('a note on something unrecognised is referenced by the project and its id', () => {
    const event = variant('note_issue.json', (p) => (attributes(p).noteable_type = 'DesignManagement::Design'));
    assert.equal(event.subject, 'gitlab-org/gitlab-test#note_1241');
  });

  test('a deleted branch has no checkout_sha: the push is referenced by its `after` sha', () => {
    const event = variant('push.json', (p) => {
      p.checkout_sha = null;
      p.after = '0000000000000000000000000000000000000000';
    });
    assert.equal(event.subject, 'mike/diaspora@0000000000000000000000000000000000000000');
  });
});

describe('time', () => {
  test('GitLab’s time formats become ISO 8601 in UTC', () => {
    const cases: Record<string, string | undefined> = {
      '2013-12-03T17:23:34Z': '2013-12-03T17:23:34.000Z',
      '2015-05-17 18:08:09 UTC': '2015-05-17T18:08:09.000Z',
      '2021-04-28 21:50:00 +0200': '2021-04-28T19:50:00.000Z',
      '2021-04-28T21:50:00-03:30': '2021-04-29T01:20:00.000Z',
      '2021-02-23T02:41:37.886Z': '2021-02-23T02:41:37.886Z',
      '2019-03-22 07:25:41': '2019-03-22T07:25:41.000Z',
      '2024-01-26': undefined,
      '2019-13-40 07:25:41 UTC': undefined,
      yesterday: undefined,
      '': undefined,
    };
    for (const [input, expected] of Object.entries(cases)) assert.equal(isoTime(input), expected, input);
  });

  test('an unreadable time falls back to the next field, then to the time of receipt', () => {
    assert.equal(variant('merge_request.json', (p) => (attributes(p).updated_at = 'soon')).time, '2013-12-03T17:23:34.000Z');
    assert.equal(
      variant('merge_request.json', (p) => {
        attributes(p).updated_at = 12;
        attributes(p).created_at = null;
      }).time,
      '2030-01-02T03:04:05.678Z',
    );
  });
});
