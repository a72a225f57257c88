import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { DatabaseConfig } from '../../src/config/database.js';
import { createTestEnv } from '../../src/testing/test-env.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-wait-lookback-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, source: string) => {
  writeFileSync(join(dir, name), source);
  return join(dir, name);
};

const both = file(
  'both.ts',
  `import { sleep, waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'both',
  async run(input: { orderId: number }) {
    const match = { orderId: input.orderId };
    const [a, b] = await Promise.all([
      waitFor('com.example.approved', { match, timeout: '1h' }),
      waitFor('com.example.approved', { match, timeout: '1h' }),
    ]);
    await sleep('1m');
    // Registered after the run received the event: it does not get it again.
    const later = await waitFor('com.example.approved', { match, timeout: '1h' });
    return { a: a?.id ?? null, b: b?.id ?? null, later: later?.id ?? null };
  },
});`,
);
const signals = file(
  'signals.ts',
  `import { signal, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'signals',
  async run() {
    await sleep('1m');
    const [a, b] = await Promise.all([signal('go', { timeout: '1h' }), signal('go', { timeout: '1h' })]);
    const next = await signal('go', { timeout: '1h' });
    return [a, b, next];
  },
});`,
);

const approved = (id: string, orderId: number) => ({ type: 'com.example.approved', id, data: { orderId } });

const stores: Array<[string, () => DatabaseConfig]> = [
  ['memory', () => ({ kind: 'memory' })],
  ['sqlite', () => ({ kind: 'sqlite', path: join(mkdtempSync(join(dir, 'db-')), 'autoflow.db') })],
];

describe('an event that arrived before the waits (the look back)', () => {
  for (const [store, db] of stores) {
    test(`satisfies every wait of the run pending together, not a wait registered after the run got it (${store})`, async () => {
      const env = await createTestEnv({ workflows: [both], db: db() });
      try {
        await env.emit(approved('ap1', 1));
        await env.emit(approved('ap2', 2));
        await env.advance('1m');
        const id = await env.start('both', { orderId: 2 });
        const run = await env.result(id);
        assert.deepEqual(run.result, { a: 'ap2', b: 'ap2', later: null });
      } finally {
        await env.close();
      }
    });
  }

  test("signals sent before two signal(name) pending together go one to each, in call order; the next stays for the run's next signal()", async () => {
    const env = await createTestEnv({ workflows: [signals] });
    try {
      const early = await env.start('signals', null, 'early');
      await env.signal(early, 'go', 'first');
      await env.signal(early, 'go', 'second');
      await env.signal(early, 'go', 'third');
      // The usual routing, for comparison: signals sent while the waits are parked.
      const id = await env.start('signals', null, 'parked');
      await env.advance('1m');
      await env.signal(id, 'go', 'first');
      await env.signal(id, 'go', 'second');
      await env.signal(id, 'go', 'third');
      assert.deepEqual((await env.result(id)).result, ['first', 'second', 'third']);
      assert.deepEqual((await env.result(early)).result, ['first', 'second', 'third']);
    } finally {
      await env.close();
    }
  });
});
