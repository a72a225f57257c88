/**
 * A node starts an attempt of a claimed call only with half of the call's lease left. Reading what the attempt
 * needs can take long (a database coming back after a restart): an attempt started just before the lease passes
 * would overlap the one of the node that claims the call then — seen as "a call ran on two nodes at once" when
 * PostgreSQL restarted. Such a call waits for its lease to pass and is claimed again.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import { createOperations } from '../../src/app/operations-impl.js';
import { CapabilityError } from '../../src/core/errors.js';
import type { Capability, Store } from '../../src/core/ports.js';
import { createQuickJsSandbox } from '../../src/sandbox/quickjs-sandbox.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { virtualTimeEngine } from '../helpers/engine.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const CALL_LEASE_MS = 10_000;
const folder = workflowFolder({
  'ask.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'ask',
  permissions: { activities: ['ask'] },
  async run() { return activities.ask(null, { retry: { initialInterval: 1000, backoffCoefficient: 1, maxAttempts: 5 } }); },
});`,
});
after(() => folder.remove());

test('a claimed call whose run took more than half its lease to read is not attempted until the lease passes', async () => {
  const real = createSqliteStore({ path: join(folder.dir, 'lease.db') });
  await real.migrate();
  const clock = new VirtualClock();
  let slowReads = 0;
  // A read of the run, for the claimed call, that takes 6 s of the call's 10 s lease.
  const store: Store = Object.assign(Object.create(real) as Store, {
    getRun: async (id: string) => {
      const run = await real.getRun(id);
      if (slowReads > 0) {
        slowReads--;
        clock.advance(6000);
      }
      return run;
    },
  });
  const attempts: number[] = [];
  const ask: Capability = {
    name: 'activities',
    invoke: async () => {
      attempts.push(clock.now());
      if (attempts.length === 1) throw new CapabilityError('unavailable', 'try again', { retryable: true });
      return 'answered';
    },
  };
  const sandbox = await createQuickJsSandbox();
  const engine = virtualTimeEngine({ store, sandbox, clock, callLeaseMs: CALL_LEASE_MS, capabilities: new Map([['activities', ask]]) });
  await engine.deploy(await buildDefinition(folder.path('ask.ts'), sandbox, clock.now()));
  await engine.start();
  try {
    const started = clock.now();
    await createOperations({ engine, store, clock, checkInput: () => {}, webhookSources: [] }).startRun({ workflow: 'ask', id: 'r' });
    await engine.whenIdle();
    assert.deepEqual(attempts, [started], 'the first attempt failed; the second is due a second later');

    slowReads = 1;
    clock.advance(1000);
    await engine.whenIdle();
    assert.equal(attempts.length, 1, 'claimed at +1 s, read by +7 s: 3 s of the lease left is too little to start');
    assert.equal((await real.getRun('r'))?.status, 'running');

    clock.advanceTo(started + 1000 + CALL_LEASE_MS);
    await engine.whenIdle();
    assert.deepEqual(attempts, [started, started + 1000 + CALL_LEASE_MS], 'claimed again once the lease passed, and made');
    assert.equal((await real.getRun('r'))?.result, 'answered');
  } finally {
    await engine.stop();
    await real.close();
  }
});
