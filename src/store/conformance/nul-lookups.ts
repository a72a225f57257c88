import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cloudEvent, humanTask, newRun } from './fixtures.js';
import type { ConformanceContext } from './store-conformance.js';

/**
 * A read for text with U+0000 (a run id or a filter from a URL, `?workflow=%00`) finds nothing on every store:
 * PostgreSQL cannot hold such text and refused the query, where SQLite found no row.
 */
export function describeNulLookups(context: ConformanceContext): void {
  describe('lookups for text with U+0000', () => {
    it('find nothing: no run, event, log line or task, and an empty page', async () => {
      const store = context.store;
      await store.createRun(newRun('a'));
      await store.insertEvent(cloudEvent('e-1'), 'e-1', 1000);
      await store.createHumanTask(humanTask('tk_0000000000000001', { runId: 'a' }));
      const nul = 'a\u0000b';

      assert.equal(await store.getRun(nul), undefined);
      assert.deepEqual((await store.listRuns({ workflow: nul })).runs, []);
      assert.deepEqual((await store.listRuns({ parentId: nul })).runs, []);
      assert.deepEqual(await store.listEvents({ type: nul, limit: 10 }), []);
      assert.equal(await store.findEvent(nul), undefined);
      assert.deepEqual(await store.listLogs(nul), []);
      assert.deepEqual(await store.loadHistory(nul), []);
      assert.deepEqual(await store.listCalls(nul), []);
      assert.equal(await store.getHumanTask(`tk_${nul}`), undefined);
      assert.deepEqual((await store.listHumanTasks({ runId: nul })).tasks, []);
      assert.deepEqual((await store.listHumanTasks({ eligible: nul })).tasks, []);
      // What is there is still found.
      assert.equal((await store.listRuns({})).runs.length, 1);
      assert.equal((await store.listHumanTasks({ runId: 'a' })).tasks.length, 1);
    });
  });
}
