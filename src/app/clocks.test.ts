import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSystemClock, VirtualClock } from './clocks.js';

test('the system clock never calls back inside schedule(), even for a time already past', async () => {
  const clock = createSystemClock();
  let called = false;
  const fired = new Promise<void>((resolve) =>
    clock.schedule(clock.now() - 1000, () => {
      called = true;
      resolve();
    }),
  );
  assert.equal(called, false);
  await fired;
  assert.equal(called, true);
});

test('the virtual clock runs due callbacks in time order, only when advanced', () => {
  const clock = new VirtualClock(0);
  const order: string[] = [];
  clock.schedule(20, () => order.push('b'));
  clock.schedule(10, () => order.push('a'));
  const cancel = clock.schedule(15, () => order.push('cancelled'));
  cancel();
  assert.deepEqual(order, []);
  clock.advance(30);
  assert.deepEqual(order, ['a', 'b']);
  assert.equal(clock.now(), 30);
});
