/**
 * waitForRun on a node that does not advance the run itself: the run ends through the shared
 * store (as another node's commit would), with no engine event here, and the wait still ends
 * within a second of virtual time instead of at its timeout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createQuickJsSandbox } from '../sandbox/quickjs-sandbox.js';
import { commit, newRun } from '../store/conformance/fixtures.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import { VirtualClock } from './clocks.js';
import { createOperations } from './operations-impl.js';
import type { RunView } from './operations.js';
import { virtualTimeEngine } from '../../test/helpers/engine.js';

/** Lets the promise callbacks that a store read or a timer set off run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A node that waits for run `id` (created here) without advancing it; `answer()` is what the wait gave, once it ended. */
async function waitingNode(id: string, timeoutMs: number) {
  const store = createMemoryStore();
  const clock = new VirtualClock();
  const engine = virtualTimeEngine({ store, sandbox: await createQuickJsSandbox(), clock, nodeId: 'watcher' });
  const operations = createOperations({ engine, store, clock, checkInput: () => {}, webhookSources: [] });
  await store.createRun(newRun(id));
  let answer: RunView | undefined;
  void operations.waitForRun(id, timeoutMs).then((run) => (answer = run));
  await settle();
  return { store, clock, answer: () => answer };
}

test('a run that another node ends is seen within a second, not at the timeout', async () => {
  const { store, clock, answer } = await waitingNode('elsewhere', 60_000);
  const ended = commit('elsewhere', 0, clock.now(), { status: { status: 'completed', result: 42 } });
  assert.equal((await store.commitTask(ended)).ok, true);
  await settle();
  assert.equal(answer(), undefined, 'no event told this node yet');

  clock.advance(1000);
  await settle();
  assert.equal(answer()?.status, 'completed');
  assert.equal(answer()?.result, 42);
});

test('a run still running comes back as it is once the timeout passes', async () => {
  const { clock, answer } = await waitingNode('slow', 2500);
  for (let second = 0; second < 2; second++) {
    clock.advance(1000);
    await settle();
    assert.equal(answer(), undefined, `still waiting after ${second + 1} s`);
  }
  clock.advance(500);
  await settle();
  assert.equal(answer()?.status, 'running');
});
