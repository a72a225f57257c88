/**
 * Two engines on one store, as two servers on one database, one of them killed (`kill -9`) while it makes a call:
 * the call waits for its lease to pass, and until another node takes it over, `autoflow show` and
 * `GET /api/v1/runs/:id/calls` say whose lease it waits for; the node that takes it over logs it, and how late past
 * the lease it did shows in `autoflow_timer_lag_seconds`, counted from the call's due time (the end of the lease).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import { createMetrics } from '../../src/app/metrics.js';
import { createOperations } from '../../src/app/operations-impl.js';
import { formatCalls } from '../../src/cli/format.js';
import { toError } from '../../src/core/errors.js';
import type { Capability } from '../../src/core/ports.js';
import { createQuickJsSandbox } from '../../src/sandbox/quickjs-sandbox.js';
import { createMemoryStore } from '../../src/store/memory/memory-store.js';
import { virtualTimeEngine } from '../helpers/engine.js';
import { memoryLogger, messagesAt } from '../helpers/memory-logger.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const CALL_LEASE_MS = 120_000;
const START = Date.UTC(2026, 11, 7, 1, 58);

const folder = workflowFolder({
  'one-call.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'one-call',
  permissions: { activities: ['step'] },
  async run() { return await activities.step(); },
});`,
});
after(() => folder.remove());

test('a call whose node was killed shows whose lease it waits for; the node that takes it over logs it and measures how late', async () => {
  const clock = new VirtualClock(START);
  const shared = createMemoryStore();
  await shared.migrate();
  // Node a is killed while its attempt runs: the attempt never answers, and a does nothing more.
  let attemptOfA: () => void = () => {};
  const started = new Promise<void>((resolve) => (attemptOfA = resolve));
  const killed: Capability = {
    name: 'activities',
    invoke: (_method, _args, { signal }) => {
      attemptOfA();
      // Only the test's stop of a ends it.
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(toError(signal.reason))));
    },
  };
  const prompt: Capability = { name: 'activities', invoke: async () => 'from-b' };
  const sandbox = await createQuickJsSandbox();
  const logOfB = memoryLogger();
  const node = (nodeId: string, step: Capability, logger = memoryLogger()) =>
    virtualTimeEngine({
      store: shared,
      sandbox,
      clock,
      logger,
      capabilities: new Map([['activities', step]]),
      nodeId,
      callLeaseMs: CALL_LEASE_MS,
    });
  const a = node('n1', killed);
  const b = node('n2', prompt, logOfB);
  const metricsOfB = createMetrics({ store: shared, clock, logger: memoryLogger(), nodeId: 'n2', processMetrics: false });
  metricsOfB.attachEngine(b);
  const definition = await buildDefinition(folder.path('one-call.ts'), sandbox, clock.now());
  for (const engine of [a, b]) {
    await engine.deploy(definition);
    await engine.start();
  }
  const operations = createOperations({ engine: b, store: shared, clock, checkInput: () => {}, webhookSources: [] });
  try {
    await a.submitRun({ id: 'r1', workflow: 'one-call', version: definition.version, input: null, createdAt: clock.now() });
    await started;
    const leaseUntil = new Date(START + CALL_LEASE_MS).toISOString();

    const running = await operations.listCalls('r1');
    assert.deepEqual(running[0]?.lease, { node: 'n1', until: leaseUntil, passed: false });
    assert.deepEqual(formatCalls(running), ['#1 activities.step  running on node n1 (lease until 2026-12-07T02:00:00Z)']);

    clock.advanceTo(START + CALL_LEASE_MS + 3000);
    const left = await operations.listCalls('r1');
    assert.deepEqual(left[0]?.lease, { node: 'n1', until: leaseUntil, passed: true });
    assert.deepEqual(formatCalls(left), [
      '#1 activities.step  lease of node n1 passed at 2026-12-07T02:00:00Z: another node takes it over',
    ]);

    // b's wake-up for the due call (its poll, on a server), then the run's next task.
    for (let i = 0; i < 5; i++) {
      b.notify();
      await b.whenIdle();
      clock.advanceTo(clock.now());
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal((await shared.getRun('r1'))?.result, 'from-b', 'b took the call over and made it');
    const takeovers = messagesAt(logOfB.entries, 'info').filter((message) => message.startsWith('took over'));
    assert.deepEqual(takeovers, [
      'took over 1 call(s) from node n1, whose lease passed 3 s ago: #1 activities.step of run r1; each is made again, its lost attempt counted',
    ]);
    assert.deepEqual(logOfB.entries.find((entry) => entry.message.startsWith('took over'))?.data, {
      from: 'n1',
      pastLeaseMs: 3000,
      calls: [{ runId: 'r1', step: 1, call: 'activities.step' }],
    });
    // How late past its due time — the end of n1's lease — not past the attempt it was due for at the start.
    const lag = (await metricsOfB.render()).split('\n').filter((line) => /^autoflow_timer_lag_seconds_(count|sum)\b/.test(line));
    assert.deepEqual(lag, ['autoflow_timer_lag_seconds_sum{node="n2"} 3', 'autoflow_timer_lag_seconds_count{node="n2"} 1']);
  } finally {
    await b.stop();
    const stopping = a.stop();
    clock.advance(60_000);
    await stopping;
  }
});
