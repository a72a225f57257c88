import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import type { DeployedDefinition, TriggerSpec } from '../../src/core/model.js';
import { createTestEnv } from '../../src/testing/test-env.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-trigger-failures-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, source: string) => {
  writeFileSync(join(dir, name), source);
  return join(dir, name);
};

const orders = file(
  'orders.ts',
  `import { workflow } from 'autoflow';
export default workflow({
  name: 'orders',
  triggers: [{ event: 'com.example.order.created', filter: { status: 'paid' } }],
  async run(event: { data: { id: number } }) {
    return { order: event.data.id };
  },
});`,
);
const approval = file(
  'approval.ts',
  `import { signal, waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'approval',
  async run(input: { orderId: number }) {
    const approved = await waitFor('com.example.approved', { match: { orderId: input.orderId } });
    const go = await signal('go');
    return { approved: approved?.id ?? null, go };
  },
});`,
);

/** Log lines as pino writes them, parsed. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

describe('a trigger that throws while routing', () => {
  test('counts as no match and is logged with its workflow and the event; routing goes on for every other workflow', async () => {
    const { logger, lines } = capturingLogger();
    const env = await createTestEnv({ workflows: [orders, approval], logger });
    try {
      // Definitions deployed before filters were checked at deploy: the store still holds such ones.
      const good = env.runtime.engine.activeDefinition('orders')!;
      const broken = (name: string, trigger: unknown): DeployedDefinition => ({
        ...good,
        name,
        version: `${name}-v1`,
        manifest: { ...good.manifest, name, triggers: [trigger as TriggerSpec] },
      });
      await env.runtime.engine.deploy(broken('bad-in', { event: 'com.example.order.created', filter: { status: { in: 'paid' } } }));
      await env.runtime.engine.deploy(broken('bad-glob', { event: 'com.example.*', filter: { ref: { glob: 5 } } }));
      await env.runtime.engine.deploy(broken('bad-exists', { event: 'com.example.*', filter: { status: { exists: 'no' } } }));

      const waiting = await env.start('approval', { orderId: 7 });
      // One batch for the router: the order, the approval and the signal.
      await env.operations.ingestEvent({
        specversion: '1.0',
        id: 'order-1',
        source: 'shop',
        type: 'com.example.order.created',
        data: { id: 1, status: 'paid' },
      });
      await env.operations.ingestEvent({
        specversion: '1.0',
        id: 'ap-1',
        source: 'shop',
        type: 'com.example.approved',
        data: { orderId: 7 },
      });
      await env.operations.signalRun(waiting, 'go', 'now');
      await env.settle();

      assert.deepEqual((await env.run(waiting)).result, { approved: 'ap-1', go: 'now' });
      const { runs } = await env.operations.listRuns({});
      assert.deepEqual(runs.map((run) => run.workflow).sort(), ['approval', 'orders'], 'no broken trigger started a run');

      const failures = lines.filter((line) => line.level === 50 && typeof line.workflow === 'string');
      const bad = failures.find((line) => line.workflow === 'bad-in' && (line.event as { id: string }).id === 'order-1');
      assert.ok(bad, JSON.stringify(lines));
      assert.deepEqual(bad.event, { seq: 1, type: 'com.example.order.created', id: 'order-1', source: 'shop' });
      assert.match(
        bad.msg as string,
        /^trigger 0 \(com\.example\.order\.created\) of workflow bad-in failed on event com\.example\.order\.created \(id order-1, source shop\): .*field 'status': operator 'in': expected a non-empty list/,
      );
      assert.ok(failures.some((line) => line.workflow === 'bad-glob' && /operator 'glob'/.test(line.msg as string)));
      assert.ok(
        failures.some((line) => line.workflow === 'bad-exists' && /operator 'exists': expected true or false/.test(line.msg as string)),
      );
      assert.ok(!lines.some((line) => /routing events failed/.test(line.msg as string)), 'the batch was routed');
    } finally {
      await env.close();
    }
  });
});
