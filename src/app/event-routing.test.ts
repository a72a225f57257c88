import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { JsonObject } from '../core/model.js';
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

test('a runKey merges two deliveries of one push into one run, but a path without a value (a deleted branch) merges nothing', async () => {
  const env = await createTestEnv({
    workflows: [
      file(
        'on-push.ts',
        `import { workflow } from 'autoflow';
export default workflow({
  name: 'on-push',
  triggers: [{ event: 'com.gitlab.events.push', runKey: ['project_id', 'checkout_sha'] }],
  async run() {},
});`,
      ),
    ],
  });
  try {
    const push = (id: string, data: JsonObject) => env.emit({ type: 'com.gitlab.events.push', id, data });
    const fromProjectHook = await push('p-1', { project_id: 7, checkout_sha: 'abc' });
    const fromGroupHook = await push('g-1', { project_id: 7, checkout_sha: 'abc' });
    assert.equal(fromProjectHook.started.length, 1);
    assert.deepEqual(fromGroupHook.started, [], 'the same push, delivered twice, starts one run');
    const deleteA = await push('del-a', { project_id: 7, checkout_sha: null, ref: 'refs/heads/a' });
    const deleteB = await push('del-b', { project_id: 7, checkout_sha: null, ref: 'refs/heads/b' });
    assert.equal(deleteA.started.length, 1);
    assert.equal(deleteB.started.length, 1, 'two branch deletions are two pushes');
    assert.notEqual(deleteA.started[0], deleteB.started[0]);
  } finally {
    await env.close();
  }
});
