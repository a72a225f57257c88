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
  assert.equal(pool.size, 2, 'the emptied cell stays for the next run: runs one after another do not create a cell each');
  const third = pool.acquire(limits.memoryLimitBytes);
  await pool.settled();
  assert.equal(pool.size, 2, 'the next run took a kept cell and the other is still the spare');
  third.release();
});

test('of three empty cells one is dropped, returning its memory', async () => {
  const pool = await CellPool.create({ cellBytes: 64 * MIB });
  const crowded = pool.acquire(limits.memoryLimitBytes);
  crowded.report(50 * MIB);
  await pool.settled();
  const elsewhere = pool.acquire(limits.memoryLimitBytes);
  assert.notEqual(elsewhere.cell, crowded.cell, 'the first cell has no room left for twice the limit');
  await pool.settled();
  assert.equal(pool.size, 3, 'a new spare replaced the one taken');
  crowded.release();
  assert.equal(pool.size, 3);
  elsewhere.release();
  assert.equal(pool.size, 2);
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

test("a run stopped by a limit in the middle of QuickJS's work leaves its neighbours running; its cell retires", async () => {
  const pool = await CellPool.create({ cellBytes: 64 * MIB });
  const neighbour = new Vm(pool.acquire(limits.memoryLimitBytes), limits);
  const stopped = new Vm(pool.acquire(limits.memoryLimitBytes), { ...limits, cpuMs: 50 });
  assert.equal(stopped.tenancy.cell, neighbour.tenancy.cell);
  // Interrupted inside a chain of promise jobs, its runtime failed QuickJS's check that nothing was left when it was
  // freed: an assertion, which aborted the cell's whole module, and every run in it was replayed elsewhere.
  const loop = 'const loop = () => Promise.resolve().then(loop); loop();';
  assert.throws(() => stopped.withDeadline(() => (stopped.evaluate(loop, 'loop.js'), stopped.drain())), /cpu limit/);
  stopped.dispose();
  assert.equal(neighbour.evaluate('String(6 * 7)', 'ok.js'), '42');
  assert.equal(neighbour.tenancy.cell.broken, false);
  await pool.settled();
  const next = pool.acquire(limits.memoryLimitBytes);
  assert.notEqual(next.cell, neighbour.tenancy.cell, 'the retired cell takes no new run');
  const retired = neighbour.tenancy.cell;
  neighbour.dispose();
  assert.equal(retired.tenants, 0);
  assert.ok(!retired.fits(0), 'dropped once empty: it fits nothing');
  next.release();
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
