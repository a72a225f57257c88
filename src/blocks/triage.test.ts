import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TriageRule } from '../sdk/triage-policy.js';
import { intervalBefore, limited, listQuery, matches, memberMatches } from './triage-conditions.js';
import { renderTemplate, strftime, type TriageResource } from './triage-template.js';

const AT = new Date('2026-03-31T12:00:00Z');

const issue = (fields: Partial<TriageResource> & Record<string, unknown>): TriageResource => ({
  iid: 1,
  type: 'issues',
  state: 'opened',
  labels: [],
  author: { username: 'dana' },
  assignees: [],
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  ...fields,
});

const rule = (conditions: TriageRule['conditions']): TriageRule => ({ name: 'r', conditions, actions: {} });

describe('triage conditions', () => {
  test('months and years go back by the calendar, to the end of a shorter month, as ActiveSupport does', () => {
    assert.equal(intervalBefore(AT, { interval: 1, intervalType: 'months' }).toISOString(), '2026-02-28T12:00:00.000Z');
    assert.equal(intervalBefore(AT, { interval: 6, intervalType: 'months' }).toISOString(), '2025-09-30T12:00:00.000Z');
    assert.equal(intervalBefore(AT, { interval: 13, intervalType: 'months' }).toISOString(), '2025-02-28T12:00:00.000Z');
    assert.equal(intervalBefore(AT, { interval: 2, intervalType: 'weeks' }).toISOString(), '2026-03-17T12:00:00.000Z');
    assert.equal(intervalBefore(AT, { interval: 1, intervalType: 'years' }).toISOString(), '2025-03-31T12:00:00.000Z');
  });

  test('GitLab filters what it can; the answer is checked again', () => {
    const query = listQuery(
      rule({
        state: 'opened',
        forbiddenLabels: ['wontfix', 'duplicate'],
        milestone: { kind: 'none' },
        date: { attribute: 'updated_at', condition: 'older_than', intervalType: 'days', interval: 30 },
        draft: true,
      }),
      'merge_requests',
      ['bug', 'team::a'],
      AT,
    );
    assert.deepEqual(query, {
      order_by: 'created_at',
      sort: 'desc',
      state: 'opened',
      labels: 'bug,team::a',
      'not[labels]': 'wontfix,duplicate',
      milestone: 'None',
      updated_before: '2026-03-01T12:00:00.000Z',
      wip: 'yes',
    });
    assert.equal(listQuery(rule({ state: 'merged' }), 'issues', undefined, AT).state, undefined, 'issues have no merged state to ask for');
  });

  test('labels: one alternative must be complete, forbidden ones exclude, no_additional_labels allows nothing else', () => {
    const conditions: TriageRule['conditions'] = {
      labels: {
        kind: 'all_of_one',
        alternatives: [
          ['bug', 'team::a'],
          ['bug', 'team::b'],
        ],
      },
    };
    assert.equal(matches(issue({ labels: ['bug', 'team::b'] }), conditions, AT), true);
    assert.equal(matches(issue({ labels: ['bug'] }), conditions, AT), false);
    assert.equal(matches(issue({ labels: ['bug', 'team::a', 'extra'] }), conditions, AT), true);
    assert.equal(matches(issue({ labels: ['bug', 'team::a', 'extra'] }), { ...conditions, noAdditionalLabels: true }, AT), false);
    assert.equal(matches(issue({ labels: ['bug', 'team::a', 'wontfix'] }), { ...conditions, forbiddenLabels: ['wontfix'] }, AT), false);
    assert.equal(matches(issue({ labels: [] }), { labels: { kind: 'none' } }, AT), true);
    assert.equal(matches(issue({ labels: ['x'] }), { labels: { kind: 'none' } }, AT), false);
  });

  test('dates, votes, notes, milestones and drafts compare as the gem does', () => {
    const older = {
      date: { attribute: 'updated_at' as const, condition: 'older_than' as const, intervalType: 'days' as const, interval: 30 },
    };
    assert.equal(matches(issue({ updated_at: '2026-02-01T00:00:00Z' }), older, AT), true);
    assert.equal(matches(issue({ updated_at: '2026-03-20T00:00:00Z' }), older, AT), false);
    const closed = { date: { ...older.date, attribute: 'closed_at' as const } };
    assert.equal(matches(issue({ closed_at: null }), closed, AT), false, 'an open issue has no closed_at to compare');
    assert.equal(matches(issue({ upvotes: 5 }), { votes: { attribute: 'upvotes', condition: 'greater_than', threshold: 4 } }, AT), true);
    assert.equal(matches(issue({ upvotes: 4 }), { votes: { attribute: 'upvotes', condition: 'greater_than', threshold: 4 } }, AT), false);
    assert.equal(
      matches(issue({ user_notes_count: 0 }), { discussions: { attribute: 'notes', condition: 'less_than', threshold: 1 } }, AT),
      true,
    );
    assert.equal(matches(issue({ milestone: { title: 'v1' } }), { milestone: { kind: 'title', title: 'v1' } }, AT), true);
    assert.equal(matches(issue({ milestone: null }), { milestone: { kind: 'any' } }, AT), false);
    const mr = issue({ type: 'merge_requests', draft: false, title: 'Ready' });
    assert.equal(matches(mr, { draft: true }, AT), false);
    assert.equal(matches({ ...mr, draft: true }, { draft: true }, AT), true);
  });

  test('membership: the author, or any assignee; an unassigned resource meets neither form', () => {
    const team = new Set(['alice', 'bob']);
    assert.equal(memberMatches(issue({ author: { username: 'alice' } }), 'author', 'member_of', team), true);
    assert.equal(memberMatches(issue({ author: { username: 'erin' } }), 'author', 'not_member_of', team), true);
    assert.equal(memberMatches(issue({ assignees: [{ username: 'erin' }, { username: 'bob' }] }), 'assignee', 'member_of', team), true);
    assert.equal(memberMatches(issue({ assignees: [] }), 'assignee', 'not_member_of', team), false);
  });

  test('limits keep the most recent or the oldest', () => {
    const three = ['2026-01-02', '2026-01-03', '2026-01-01'].map((day, i) => issue({ iid: i + 1, created_at: `${day}T00:00:00Z` }));
    assert.deepEqual(
      limited(three, { order: 'most_recent', count: 2 }).map((item) => item.iid),
      [2, 1],
    );
    assert.deepEqual(
      limited(three, { order: 'oldest', count: 1 }).map((item) => item.iid),
      [3],
    );
  });
});

