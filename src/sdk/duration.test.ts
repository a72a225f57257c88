import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toMilliseconds } from './duration.js';

test('durations read as authors write them', () => {
  assert.equal(toMilliseconds(1500), 1500);
  assert.equal(toMilliseconds('500ms'), 500);
  assert.equal(toMilliseconds('90s'), 90_000);
  assert.equal(toMilliseconds('15m'), 900_000);
  assert.equal(toMilliseconds('2h'), 7_200_000);
  assert.equal(toMilliseconds('7d'), 604_800_000);
  assert.equal(toMilliseconds('1w'), 604_800_000);
  assert.equal(toMilliseconds('1h30m'), 5_400_000);
  assert.equal(toMilliseconds('1h 30m 15s'), 5_415_000);
  assert.equal(toMilliseconds('1.5h'), 5_400_000);
});

test('a duration that cannot be read says what to write instead', () => {
  for (const bad of ['5 minutes', '', '10', 'h', '1h30', '-5m', '1y']) {
    assert.throws(
      () => toMilliseconds(bad),
      (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(
          error.message,
          new RegExp(`^Invalid duration '${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}': use milliseconds or a string like '500ms'`),
        );
        return true;
      },
    );
  }
  assert.throws(() => toMilliseconds(-1), /Invalid duration -1/);
  assert.throws(() => toMilliseconds(Number.NaN), /Invalid duration NaN/);
  assert.throws(() => toMilliseconds({} as never, 'timeout'), /Invalid timeout of type object/);
});
