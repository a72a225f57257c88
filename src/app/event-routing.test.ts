import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createTestEnv } from '../testing/test-env.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-event-routing-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, source: string) => {
  writeFileSync(join(dir, name), source);
  return join(dir, name);
};

const workflows = [
  file(
    'orders.ts',
    `import { workflow } from 'autoflow';
export default workflow({
  name: 'orders',
  triggers: [{ event: 'com.example.order.*' }],
  async run() {},
});`,
  ),
  file(
    'issues.ts',
    `import { waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'issues',
  triggers: [{ event: 'com.gitlab.events.issue_*', filter: { 'object_attributes.iid': 1 } }],
  async run() {
    await waitFor('com.example.order.paid', { match: { subject: 'o-1' } });
  },
});`,
  ),
];

test("the events page names the runs that glob triggers started (the router's matching)", async () => {
  const env = await createTestEnv({ workflows });
  try {
    await env.emit({ type: 'com.gitlab.events.issue_created', source: 'gitlab', id: 'i-1', data: { object_attributes: { iid: 1 } } });
    await env.emit({ type: 'com.example.order.paid', source: 'shop', id: 'p-1', subject: 'o-1' });
    const events = await env.operations.listEvents({});
    const { runs } = await env.operations.listRuns({});
    const runOf = (workflow: string) => runs.find((run) => run.workflow === workflow)!.id;
    const routing = await env.operations.eventRouting(events);
    assert.deepEqual(
      routing.map(({ seq, started }) => [events.find((event) => event.seq === seq)?.id, started]),
      [
        ['i-1', [runOf('issues')]],
        ['p-1', [runOf('orders')]],
      ],
    );
  } finally {
    await env.close();
  }
});
