import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRunsFilter } from './runs-filter.js';

test('a valid filter is kept whole; the day range ends before the midnight after `to`', () => {
  const filter = parseRunsFilter({ workflow: 'ui-form', status: 'failed', from: '2026-01-01', to: '2026-01-31' });
  assert.deepEqual(filter, {
    workflow: 'ui-form',
    status: 'failed',
    from: '2026-01-01',
    to: '2026-01-31',
    createdFrom: Date.UTC(2026, 0, 1),
    createdBefore: Date.UTC(2026, 1, 1),
    ignored: [],
  });
});

test('an unknown status or a day that is no date is left out, said why, and the rest is kept', () => {
  const filter = parseRunsFilter({ workflow: 'ui-form', status: 'bogus', from: 'not-a-date', to: '2026-02-30' });
  assert.equal(filter.workflow, 'ui-form');
  assert.equal(filter.status, undefined);
  assert.equal(filter.createdFrom, undefined);
  assert.equal(filter.createdBefore, undefined, '2026-02-30 is no calendar day');
  assert.equal(filter.ignored.length, 3);
  assert.match(filter.ignored[0]!, /Status “bogus” is not a run status \(queued, running, completed/);
  assert.match(filter.ignored[1]!, /“not-a-date” is not a date written YYYY-MM-DD/);
  assert.match(filter.ignored[2]!, /“2026-02-30”/);
});

test('a reversed day range is turned round and said so, rather than matching nothing', () => {
  const filter = parseRunsFilter({ from: '2030-01-01', to: '2020-01-01' });
  assert.equal(filter.from, '2020-01-01');
  assert.equal(filter.to, '2030-01-01');
  assert.equal(filter.createdFrom, Date.UTC(2020, 0, 1));
  assert.equal(filter.createdBefore, Date.UTC(2030, 0, 2));
  assert.match(filter.ignored[0]!, /wrong way round \(from 2030-01-01 to 2020-01-01\)/);
});
