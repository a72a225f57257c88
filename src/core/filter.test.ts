import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventKeyForShape, waitIndexEntry } from './correlation.js';
import { DefinitionError } from './errors.js';
import { filterProblems, matchesFilter, triggerMatches, triggerTypeMatches } from './filter.js';
import { globMatches } from './glob.js';
import type { CloudEvent, Filter } from './model.js';

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

const order = (data: CloudEvent['data']): CloudEvent => ({
  specversion: '1.0',
  id: 'o1',
  source: 'shop',
  type: 'com.example.order.created',
  data,
});

describe('filter semantics', () => {
  test('equals with a list or an object compares the whole value; a scalar matches the value or any element of a list', () => {
    const event = order({ tags: ['a', 'b'], address: { city: 'Berlin', zip: '10115' }, status: 'paid' });
    assert.ok(matchesFilter(event, { tags: { equals: ['a', 'b'] } }));
    assert.ok(matchesFilter(event, { tags: ['a', 'b'] }), 'a plain value is equals');
    assert.ok(!matchesFilter(event, { tags: { equals: ['b', 'a'] } }), 'order counts');
    assert.ok(!matchesFilter(event, { tags: { equals: ['a'] } }));
    assert.ok(matchesFilter(event, { tags: 'a' }));
    assert.ok(matchesFilter(event, { tags: { equals: 'b' } }));
    assert.ok(matchesFilter(event, { address: { equals: { zip: '10115', city: 'Berlin' } } }), 'key order does not count');
    assert.ok(!matchesFilter(event, { address: { equals: { city: 'Berlin' } } }));
    assert.ok(matchesFilter(event, { tags: { in: [['x'], ['a', 'b']] } }));
    assert.ok(matchesFilter(event, { tags: { in: ['z', 'b'] } }));
    assert.ok(!matchesFilter(event, { status: { in: ['open'] } }));
    assert.ok(!matchesFilter(event, { status: { equals: ['paid'] } }), 'a list operand never equals a scalar');
  });

  test('exists: null and a missing field are absent, so is a list without an element other than null', () => {
    const event = order({ none: null, empty: [], nulls: [null], one: [0], zero: 0, blank: '' });
    for (const path of ['none', 'empty', 'nulls', 'missing', 'missing.deeper']) {
      assert.ok(matchesFilter(event, { [path]: { exists: false } }), path);
      assert.ok(!matchesFilter(event, { [path]: { exists: true } }), path);
    }
    for (const path of ['one', 'zero', 'blank']) assert.ok(matchesFilter(event, { [path]: { exists: true } }), path);
    assert.ok(matchesFilter(event, { none: null }), 'null equals null');
    assert.ok(!matchesFilter(event, { missing: null }), 'a missing field equals nothing, not even null');
  });

  test('not inverts: it holds where the field is missing; glob reads strings and the strings of a list', () => {
    const event = order({ tags: ['release-1', 'x'], count: 5 });
    assert.ok(matchesFilter(event, { missing: { not: { equals: 'x' } } }));
    assert.ok(matchesFilter(event, { tags: { glob: 'release-*' } }));
    assert.ok(!matchesFilter(event, { count: { glob: '5' } }), 'numbers are not strings');
    assert.ok(matchesFilter(event, { tags: { not: { in: ['y', 'z'] } } }));
    assert.ok(!matchesFilter(event, { tags: { not: { equals: 'x' } } }));
  });
});

describe('filter shapes', () => {
  test('malformed operands and unknown operators are reported with the field, the operator and what is expected', () => {
    const problems = filterProblems({
      status: { in: 'paid' },
      ref: { glob: 5 },
      label: { not: { in: null } },
      draft: { exists: 'no' },
      kind: { inn: ['a'] },
      both: { equals: 1, in: [1] },
      ok: { not: { glob: 'a*' } },
      fine: ['a', 'b'],
      'a..b': 1,
    });
    assert.deepEqual(
      problems.map(({ field, operator, what }) => [field, operator, what]),
      [
        ['status', 'in', "operator 'in'"],
        ['ref', 'glob', "operator 'glob'"],
        ['label', 'not.in', "operator 'not.in'"],
        ['draft', 'exists', "operator 'exists'"],
        ['kind', 'inn', "unknown operator 'inn'"],
        ['both', undefined, 'the condition'],
        ['a..b', undefined, 'the field path'],
      ],
    );
    assert.match(problems[0]!.expected, /non-empty list of values/);
    assert.equal(problems[0]!.got, '"paid"');
    assert.equal(problems[3]!.expected, 'true or false');
    assert.match(problems[4]!.expected, /did you mean 'in'\?/);
    assert.deepEqual(filterProblems({ 'labels.title': 'bug', x: { in: [1] }, y: { exists: false }, z: { equals: { a: [1] } } }), []);
    // An operator inside 'in' is an object no field equals: the trigger would never match.
    const [inWithGlob] = filterProblems({ ref: { in: ['refs/heads/main', { glob: 'refs/tags/*' }] } });
    assert.deepEqual([inWithGlob?.field, inWithGlob?.operator], ['ref', 'in']);
    assert.match(inWithGlob?.expected ?? '', /'in' compares them, it applies no operator/);
  });

  test('a filter the checks refuse throws a DefinitionError when matched, instead of a TypeError or a match by accident', () => {
    for (const filter of [
      { status: { in: 'paid' } },
      { ref: { glob: 5 } },
      { label: { not: { in: null } } },
      { draft: { exists: 'no' } },
      'paid',
    ]) {
      assert.throws(() => matchesFilter(order({ status: 'paid' }), filter as unknown as Filter), DefinitionError, JSON.stringify(filter));
    }
  });

  test('trigger types match exactly or by glob', () => {
    assert.ok(triggerTypeMatches({ event: 'com.example.order.*' }, 'com.example.order.created'));
    assert.ok(!triggerTypeMatches({ event: 'com.example.order' }, 'com.example.order.created'));
    assert.ok(!triggerTypeMatches({ cron: '* * * * *' }, 'com.example.order.created'));
  });
});
