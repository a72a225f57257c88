import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { VirtualClock } from '../../src/app/clocks.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../src/app/runtime.js';
import { signatureOf } from '../../src/app/subscribers.js';
import type { Logger } from '../../src/core/ports.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'announcer.ts': `import { emit, workflow } from 'autoflow';
export default workflow({
  name: 'announcer',
  async run(input: { n: number }) {
    for (let i = 0; i < input.n; i++) await emit('com.example.announced', { i }, { subject: 'release' });
    await emit('com.example.ignored', {});
    return input.n;
  },
});`,
});
after(() => folder.remove());

const SECRET = 'subscriber-secret';
const logger = pino({ level: 'silent' }) as unknown as Logger;

async function settle(runtime: Runtime): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await runtime.engine.whenIdle();
    await runtime.subscribers.whenIdle();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('emitted events reach a subscriber signed, in order, retried until accepted, not resent after a restart', async () => {
  const received: Array<{ id: string; data: unknown; signed: boolean }> = [];
  let refuse = 2;
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (refuse > 0) {
        refuse--;
        response.statusCode = 503;
        response.end();
        return;
      }
      const event = JSON.parse(body) as { id: string; data: unknown };
      received.push({ id: event.id, data: event.data, signed: request.headers['x-autoflow-signature'] === signatureOf(SECRET, body) });
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  const clock = new VirtualClock();
  const config = embeddedRuntimeConfig({
    db: { kind: 'sqlite', path: join(folder.dir, 'subscribers.db') },
    workflowsDir: folder.dir,
    apiToken: 'x',
    subscribers: [{ url, secret: SECRET, types: ['com.example.announced'] }],
  });
  const first = await createRuntime(config, { clock, logger, pollIntervalMs: null });
  try {
    await first.start();
    await first.operations.startRun({ workflow: 'announcer', input: { n: 3 }, id: 'a1' });
    await settle(first);
    assert.equal(received.length, 0, 'the subscriber refused twice so far');
    for (let i = 0; i < 5 && received.length < 3; i++) {
      clock.advance(10_000);
      await settle(first);
    }
    assert.deepEqual(
      received.map((delivery) => delivery.data),
      [{ i: 0 }, { i: 1 }, { i: 2 }],
    );
    assert.ok(
      received.every((delivery) => delivery.signed),
      'every delivery carries a valid HMAC signature',
    );
    const metrics = await first.metrics.render();
    assert.match(
      metrics,
      /autoflow_subscriber_delivery_failures_total\{subscriber="http:\/\/127\.0\.0\.1:\d+\/…#6fc2d0",status="503",node="local"\} 2/,
    );
    assert.match(metrics, /autoflow_subscriber_deliveries_total\{subscriber="[^"]+",node="local"\} 3/);
    assert.match(metrics, /autoflow_subscriber_lease_held\{subscriber="[^"]+",node="local"\} 1/);
  } finally {
    await first.stop();
  }

  const second = await createRuntime(config, { clock, logger, pollIntervalMs: null });
  try {
    await second.start();
    await second.operations.startRun({ workflow: 'announcer', input: { n: 1 }, id: 'a2' });
    await settle(second);
    assert.deepEqual(
      received.map((delivery) => delivery.data),
      [{ i: 0 }, { i: 1 }, { i: 2 }, { i: 0 }],
      'after a restart only the new event is sent',
    );
    assert.equal(new Set(received.map((delivery) => delivery.id)).size, 4);
  } finally {
    await second.stop();
    receiver.close();
  }
});
