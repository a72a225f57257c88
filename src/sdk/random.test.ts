import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRandom, uuid4From } from './random.js';

test('the same seed draws the same numbers; another seed draws others', () => {
  const draw = (seed: string) => {
    const random = createRandom(seed);
    return Array.from({ length: 5 }, () => random.next());
  };
  assert.deepEqual(draw('run-1'), draw('run-1'));
  assert.notDeepEqual(draw('run-1'), draw('run-2'));
});

test('numbers are spread over [0, 1) like Math.random', () => {
  const random = createRandom('spread');
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) {
    const value = random.next();
    assert.ok(value >= 0 && value < 1);
    buckets[Math.floor(value * 10)]! += 1;
  }
  for (const count of buckets) assert.ok(Math.abs(count - 10_000) < 500, `bucket of ${count} is far from 10,000`);
});

test('uuid4 gives well-formed, distinct, reproducible version-4 UUIDs', () => {
  const ids = (seed: string) => {
    const random = createRandom(seed);
    return Array.from({ length: 1000 }, () => uuid4From(random));
  };
  const first = ids('u');
  assert.deepEqual(first, ids('u'));
  assert.equal(new Set(first).size, first.length);
  for (const id of first) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
