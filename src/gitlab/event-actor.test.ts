import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadGitLabWebhookFixtures } from '../../test/fixtures/gitlab-webhooks/index.js';
import type { CloudEvent } from '../core/model.js';
import { gitlabEventActor } from './event-actor.js';
import { normalizeGitLabWebhook } from './webhook-event.js';

/** Each documented payload's actor: who made the change, not whom it is about (a member added). */
const ACTORS: Record<string, string | undefined> = {
  'push.json': 'jsmith',
  // GitLab's example has user_id and user_name only; GitLab sends user_username too, which the next test reads.
  'tag_push.json': undefined,
  'work_item.json': 'root',
  'note_commit.json': 'root',
  'note_merge_request.json': 'root',
  'note_issue.json': 'root',
  'note_snippet.json': 'root',
  'merge_request.json': 'root',
  'wiki_page.json': 'root',
  'pipeline.json': 'root',
  // The example's `user` has no username (id, name, email).
  'job.json': undefined,
  'deployment.json': 'root',
  // `user_username` of a member hook is the member, not who added, changed or removed them.
  'group_member_add.json': undefined,
  'group_member_update.json': undefined,
  'group_member_remove.json': undefined,
  'group_access_request.json': undefined,
  'group_access_request_denied.json': undefined,
  'project_create.json': undefined,
  'project_destroy.json': undefined,
  'subgroup_create.json': undefined,
  'subgroup_remove.json': undefined,
  'feature_flag.json': 'root',
  'release.json': undefined,
  'milestone.json': undefined,
  'emoji.json': 'root',
  'access_token_project.json': undefined,
  'access_token_group.json': undefined,
  'vulnerability.json': undefined,
};

function eventOf(body: string, header: string): CloudEvent {
  const source = { name: 'main', secret: 's', instanceUrl: 'https://gitlab.example.com' };
  return normalizeGitLabWebhook({ headers: { 'x-gitlab-event': header }, body, source, receivedAt: 0 }).event;
}

test("every documented hook's actor, as the router compares it with AutoFlow's own account", () => {
  const fixtures = loadGitLabWebhookFixtures();
  assert.deepEqual(fixtures.map(({ file }) => file).sort(), Object.keys(ACTORS).sort(), 'one expectation per fixture');
  for (const { file, header, body } of fixtures) assert.equal(gitlabEventActor(eventOf(body, header)), ACTORS[file], file);
});

test('a tag push names its actor in user_username, as a push does', () => {
  const fixture = loadGitLabWebhookFixtures().find(({ file }) => file === 'tag_push.json')!;
  const body = JSON.stringify({ ...(JSON.parse(fixture.body) as object), user_username: 'autoflow-bot' });
  assert.equal(gitlabEventActor(eventOf(body, fixture.header)), 'autoflow-bot');
});

test('an event that is not GitLab names nobody, whatever its data holds', () => {
  const event: CloudEvent = {
    specversion: '1.0',
    id: '1',
    source: 'shop',
    type: 'com.example.order.paid',
    data: { user: { username: 'autoflow-bot' } },
  };
  assert.equal(gitlabEventActor(event), undefined);
  assert.equal(gitlabEventActor({ ...event, type: 'com.gitlab.events.issue_updated', data: 'text' }), undefined);
  assert.equal(gitlabEventActor({ ...event, type: 'com.gitlab.events.issue_updated', data: { user: { username: ' ' } } }), undefined);
  assert.equal(gitlabEventActor({ ...event, type: 'com.gitlab.events.issue_updated' }), 'autoflow-bot');
});
