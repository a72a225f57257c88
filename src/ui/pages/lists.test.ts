import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoredEvent } from '../../core/model.js';
import { subjectOf } from './lists.js';

const event = (type: string, data: unknown, subject?: string): StoredEvent => ({ type, data, subject }) as unknown as StoredEvent;

test('events are labelled the way GitLab references their object: milestones with %, not as issues', () => {
  const project = { path_with_namespace: 'demo/app' };
  assert.equal(
    subjectOf(
      event('com.gitlab.events.milestone_closed', { object_kind: 'milestone', project, object_attributes: { iid: 2, title: 'Sprint 1' } }),
    ),
    'milestone demo/app%"Sprint 1"',
  );
  assert.equal(subjectOf(event('com.gitlab.events.milestone_closed', { project, object_attributes: { iid: 2 } })), 'milestone demo/app%2');
  assert.equal(
    subjectOf(event('com.gitlab.events.issue_opened', { project, object_attributes: { iid: 42, title: 'Broken' } })),
    'demo/app#42 Broken',
  );
  assert.equal(
    subjectOf(event('com.gitlab.events.merge_request_opened', { project, object_attributes: { iid: 7, title: 'Fix' } })),
    'demo/app!7 Fix',
  );
  // A pipeline's iid is its number in the project, not an issue: `demo/app#3` would name issue 3.
  assert.equal(
    subjectOf(
      event(
        'com.gitlab.events.pipeline_succeeded',
        { object_kind: 'pipeline', project, object_attributes: { id: 31, iid: 3 } },
        'demo/app/-/pipelines/31',
      ),
    ),
    'demo/app/-/pipelines/31',
  );
});
