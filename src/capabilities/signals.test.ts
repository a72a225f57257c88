import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capabilityContext } from '../../test/helpers/capability-context.js';
import { IDEMPOTENCY_KEY_PATTERN } from '../core/idempotency-key.js';
import { createSignalsCapability } from './signals.js';

/** A `signals` capability whose sends are recorded; every run belongs to workflow `gate`. */
function capability() {
  const keys: string[] = [];
  const signals = createSignalsCapability({
    workflowOf: () => Promise.resolve('gate'),
    send(runId, _name, _payload, { idempotencyKey }) {
      keys.push(idempotencyKey);
      return Promise.resolve({ runId });
    },
  });
  return { signals, keys };
}

test("a call made again sends under the same key, the call's own, hashed when it is longer than a signal's key may be", async () => {
  const { signals, keys } = capability();
  const permitted = { permissions: { signals: ['gate'] } };
  const args = { runId: 'g1', name: 'decide' };
  await signals.invoke('send', args, capabilityContext({ ...permitted, attempt: 1 }));
  await signals.invoke('send', args, capabilityContext({ ...permitted, attempt: 2 }));
  const deep = `${'child.'.repeat(60)}7:3`;
  await signals.invoke('send', args, capabilityContext({ ...permitted, runId: deep.slice(0, -2), idempotencyKey: deep }));
  await signals.invoke('send', args, capabilityContext({ ...permitted, runId: deep.slice(0, -2), idempotencyKey: deep }));
  const [first, again, long, longAgain] = keys;
  assert.deepEqual([first, again], ['r1:1', 'r1:1']);
  assert.equal(long, longAgain);
  assert.match(long ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.ok(IDEMPOTENCY_KEY_PATTERN.test(long ?? ''));
});
