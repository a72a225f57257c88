import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CellPool } from './cells.js';
import { Vm } from './vm.js';

const MIB = 1024 * 1024;
const limits = { memoryLimitBytes: 8 * MIB, cpuMs: 1000, maxStackBytes: 256 * 1024 };

test('runs share a cell, and an empty spare cell is kept ready for the next ones', async () => {
  const pool = await CellPool.create({ cellBytes: 64 * MIB });
  const first = pool.acquire(limits.memoryLimitBytes);
  const second = pool.acquire(limits.memoryLimitBytes);
  assert.equal(first.cell, second.cell);
  await pool.settled();
  assert.equal(pool.size, 2, 'a spare was created in the background');
  first.release();
  second.release();
  assert.equal(pool.size, 1, 'of two empty cells one is dropped, returning its memory');
});

test('a crashed cell takes no new runs and is dropped when its last run leaves', async () => {
  const pool = await CellPool.create({ cellBytes: 64 * MIB });
  const victim = pool.acquire(limits.memoryLimitBytes);
  await pool.settled();
  victim.markCellBroken();
  const next = pool.acquire(limits.memoryLimitBytes);
  assert.notEqual(next.cell, victim.cell);
  victim.release();
  await pool.settled();
  assert.ok(pool.size >= 1 && next.cell.tenants === 1 && !next.cell.broken, 'the broken cell is gone, the healthy one keeps its run');
  next.release();
});

test('a cell whose memory grew past half its capacity takes no new runs', async () => {
  const pool = await CellPool.create({ cellBytes: 64 * MIB });
  const vm = new Vm(pool.acquire(limits.memoryLimitBytes), { ...limits, memoryLimitBytes: 48 * MIB });
  // 24 MB of elements, more while the array grows: past half of the cell's 64 MiB.
  vm.withDeadline(() => vm.evaluate('globalThis.big = new Array(3_000_000).fill(1); 1', 'grow.js'));
  await pool.settled();
  const next = pool.acquire(limits.memoryLimitBytes);
  assert.notEqual(next.cell, vm.tenancy.cell);
  next.release();
  vm.dispose();
});

test('the other runs of a crashed cell fail cleanly instead of running in a corrupt module', async () => {
  const pool = await CellPool.create({ cellBytes: 64 * MIB });
  const neighbour = new Vm(pool.acquire(limits.memoryLimitBytes), limits);
  const crasher = new Vm(pool.acquire(limits.memoryLimitBytes), limits);
  assert.equal(neighbour.tenancy.cell, crasher.tenancy.cell);
  // Deep native recursion overflows V8's stack inside the WebAssembly code.
  assert.throws(() => crasher.withDeadline(() => crasher.evaluate(`JSON.parse('['.repeat(200000) + ']'.repeat(200000))`, 'deep.js')), {
    name: 'Error',
    message: 'sandbox stack limit reached',
  });
  assert.throws(() => neighbour.evaluate('1 + 1', 'x.js'), /cell crashed .*another run in the same cell crashed it/);
  crasher.dispose();
  neighbour.dispose();
  await pool.settled();
  const fresh = new Vm(pool.acquire(limits.memoryLimitBytes), limits);
  assert.equal(fresh.evaluate('String(6 * 7)', 'ok.js'), '42');
  fresh.dispose();
});

test('a limit too big to share a cell gets a cell of its own, without endless growth', async () => {
  const pool = await CellPool.create({ cellBytes: 64 * MIB });
  const huge = 1536 * MIB;
  const first = pool.acquire(huge);
  await pool.settled();
  const second = pool.acquire(huge);
  await pool.settled();
  assert.notEqual(first.cell, second.cell);
  assert.ok(pool.size <= 3, `${pool.size} cells for two runs`);
  first.release();
  second.release();
});
