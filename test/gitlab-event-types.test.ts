import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { normalizeGitLabWebhook } from '../src/gitlab/webhook-event.js';
import { GITLAB_EVENT_NAMES, GITLAB_EVENT_PREFIX, unknownGitLabEventType } from '../src/sandbox/gitlab-event-types.js';
import { manifestWarnings } from '../src/sandbox/manifest.js';
import { loadGitLabWebhookFixtures } from './fixtures/gitlab-webhooks/index.js';

describe('the GitLab event types trigger declarations are checked against', () => {
  test('hold the type of every documented webhook payload, as the webhook mapping names it', () => {
    for (const fixture of loadGitLabWebhookFixtures()) {
      const source = { name: 'main', secret: 's' };
      const { event } = normalizeGitLabWebhook({
        headers: { 'x-gitlab-event': fixture.header },
        body: fixture.body,
        source,
        receivedAt: 0,
      });
      assert.ok(GITLAB_EVENT_NAMES.has(event.type.slice(GITLAB_EVENT_PREFIX.length)), `${fixture.file}: ${event.type}`);
    }
  });

  test('hold every type docs/gitlab-events.md names', () => {
    const doc = readFileSync(new URL('../docs/gitlab-events.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('| Hook |'), doc.indexOf('"receipt" means'));
    const verbs = doc.slice(doc.indexOf('**Verbs.**'), doc.indexOf('**Things to know'));
    const named = new Set<string>();
    for (const row of table
      .split('\n')
      .filter((line) => line.startsWith('| ') && !line.startsWith('| Hook') && !line.startsWith('| ---'))) {
      // The fourth column holds the types (and GitLab's event names in parentheses, which are not types).
      const types = row.split(' | ')[3]!.replace(/\([^)]*\)/g, '');
      for (const [, name] of types.matchAll(/`([a-z_]+)`/g)) named.add(name!);
    }
    for (const [, name] of verbs.matchAll(/`((?:pipeline|job)_[a-z_]+)`/g)) named.add(name!);
    assert.ok(named.size > 60, `read ${named.size} types from the docs`);
    assert.deepEqual(
      [...named].filter((name) => !GITLAB_EVENT_NAMES.has(name)),
      [],
    );
  });
});

describe('a trigger on a type GitLab never sends', () => {
  test('is warned of, with the type it probably meant', () => {
    const cases: Array<[string, string]> = [
      ['issue_opened', 'issue_created'],
      ['merge_request_opened', 'merge_request_created'],
      ['pipeline_success', 'pipeline_succeeded'],
      ['build_failed', 'job_failed'],
      ['issue_udpated', 'issue_updated'],
      ['merge_requst_merged', 'merge_request_merged'],
      ['tag_pushed', 'tag_push'],
    ];
    for (const [name, meant] of cases) {
      const warning = unknownGitLabEventType(GITLAB_EVENT_PREFIX + name);
      assert.match(
        warning ?? '',
        new RegExp(
          `^GitLab sends no event of type com\\.gitlab\\.events\\.${name}, so the trigger never fires; did you mean com\\.gitlab\\.events\\.${meant}\\?`,
        ),
        name,
      );
    }
    assert.match(
      unknownGitLabEventType('com.gitlab.events.something_else') ?? '',
      /^GitLab sends no event of type .*never fires \(docs\/gitlab-events\.md lists the types\)$/,
    );
  });

  test('globs pass when they can match a known type', () => {
    for (const type of [
      'com.gitlab.events.issue_*',
      'com.gitlab.events.*',
      'com.gitlab.events.pipeline_*ed',
      'com.gitlab.events.merge_request_*',
    ]) {
      assert.equal(unknownGitLabEventType(type), undefined, type);
    }
    assert.match(
      unknownGitLabEventType('com.gitlab.events.issues_*') ?? '',
      /^the glob com\.gitlab\.events\.issues_\* matches no event type GitLab sends.*did you mean com\.gitlab\.events\.issue_\*\?/,
    );
  });

  test('known types and types of other sources are not', () => {
    for (const type of [
      'com.gitlab.events.issue_created',
      'com.gitlab.events.merge_request',
      'com.gitlab.events.repository_update',
      'com.example.issue_opened',
    ]) {
      assert.equal(unknownGitLabEventType(type), undefined, type);
    }
  });

  test("the declaration's warnings name the trigger", () => {
    const manifest = {
      name: 'x',
      triggers: [{ cron: '0 6 * * *' }, { event: 'com.gitlab.events.issue_created' }, { event: 'com.gitlab.events.issue_opened' }],
      permissions: {},
      validatesInput: false,
    };
    assert.deepEqual(
      manifestWarnings(manifest).map((warning) => warning.split(':')[0]),
      ['triggers[2].event'],
    );
  });
});
