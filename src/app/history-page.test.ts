/**
 * Pages of a run's history through the operations, on a SQLite file: pages of any size put together give the
 * whole history, in order, whatever the tasks' rows hold; `next` is where the next page begins.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { NotFoundError } from '../core/errors.js';
import { createQuickJsSandbox } from '../sandbox/quickjs-sandbox.js';
import { commit, events, startRun } from '../store/conformance/fixtures.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import { VirtualClock } from './clocks.js';
import { readHistoryPage } from './history-page.js';
import { createOperations } from './operations-impl.js';
import { HISTORY_PAGE_CHARS, type HistoryPage } from './operations.js';
import { virtualTimeEngine } from '../../test/helpers/engine.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';

const folder = workflowFolder({});
after(() => folder.remove());

test('pages of any size give the whole history in order; next is the seq the following page begins after', async () => {
  const store = createSqliteStore({ path: join(folder.dir, 'history.db') });
  await store.migrate();
  await startRun(store, 'r');
  // Tasks of 1, 4 and 2 events after the first task's 2: a page ends inside a task's row as often as at its end.
  let length = 2;
  for (const size of [1, 4, 2]) {
    const task = commit('r', length, 1000 + length, {
      history: events(length, 1000 + length, ...Array.from({ length: size }, (_, i) => ({ type: 'workflow_task' as const, time: i }))),
    });
    assert.ok((await store.commitTask(task)).ok);
    length += size;
  }
  const clock = new VirtualClock();
  const engine = virtualTimeEngine({ store, sandbox: await createQuickJsSandbox(), clock });
  const operations = createOperations({ engine, store, clock, checkInput: () => {}, webhookSources: [] });
  const whole = await store.loadHistory('r');
  assert.equal(whole.length, 9);
  for (const limit of [1, 2, 3, 4, 5, 8, 9, 10]) {
    const pages: HistoryPage[] = [];
    for (let after: number | undefined; pages.length === 0 || after !== undefined; after = pages.at(-1)!.next) {
      pages.push(await operations.getHistoryPage('r', { after, limit }));
    }
    assert.deepEqual(
      pages.flatMap((page) => page.events),
      whole,
      `pages of ${limit}`,
    );
    assert.equal(pages.length, Math.ceil(9 / limit), `pages of ${limit}: none empty, none more than needed`);
    for (const page of pages.slice(0, -1)) assert.equal(page.next, page.events.at(-1)!.seq);
  }
  assert.deepEqual(await operations.getHistoryPage('r', { after: 8 }), { events: [] });
  assert.equal((await operations.getHistoryPage('r')).events.length, 9, 'a page is 1000 events unless asked otherwise');
  await assert.rejects(operations.getHistoryPage('nope'), NotFoundError);

  // The latest events, for the web UI's run page, and the history's length.
  assert.deepEqual(await operations.getHistoryTail('r', 3), { events: whole.slice(6), length: 9 });
  assert.deepEqual(await operations.getHistoryTail('r', 4), { events: whole.slice(5), length: 9 }, 'from inside a task of 4');
  assert.deepEqual(await operations.getHistoryTail('r', 20), { events: whole, length: 9 });
  assert.deepEqual(await operations.getHistoryTail('r', 0), { events: [], length: 9 });
  await assert.rejects(operations.getHistoryTail('nope', 3), NotFoundError);
  await store.close();
});

test("a page of large events ends at its size, with the cursor for the rest; the web UI's latest events too", async () => {
  const store = createSqliteStore({ path: join(folder.dir, 'large.db') });
  await store.migrate();
  await startRun(store, 'r');
  // Twelve calls that each answered 1.5 MB, a task apiece, between the first task's 2 events and a last small one.
  let length = 2;
  for (let step = 1; step <= 12; step++) {
    const value = String(step).padEnd(1_500_000, '.');
    const task = commit('r', length, 1000 + length, {
      history: events(length, 1000 + length, { type: 'call_completed', step, value, attempts: 1 }, { type: 'workflow_task', time: step }),
    });
    assert.ok((await store.commitTask(task)).ok);
    length += 2;
  }
  const clock = new VirtualClock();
  const engine = virtualTimeEngine({ store, sandbox: await createQuickJsSandbox(), clock });
  const operations = createOperations({ engine, store, clock, checkInput: () => {}, webhookSources: [] });
  const whole = await store.loadHistory('r');
  const chars = (page: readonly unknown[]) => JSON.stringify(page).length;
  const pages: HistoryPage[] = [];
  for (let after: number | undefined; pages.length === 0 || after !== undefined; after = pages.at(-1)!.next) {
    pages.push(await operations.getHistoryPage('r', { after, limit: 10_000 }));
  }
  assert.deepEqual(
    pages.flatMap((page) => page.events),
    whole,
    'the pages put together are the whole history',
  );
  assert.ok(pages.length >= Math.ceil(chars(whole) / HISTORY_PAGE_CHARS), `${pages.length} pages`);
  for (const page of pages) assert.ok(chars(page.events) <= HISTORY_PAGE_CHARS, `a page of ${chars(page.events)} characters`);
  for (const page of pages.slice(0, -1)) assert.equal(page.next, page.events.at(-1)!.seq);

  // One event larger than a page is a page of its own.
  const huge = await operations.getHistoryPage('r', { after: 1, limit: 1000 });
  assert.equal(huge.events.length, 4, 'two calls of 1.5 MB and their markers');
  const alone = await readHistoryPage((from, count) => store.loadHistory('r', from, count), 1, 1000, 1000);
  assert.deepEqual(alone, { events: whole.slice(2, 3), next: 2 }, 'at least one event, however large');

  const tail = await operations.getHistoryTail('r', 1000);
  assert.equal(tail.length, whole.length);
  assert.deepEqual(tail.events, whole.slice(whole.length - tail.events.length), 'the latest events, oldest first');
  assert.ok(chars(tail.events) <= HISTORY_PAGE_CHARS && tail.events.length >= 2, `${tail.events.length} events in the tail`);
  await store.close();
});
