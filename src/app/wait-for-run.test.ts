/**
 * waitForRun on a node that does not advance the run itself: the run ends through the shared
 * store (as another node's commit would), with no engine event here, and the wait still ends
 * within a second of virtual time instead of at its timeout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { createSecretSource } from '../capabilities/secrets.js';
import { Engine } from '../core/engine.js';
import { createQuickJsSandbox } from '../sandbox/quickjs-sandbox.js';
import { commit, newRun } from '../store/conformance/fixtures.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import { VirtualClock } from './clocks.js';
import { createOperations } from './operations-impl.js';
import type { RunView } from './operations.js';

async function nodeThatDoesNotRunIt() {
  const store = createMemoryStore();
  const clock = new VirtualClock();
  const engine = new Engine({
    store,
    sandbox: await createQuickJsSandbox(),
    clock,
    logger: pino({ level: 'silent' }),
    capabilities: new Map(),
    secrets: createSecretSource({}),
    nodeId: 'watcher',
    pollIntervalMs: null,
  });
  const operations = createOperations({ engine, store, clock, checkInput: () => {}, webhookSources: [] });
  return { store, clock, operations };
}

/** Lets the promise callbacks that a store read or a timer set off run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('a run that another node ends is seen within a second, not at the timeout', async () => {
  const { store, clock, operations } = await nodeThatDoesNotRunIt();
  await store.createRun(newRun('elsewhere'));
  let answer: RunView | undefined;
  const answered = () => answer;
  void operations.waitForRun('elsewhere', 60_000).then((run) => (answer = run));
  await settle();

  const ended = commit('elsewhere', 0, clock.now(), { status: { status: 'completed', result: 42 } });
  assert.equal((await store.commitTask(ended)).ok, true);
  await settle();
  assert.equal(answered(), undefined, 'no event told this node yet');

  clock.advance(1000);
  await settle();
  assert.equal(answered()?.status, 'completed');
  assert.equal(answered()?.result, 42);
});

test('a run still running comes back as it is once the timeout passes', async () => {
  const { store, clock, operations } = await nodeThatDoesNotRunIt();
  await store.createRun(newRun('slow'));
  let answer: RunView | undefined;
  const answered = () => answer;
  void operations.waitForRun('slow', 2500).then((run) => (answer = run));
  for (let second = 0; second < 2; second++) {
    await settle();
    clock.advance(1000);
    await settle();
    assert.equal(answered(), undefined, `still waiting after ${second + 1} s`);
  }
  clock.advance(500);
  await settle();
  assert.equal(answered()?.status, 'running');
});
