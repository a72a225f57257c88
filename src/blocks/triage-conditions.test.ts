import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TriageRule } from '../sdk/triage-policy.js';
import { listQuery, matches } from './triage-conditions.js';
import type { TriageResource } from './triage-template.js';

const AT = { at: new Date('2026-03-31T12:00:00Z'), today: '2026-03-31' };

const issue = (fields: Record<string, unknown>): TriageResource => ({ iid: 1, type: 'issues', state: 'opened', labels: [], ...fields });
const mergeRequest = (fields: Record<string, unknown>): TriageResource => ({ ...issue(fields), type: 'merge_requests' });
const rule = (conditions: TriageRule['conditions']): TriageRule => ({ name: 'r', conditions, actions: {} });

describe('no_additional_labels', () => {
  test('without labels, only a resource with no label passes (what the gem means; it raises instead, and the reader refuses)', () => {
    const conditions = { noAdditionalLabels: true };
    assert.equal(matches(issue({ labels: [] }), conditions, AT), true);
    assert.equal(matches(issue({ labels: ['bug'] }), conditions, AT), false);
  });

  test('with Any it leaves nothing (every label is one too many); with None only the unlabelled', () => {
    assert.equal(matches(issue({ labels: ['bug'] }), { labels: { kind: 'any' }, noAdditionalLabels: true }, AT), false);
    assert.equal(matches(issue({ labels: [] }), { labels: { kind: 'none' }, noAdditionalLabels: true }, AT), true);
    assert.equal(matches(issue({ labels: ['bug'] }), { labels: { kind: 'none' }, noAdditionalLabels: true }, AT), false);
  });
});

describe('milestone timeboxes', () => {
  const upcoming = { milestone: { kind: 'title' as const, title: 'upcoming' } };
  const started = { milestone: { kind: 'title' as const, title: 'Started' } };

  test("issues ask GitLab's milestone_id, titleized as its API wants; merge requests send the word as a title, as the gem does", () => {
    assert.equal(listQuery(rule(upcoming), 'issues', AT).milestone_id, 'Upcoming');
    assert.equal(listQuery(rule(started), 'issues', AT).milestone_id, 'Started');
    assert.equal(listQuery(rule(upcoming), 'issues', AT).milestone, undefined);
    const mr = listQuery(rule(upcoming), 'merge_requests', AT);
    assert.deepEqual([mr.milestone, mr.milestone_id], ['upcoming', undefined]);
  });

  test('the answer is checked: started is an active milestone whose start has come; upcoming an active one due later', () => {
    const inMilestone = (milestone: Record<string, unknown> | null): TriageResource =>
      issue({ milestone: milestone && { title: 'Sprint', state: 'active', start_date: null, due_date: null, ...milestone } });
    assert.equal(matches(inMilestone({ start_date: '2026-03-31' }), started, AT), true);
    assert.equal(matches(inMilestone({ start_date: '2026-04-01' }), started, AT), false, 'not started yet');
    assert.equal(matches(inMilestone({ start_date: '2026-03-01', state: 'closed' }), started, AT), false, 'closed');
    assert.equal(matches(inMilestone({}), started, AT), false, 'no start date');
    assert.equal(matches(inMilestone({ due_date: '2026-04-01' }), upcoming, AT), true);
    assert.equal(matches(inMilestone({ due_date: '2026-03-31' }), upcoming, AT), false, 'due today');
    assert.equal(matches(inMilestone(null), upcoming, AT), false);
    const titled = mergeRequest({ milestone: { title: 'upcoming', state: 'closed' } });
    assert.equal(matches(titled, upcoming, AT), true, 'a merge request matches the title');
  });
});

describe('reviewer_id', () => {
  test('asked of GitLab for merge requests, and checked on the reviewers it lists', () => {
    assert.equal(listQuery(rule({ reviewerId: 7 }), 'merge_requests', AT).reviewer_id, 7);
    assert.equal(listQuery(rule({ reviewerId: 'none' }), 'merge_requests', AT).reviewer_id, 'None');
    const reviewed = mergeRequest({ reviewers: [{ id: 7, username: 'bob' }] });
    const unreviewed = mergeRequest({ reviewers: [] });
    assert.equal(matches(reviewed, { reviewerId: 7 }, AT), true);
    assert.equal(matches(reviewed, { reviewerId: 8 }, AT), false);
    assert.equal(matches(reviewed, { reviewerId: 'any' }, AT), true);
    assert.equal(matches(unreviewed, { reviewerId: 'any' }, AT), false);
    assert.equal(matches(unreviewed, { reviewerId: 'none' }, AT), true);
  });
});
