/**
 * The live-sandbox cache within its memory budget (`sandbox.cacheMemoryMb`): runs that hold megabytes while they
 * sleep are evicted, least recently used first, and rebuilt by replay when they wake, on the main thread and on a
 * sandbox thread alike.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const MIB = 1024 * 1024;
const BUDGET_MB = 12;

const folder = workflowFolder({
  'hoard.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({
  name: 'hoard',
  async run(input: { k: number }) {
    const held = Array.from({ length: 4 }, (_, i) => String(input.k + i).padEnd(1_000_000, '.'));
    await sleep('10m');
    return held.reduce((total, text) => total + text.length, input.k);
  },
});`,
});
after(() => folder.remove());

describe('the sandbox cache keeps to its memory budget', () => {
  for (const threads of [0, 1]) {
    test(`six runs holding 4 MB each, asleep, with ${threads} sandbox threads: at most ${BUDGET_MB} MiB of them stay cached, and every run completes`, async () => {
      const env = await createTestEnv({ workflows: [folder.path('hoard.ts')], sandbox: { cacheMemoryMb: BUDGET_MB, threads } });
      try {
        const ids: string[] = [];
        for (let k = 0; k < 6; k++) ids.push(await env.start('hoard', { k }));
        await env.settle();
        const cached = env.runtime.engine.cacheStats();
        assert.ok(cached.bytes <= BUDGET_MB * MIB, `${(cached.bytes / MIB).toFixed(1)} MiB cached`);
        assert.ok(cached.runs >= 1 && cached.runs <= BUDGET_MB / 4, `${cached.runs} sandboxes of 4 MB cached`);
        await env.advance('10m');
        const runs = await Promise.all(ids.map((id) => env.result(id)));
        assert.deepEqual(
          runs.map((run) => [run.status, run.result]),
          ids.map((_, k) => ['completed', 4_000_000 + k]),
          'the evicted runs were replayed to the same state',
        );
      } finally {
        await env.close();
      }
    });
  }
});