describe('triage templates', () => {
  test('placeholders become GitLab references; Ruby fields and dates are filled in', () => {
    const resource = issue({
      title: 'Crash',
      labels: ['bug', 'team::a'],
      assignees: [{ username: 'bob' }, { username: 'carol' }],
      milestone: { title: 'Sprint 1' },
      related_merge_requests: [{ iid: 7 }],
    });
    const text = renderTemplate(
      [
        { kind: 'placeholder', name: 'author' },
        { kind: 'text', text: ' | ' },
        { kind: 'placeholder', name: 'assignees' },
        { kind: 'text', text: ' | ' },
        { kind: 'placeholder', name: 'labels' },
        { kind: 'text', text: ' | ' },
        { kind: 'placeholder', name: 'milestone' },
        { kind: 'text', text: ' | ' },
        { kind: 'field', path: ['type'], transform: 'capitalize' },
        { kind: 'text', text: ' !' },
        { kind: 'field', path: ['related_merge_requests', 0, 'iid'] },
        { kind: 'text', text: ' by ' },
        { kind: 'date', days: 2, format: '%Y-%m-%d (%a)' },
      ],
      { resource, type: 'issues', at: AT },
    );
    assert.equal(text, '@dana | @bob, @carol | ~"bug", ~"team::a" | %"Sprint 1" | Issues !7 by 2026-04-02 (Thu)');
  });

  test('strftime: the usual directives, in UTC', () => {
    assert.equal(
      strftime(new Date('2026-02-03T04:05:06Z'), '%Y/%m/%d %H:%M:%S %b %B %A %j %y %e %%'),
      '2026/02/03 04:05:06 Feb February Tuesday 034 26  3 %',
    );
  });
});
