/**
 * A wait's lookback (the search of the inbox for events that arrived before the wait) runs after the commit that
 * registers the wait. A node that stopped in between, or a lookback that failed, left those events undelivered for
 * good: acknowledged signals sent before the run waited for them never reached it. Now a lookback is recorded when
 * done, and one that is not is done again at the next start (and by the heartbeat of a running node).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import type { CloudEvent } from '../../src/core/model.js';
import type { Store } from '../../src/core/ports.js';
import { createQuickJsSandbox } from '../../src/sandbox/quickjs-sandbox.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { virtualTimeEngine } from '../helpers/engine.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'three.ts': `import { signal, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'three',
  async run() {
    await sleep('1m');
    const got = [];
    for (let i = 0; i < 3; i++) got.push(await signal('go', { timeout: '1h' }));
    return got;
  },
});`,
});
const dir = mkdtempSync(join(tmpdir(), 'autoflow-lookback-recovery-'));
after(() => {
  folder.remove();
  rmSync(dir, { recursive: true, force: true });
});

const signal = (runId: string, n: number, at: number): CloudEvent => ({
  specversion: '1.0',
  id: `go-${n}`,
  source: 'autoflow:api',
  type: 'autoflow.signal.go',
  subject: runId,
  time: new Date(at).toISOString(),
  data: n,
});

test('signals acknowledged before the run waited for them reach it after a node lost the lookback of its wait', async () => {
  const clock = new VirtualClock();
  const sandbox = await createQuickJsSandbox();
  const definition = await buildDefinition(folder.path('three.ts'), sandbox, clock.now());
  const path = join(dir, 'autoflow.db');
  const node = (store: Store) => ({ store, engine: virtualTimeEngine({ store, sandbox, clock }) });

  // The inbox fails the lookback's read, as a node stopped right after its commit never makes it.
  const plain = createSqliteStore({ path });
  const first = node({
    ...plain,
    listRecentEvents: () => Promise.reject(new Error('the node stopped before its lookback')),
  });
  await plain.migrate();
  await first.engine.deploy(definition);
  await first.engine.start();
  await first.engine.submitRun({ id: 'r1', workflow: 'three', version: definition.version, input: null, createdAt: clock.now() });
  await first.engine.whenIdle();
  for (const n of [1, 2, 3]) await first.engine.ingest(signal('r1', n, clock.now()), `api:go-${n}`);
  await first.engine.whenIdle();
  clock.advance(60_000);
  await first.engine.whenIdle();
  const parked = await plain.loadHistory('r1');
  assert.equal(parked.at(-1)?.type, 'wait_started', 'the run waits for its first signal');
  await first.engine.stop();
  await plain.close();

  const second = node(createSqliteStore({ path }));
  await second.engine.start();
  await second.engine.whenIdle();
  const run = await second.store.getRun('r1');
  assert.equal(run?.status, 'completed', 'the restarted node looked back for the wait');
  assert.deepEqual(run?.result, [1, 2, 3]);
  await second.engine.stop();
  await second.store.close();
});
