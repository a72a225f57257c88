import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventKeyForShape, waitIndexEntry } from './correlation.js';
import { globMatches, matchesFilter, triggerMatches } from './filter.js';
import type { CloudEvent } from './model.js';

const issueEvent: CloudEvent = {
  specversion: '1.0',
  id: '1',
  source: 'https://gitlab.example.com/acme/app',
  type: 'com.gitlab.events.issue_updated',
  subject: 'acme/app#42',
  data: {
    object_attributes: { iid: 42, title: 'Crash on start', milestone_id: null },
    labels: [{ title: 'bug' }, { title: 'group::environments' }],
    changes: { milestone_id: { previous: null, current: 7 } },
    project: { path_with_namespace: 'acme/app' },
  },
};

describe('trigger filters', () => {
  test('plain values, equals, in, exists, glob and not', () => {
    assert.ok(matchesFilter(issueEvent, { 'object_attributes.iid': 42 }));
    assert.ok(!matchesFilter(issueEvent, { 'object_attributes.iid': 43 }));
    assert.ok(matchesFilter(issueEvent, { 'object_attributes.iid': { in: [1, 42] } }));
    assert.ok(matchesFilter(issueEvent, { 'changes.milestone_id': { exists: true } }));
    assert.ok(matchesFilter(issueEvent, { 'changes.labels': { exists: false } }));
    assert.ok(!matchesFilter(issueEvent, { 'object_attributes.milestone_id': { exists: true } }), 'null counts as absent');
    assert.ok(matchesFilter(issueEvent, { 'project.path_with_namespace': { glob: 'acme/*' } }));
    assert.ok(matchesFilter(issueEvent, { 'object_attributes.title': { not: { glob: '*WIP*' } } }));
  });

  test('paths look through arrays: any label may match', () => {
    assert.ok(matchesFilter(issueEvent, { 'labels.title': 'group::environments' }));
    assert.ok(!matchesFilter(issueEvent, { 'labels.title': 'feature' }));
  });

  test('CloudEvent attributes are addressed by name, everything else inside data', () => {
    assert.ok(matchesFilter(issueEvent, { subject: 'acme/app#42', source: { glob: 'https://gitlab.example.com/*' } }));
  });

  test('trigger event types may be globs', () => {
    assert.ok(triggerMatches({ event: 'com.gitlab.events.issue_*' }, issueEvent));
    assert.ok(!triggerMatches({ event: 'com.gitlab.events.merge_request_*' }, issueEvent));
    assert.ok(!triggerMatches({ cron: '* * * * *' }, issueEvent));
    assert.ok(globMatches('release-?.x', 'release-1.x'));
    assert.ok(!globMatches('a.b', 'axb'), 'dots are literal');
  });
});

describe('wait correlation keys', () => {
  test('an event yields the key of a wait whose match it satisfies, whatever the key order', () => {
    const wait = waitIndexEntry({ subject: 'acme/app#42', 'object_attributes.iid': 42 });
    assert.deepEqual(wait.paths, ['object_attributes.iid', 'subject']);
    assert.equal(eventKeyForShape(issueEvent, wait.paths), wait.key);
    assert.notEqual(eventKeyForShape(issueEvent, wait.paths), waitIndexEntry({ subject: 'acme/app#42', 'object_attributes.iid': 41 }).key);
    assert.equal(eventKeyForShape(issueEvent, ['object_attributes.nope']), undefined);
  });
});

describe('inherited properties', () => {
  test('a path never reaches properties the payload does not have itself', () => {
    assert.ok(!matchesFilter(issueEvent, { 'object_attributes.constructor': { exists: true } }));
    assert.ok(!matchesFilter(issueEvent, { 'labels.toString': { exists: true } }));
  });
});
