import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACK_KEPT, runsPager } from './runs-pager.js';

test('the first page links only forwards; each next link carries the way back', () => {
  assert.deepEqual(runsPager({}, 'c1'), { next: { cursor: 'c1', back: '~' } });
  assert.deepEqual(runsPager({ cursor: 'c1', back: '~' }, 'c2'), { first: {}, previous: {}, next: { cursor: 'c2', back: '~.c1' } });
  assert.deepEqual(runsPager({ cursor: 'c2', back: '~.c1' }, 'c3'), {
    first: {},
    previous: { cursor: 'c1', back: '~' },
    next: { cursor: 'c3', back: '~.c1.c2' },
  });
  assert.deepEqual(runsPager({ cursor: 'c3', back: '~.c1.c2' }, undefined), { first: {}, previous: { cursor: 'c2', back: '~.c1' } });
  assert.deepEqual(runsPager({}, undefined), {}, 'one page: no links');
});

test('a page opened without a way back, or with one this module did not write, links to the first page only', () => {
  assert.deepEqual(runsPager({ cursor: 'c5' }, 'c6'), { first: {}, next: { cursor: 'c6', back: 'c5' } });
  assert.deepEqual(runsPager({ cursor: 'c5', back: '~.<script>' }, undefined), { first: {} });
  assert.deepEqual(runsPager({ back: '~.c1' }, undefined), {}, 'the first page has no previous, whatever back says');
});

test(`the way back keeps the last ${BACK_KEPT} pages, so the address stays short`, () => {
  const cursors = Array.from({ length: BACK_KEPT + 5 }, (_, index) => `c${index + 1}`);
  let current: { cursor?: string; back?: string } = {};
  for (const cursor of cursors) current = runsPager(current, cursor).next!;
  assert.equal(current.cursor, `c${BACK_KEPT + 5}`);
  assert.deepEqual(current.back?.split('.'), cursors.slice(4, -1), 'the oldest pages, the first among them, are dropped');
  for (let step = 0; step < BACK_KEPT; step++) current = runsPager(current, undefined).previous!;
  assert.deepEqual(current, { cursor: 'c5' });
  assert.deepEqual(
    runsPager(current, 'c6'),
    { first: {}, next: { cursor: 'c6', back: 'c5' } },
    'from there, only the first page leads back',
  );
});
