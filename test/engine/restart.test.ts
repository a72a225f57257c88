/**
 * A server that dies in the middle of a call and comes back under the same node id takes the call
 * up again at once; another node waits until the dead one's lease has passed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import type { Capability } from '../../src/core/ports.js';
import { createQuickJsSandbox } from '../../src/sandbox/quickjs-sandbox.js';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { virtualTimeEngine } from '../helpers/engine.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const CALL_LEASE_MS = 60_000;

const folder = workflowFolder({
  'pair.ts': `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'pair',
  permissions: { activities: ['step'] },
  async run() {
    const [left, right] = await Promise.all([activities.step('left'), activities.step('right')]);
    return left + ' ' + right;
  },
});`,
});
const dir = mkdtempSync(join(tmpdir(), 'autoflow-restart-'));
after(() => {
  folder.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** Answers each call with its argument and the node that made it. */
function step(node: string, attempts: string[]): Capability {
  return {
    name: 'activities',
    invoke: (_method, args) => {
      attempts.push(`${node}:${JSON.stringify(args)}`);
      return Promise.resolve(`${JSON.stringify(args)} on ${node}`);
    },
  };
}

/** Never answers, like a process that died mid-call; `started` resolves once `count` attempts began. */
function hanging(node: string, attempts: string[], count: number): { capability: Capability; started: Promise<void> } {
  let started = (): void => {};
  const all = new Promise<void>((resolve) => (started = resolve));
  const capability: Capability = {
    name: 'activities',
    invoke: (_method, args) => {
      if (attempts.push(`${node}:${JSON.stringify(args)}`) === count) started();
      return new Promise(() => {});
    },
  };
  return { capability, started: all };
}

test('a node restarting under its id reclaims the calls it held at once; another node waits for their leases', async () => {
  const clock = new VirtualClock();
  const sandbox = await createQuickJsSandbox();
  const definition = await buildDefinition(folder.path('pair.ts'), sandbox, clock.now());
  const attempts: string[] = [];
  const node = (nodeId: string, capability: Capability) => {
    const store = createSqliteStore({ path: join(dir, 'autoflow.db') });
    const engine = virtualTimeEngine({
      store,
      sandbox,
      clock,
      nodeId,
      callLeaseMs: CALL_LEASE_MS,
      capabilities: new Map([['activities', capability]]),
    });
    return { store, engine };
  };

  const dead = hanging('a', attempts, 2);
  const dying = node('a', dead.capability);
  await dying.store.migrate();
  await dying.engine.deploy(definition);
  await dying.engine.start();
  await dying.engine.submitRun({ id: 'r1', workflow: 'pair', version: definition.version, input: null, createdAt: clock.now() });
  await dead.started;
  assert.deepEqual(attempts.sort(), ['a:"left"', 'a:"right"']);
  // The process dies here: its attempts never answer, and it hands nothing back.

  const other = node('b', step('b', attempts));
  await other.engine.start();
  clock.advanceTo(clock.now() + CALL_LEASE_MS - 1);
  other.engine.notify();
  await other.engine.whenIdle();
  assert.equal(attempts.length, 2, 'node b leaves the calls alone while node a’s lease holds');

  const restarted = node('a', step('a', attempts));
  await restarted.engine.start();
  await restarted.engine.whenIdle();
  await other.engine.whenIdle();
  const run = await restarted.store.getRun('r1');
  assert.equal(run?.status, 'completed');
  assert.equal(run?.result, '"left" on a "right" on a', 'the restarted node a made both calls again, before their leases passed');
  assert.deepEqual(attempts.slice(2).sort(), ['a:"left"', 'a:"right"']);

  for (const { engine, store } of [other, restarted]) {
    await engine.stop();
    await store.close();
  }
  await dying.store.close();
});

test('an attempt lost with its node counts: the next one is attempt 2, with the same idempotency key', async () => {
  const clock = new VirtualClock();
  const sandbox = await createQuickJsSandbox();
  const definition = await buildDefinition(folder.path('pair.ts'), sandbox, clock.now());
  const path = join(dir, 'attempts.db');
  const seen: string[] = [];
  let bothStarted = (): void => {};
  const started = new Promise<void>((resolve) => (bothStarted = resolve));
  /** Records each attempt as `node:args#attempt key`; node a's never answer, like a process that died mid-call. */
  const recording = (node: string, answer: boolean): Capability => ({
    name: 'activities',
    invoke: (_method, args, context) => {
      if (seen.push(`${node}:${JSON.stringify(args)}#${context.attempt} ${context.idempotencyKey}`) === 2) bothStarted();
      return answer ? Promise.resolve(node) : new Promise(() => {});
    },
  });
  const node = (nodeId: string, capability: Capability) => {
    const store = createSqliteStore({ path });
    const engine = virtualTimeEngine({
      store,
      sandbox,
      clock,
      nodeId,
      callLeaseMs: CALL_LEASE_MS,
      capabilities: new Map([['activities', capability]]),
    });
    return { store, engine };
  };

  const dying = node('a', recording('a', false));
  await dying.store.migrate();
  await dying.engine.deploy(definition);
  await dying.engine.start();
  await dying.engine.submitRun({ id: 'r1', workflow: 'pair', version: definition.version, input: null, createdAt: clock.now() });
  await started;
  // The process dies here: its attempts never answer, and it hands nothing back.

  const other = node('b', recording('b', true));
  await other.engine.start();
  clock.advanceTo(clock.now() + CALL_LEASE_MS);
  other.engine.notify();
  await other.engine.whenIdle();
  assert.deepEqual(seen.sort(), ['a:"left"#1 r1:1', 'a:"right"#1 r1:2', 'b:"left"#2 r1:1', 'b:"right"#2 r1:2']);

  await other.engine.stop();
  await other.store.close();
  await dying.store.close();
});

test('a node reclaims only the calls leased before its engine was created: one leased since (a run a schedule started before the engine) is left to the attempt under way', async () => {
  const clock = new VirtualClock();
  const sandbox = await createQuickJsSandbox();
  const definition = await buildDefinition(folder.path('pair.ts'), sandbox, clock.now());
  const path = join(dir, 'since.db');
  const attempts: string[] = [];
  const node = (capability: Capability) => {
    const store = createSqliteStore({ path });
    const engine = virtualTimeEngine({
      store,
      sandbox,
      clock,
      nodeId: 'a',
      callLeaseMs: CALL_LEASE_MS,
      capabilities: new Map([['activities', capability]]),
    });
    return { store, engine };
  };
  // This process's engine exists before the run starts; the run's calls are leased to its node id after that.
  const later = node(step('a', attempts));
  await later.store.migrate();
  clock.advance(1000);
  const making = hanging('a', attempts, 2);
  const leasing = node(making.capability);
  await leasing.engine.deploy(definition);
  await leasing.engine.start();
  await leasing.engine.submitRun({ id: 'r1', workflow: 'pair', version: definition.version, input: null, createdAt: clock.now() });
  await making.started;
  clock.advance(1000);

  await later.engine.start();
  await later.engine.whenIdle();
  assert.deepEqual(attempts.sort(), ['a:"left"', 'a:"right"'], 'the calls leased since the engine was created are not made again');

  await later.engine.stop();
  await later.store.close();
  await leasing.store.close();
});
