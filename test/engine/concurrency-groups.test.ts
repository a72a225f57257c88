/**
 * `workflow({ concurrency })`: runs of one group beyond its limit wait, queued, without running code, and start
 * oldest first as slots free (GitHub Actions' `concurrency`, GitLab CI's `resource_group`), on the virtual clock.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { checkWorkflowDirectory } from '../../src/app/deploy.js';
import { workflowFolder } from '../helpers/workflow-files.js';
import { createTestEnv } from '../../src/testing/index.js';

const folder = workflowFolder({
  'deploy.ts': `import { log, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'deploy',
  concurrency: { limit: 1, key: 'environment', group: 'environments' },
  async run(input: { environment: string; version: string }) {
    log.info('deploying ' + input.version + ' to ' + input.environment);
    await sleep('10m');
    return input.version;
  },
});`,
  'rollback.ts': `import { log, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'rollback',
  concurrency: { key: 'environment', group: 'environments' },
  async run(input: { environment: string }) {
    log.info('rolling back ' + input.environment);
    await sleep('1m');
    return 'rolled back';
  },
});`,
  'builds.ts': `import { executeChild, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'builds',
  concurrency: { limit: 2 },
  async run(input: { n: number }) {
    await sleep('1h');
    if (input.n < 0) throw new Error('broken build');
    return input.n;
  },
});`,
  'release.ts': `import { executeChild, workflow } from 'autoflow';
export default workflow({
  name: 'release',
  async run() {
    return executeChild('deploy', { environment: 'production', version: 'child' });
  },
});`,
  'approved.ts': `import { signal, workflow } from 'autoflow';
export default workflow({
  name: 'approved',
  concurrency: { limit: 1 },
  async run() {
    return signal<string>('approval');
  },
});`,
  'on-push.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({
  name: 'on-push',
  triggers: [{ event: 'com.example.push', filter: { environment: { exists: true } } }],
  concurrency: { key: 'environment' },
  async run() {
    await sleep('5m');
    return 'synced';
  },
});`,
  'sync.ts': `import { log, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'sync',
  concurrency: { key: 'environment', queue: 'latest' },
  async run(input: { environment: string; commit: string }) {
    log.info('syncing ' + input.commit);
    await sleep('10m');
    return input.commit;
  },
});`,
  'preview.ts': `import { log, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'preview',
  concurrency: { key: 'mr', cancelInProgress: true },
  async run(input: { mr: number; commit: string }) {
    log.info('building ' + input.commit);
    try {
      await sleep('30m');
      return input.commit;
    } finally {
      log.info('tearing down ' + input.commit);
      await sleep('2m');
    }
  },
});`,
  'bad-cancel.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'bad-cancel', concurrency: { queue: 'all', cancelInProgress: true }, async run() { return 1; } });`,
  'bad-limit.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'bad-limit', concurrency: { limit: 0, key: 'a..b', gruop: 'x', queue: 'newest' }, async run() { return 1; } });`,
});
after(() => folder.remove());

const env = () =>
  createTestEnv({
    workflows: ['deploy.ts', 'rollback.ts', 'builds.ts', 'release.ts', 'approved.ts', 'on-push.ts', 'sync.ts', 'preview.ts'].map((file) =>
      folder.path(file),
    ),
  });

test('runs of a group wait, queued and running no code, and start one at a time, oldest first; other keys run beside them', async () => {
  const t = await env();
  try {
    const first = await t.start('deploy', { environment: 'production', version: 'v1' });
    const second = await t.start('deploy', { environment: 'production', version: 'v2' });
    const rollback = await t.start('rollback', { environment: 'production' });
    const staging = await t.start('deploy', { environment: 'staging', version: 'v2' });
    assert.deepEqual(
      [await t.run(first), await t.run(second), await t.run(rollback), await t.run(staging)].map((run) => run.status),
      ['running', 'queued', 'queued', 'running'],
    );
    assert.deepEqual((await t.run(second)).concurrency, { group: 'environments:production', limit: 1 });
    // What the API (and so `autoflow show` and the run page) says the queued runs wait for: the run holding the slot.
    const holding = [{ id: first, workflow: 'deploy', status: 'running', cancelling: false }];
    assert.deepEqual((await t.runtime.operations.getRun(second)).concurrency?.heldBy, holding);
    assert.deepEqual((await t.runtime.operations.getRun(rollback)).concurrency?.heldBy, holding);
    assert.equal((await t.runtime.operations.getRun(first)).concurrency?.heldBy, undefined, 'only a queued run is told what it waits for');
    assert.deepEqual(await t.logs(second), [], 'a queued run ran none of its code');
    assert.deepEqual(await t.history(second), []);

    const started = t.now();
    assert.equal((await t.result(first)).result, 'v1');
    assert.equal((await t.run(second)).status, 'running');
    assert.equal((await t.run(rollback)).status, 'queued', 'one slot: the rollback waits behind the second deploy');
    const secondRun = await t.result(second);
    assert.equal(secondRun.result, 'v2');
    assert.equal(secondRun.updatedAt - started, 20 * 60_000, 'the second deploy began when the first ended');
    const rolledBack = await t.result(rollback);
    assert.equal(rolledBack.updatedAt - started, 21 * 60_000);
    assert.deepEqual(await t.logs(rollback), ['rolling back production']);
    assert.equal((await t.run(staging)).status, 'completed');
  } finally {
    await t.close();
  }
});

test('a queued run cancelled or terminated ends at once without its code, and the group goes on', async () => {
  const t = await env();
  try {
    const holder = await t.start('deploy', { environment: 'production', version: 'v1' });
    const doomed = await t.start('deploy', { environment: 'production', version: 'v2' });
    const stale = await t.start('deploy', { environment: 'production', version: 'v2.1' });
    const next = await t.start('deploy', { environment: 'production', version: 'v3' });
    await t.runtime.operations.terminateRun(stale, 'not wanted');
    await t.settle();
    assert.equal((await t.run(stale)).status, 'cancelled');
    assert.deepEqual(await t.logs(stale), []);
    const answer = await t.runtime.operations.cancelRun(doomed, 'superseded by v3');
    assert.equal(answer.status, 'cancelled', 'the answer to the cancel is the run ended');
    await t.settle();
    const cancelled = await t.run(doomed);
    assert.equal(cancelled.status, 'cancelled');
    assert.deepEqual(await t.logs(doomed), []);
    assert.equal((await t.run(holder)).status, 'running');
    assert.equal((await t.run(next)).status, 'queued', 'the cancelled run did not free a slot it never held');
    assert.equal((await t.result(next)).result, 'v3');
  } finally {
    await t.close();
  }
});

test('a run that holds the slot ended from outside (terminate, cancel) starts the next one at once', async () => {
  const t = await env();
  try {
    const holder = await t.start('deploy', { environment: 'production', version: 'v1' });
    const second = await t.start('deploy', { environment: 'production', version: 'v2' });
    const third = await t.start('deploy', { environment: 'production', version: 'v3' });
    await t.runtime.operations.terminateRun(holder, 'hung');
    await t.settle();
    assert.equal((await t.run(second)).status, 'running');
    assert.deepEqual(await t.logs(second), ['deploying v2 to production'], 'it started without time passing');
    await t.cancel(second, 'not this one');
    assert.equal((await t.run(second)).status, 'cancelled');
    assert.deepEqual(await t.logs(third), ['deploying v3 to production']);
  } finally {
    await t.close();
  }
});

test("a run an event started reads its key from the event as a trigger filter does: from the event's data", async () => {
  const t = await env();
  try {
    const [first] = (await t.emit({ type: 'com.example.push', data: { environment: 'production' } })).started;
    const [second] = (await t.emit({ type: 'com.example.push', data: { environment: 'production' } })).started;
    const [staging] = (await t.emit({ type: 'com.example.push', data: { environment: 'staging' } })).started;
    assert.deepEqual((await t.run(second!)).concurrency, { group: 'on-push:production', limit: 1 });
    assert.deepEqual(
      [await t.run(first!), await t.run(second!), await t.run(staging!)].map((run) => run.status),
      ['running', 'queued', 'running'],
    );
  } finally {
    await t.close();
  }
});

test("with queue 'latest' only the newest run waits: each that queues cancels those queued before it, which run no code", async () => {
  const t = await env();
  try {
    const first = await t.start('sync', { environment: 'production', commit: 'a1' });
    const second = await t.start('sync', { environment: 'production', commit: 'b2' });
    const third = await t.start('sync', { environment: 'production', commit: 'c3' });
    const superseded = await t.run(second);
    assert.equal(superseded.status, 'cancelled');
    assert.deepEqual(await t.logs(second), []);
    const requested = (await t.history(second)).find((event) => event.type === 'cancel_requested');
    assert.match(requested?.type === 'cancel_requested' ? (requested.reason ?? '') : '', new RegExp(`superseded by run ${third}`));
    assert.equal((await t.run(third)).status, 'queued');
    const started = t.now();
    assert.equal((await t.result(third)).result, 'c3');
    assert.equal((await t.run(first)).result, 'a1', 'the running run is not cancelled');
    assert.equal((await t.run(third)).updatedAt - started, 20 * 60_000);
  } finally {
    await t.close();
  }
});

test('with cancelInProgress a new run cancels the running one, whose finally runs, supersedes the queued one, and starts after', async () => {
  const t = await env();
  try {
    const first = await t.start('preview', { mr: 7, commit: 'a1' });
    const otherMr = await t.start('preview', { mr: 8, commit: 'x9' });
    await t.advance('1m');
    const cancelledAt = t.now();
    const second = await t.start('preview', { mr: 7, commit: 'b2' });
    const third = await t.start('preview', { mr: 7, commit: 'c3' });
    const cancelled = await t.result(first);
    assert.equal(cancelled.status, 'cancelled');
    assert.deepEqual(await t.logs(first), ['building a1', 'tearing down a1'], 'its cleanup ran');
    assert.equal(cancelled.updatedAt - cancelledAt, 2 * 60_000, 'the cleanup took its two minutes');
    const requested = (await t.history(first)).find((event) => event.type === 'cancel_requested');
    assert.match(
      requested?.type === 'cancel_requested' ? (requested.reason ?? '') : '',
      new RegExp(`superseded by run ${second} of the same concurrency group`),
    );
    assert.equal((await t.run(second)).status, 'cancelled');
    assert.deepEqual(await t.logs(second), [], 'superseded while it waited: none of its code ran');
    assert.equal((await t.run(otherMr)).status, 'running', 'another key is another group');
    assert.deepEqual((await t.run(third)).concurrency, { group: 'preview:7', limit: 1, cancelInProgress: true });
    const newest = await t.result(third);
    assert.equal(newest.result, 'c3');
    // Started when the first had cleaned up (2 minutes), then its own 30 minutes and 2 of cleanup.
    assert.equal(newest.updatedAt - cancelledAt, 34 * 60_000, 'it started as soon as the cancelled run had cleaned up');
  } finally {
    await t.close();
  }
});

test('a signal sent to a queued run is kept for it until it starts and waits for it', async () => {
  const t = await env();
  try {
    const first = await t.start('approved');
    const second = await t.start('approved');
    await t.signal(second, 'approval', 'second, sent early');
    assert.equal((await t.run(second)).status, 'queued');
    await t.signal(first, 'approval', 'first');
    assert.equal((await t.result(first)).result, 'first');
    assert.equal((await t.result(second)).result, 'second, sent early');
  } finally {
    await t.close();
  }
});

test('a child in a full group waits for its slot, and its parent waits for it', async () => {
  const t = await env();
  try {
    const holder = await t.start('deploy', { environment: 'production', version: 'v1' });
    const release = await t.start('release');
    const [child] = (await t.runtime.operations.listRuns({ parentId: release })).runs;
    assert.equal(child?.status, 'queued');
    const started = t.now();
    const done = await t.result(release);
    assert.equal(done.result, 'child');
    assert.equal(done.updatedAt - started, 20 * 60_000);
    assert.equal((await t.run(holder)).status, 'completed');
  } finally {
    await t.close();
  }
});

test('a failed run is retried only while its group has a free slot', async () => {
  const t = await env();
  try {
    const broken = await t.start('builds', { n: -1 });
    assert.equal((await t.result(broken)).status, 'failed');
    const a = await t.start('builds', { n: 1 });
    const b = await t.start('builds', { n: 2 });
    await assert.rejects(
      t.retry(broken),
      /cannot be retried now: 2 run\(s\) of its concurrency group 'builds' are running, its limit is 2/,
    );
    await assert.rejects(t.runtime.operations.retryRun(broken, { dryRun: true }), /cannot be retried now/, 'a dry run says so too');
    assert.equal((await t.run(broken)).status, 'failed');
    await t.result(a);
    await t.result(b);
    await t.retry(broken);
    assert.equal((await t.runtime.store.listRunRetries(broken)).length, 1);
    assert.equal((await t.run(broken)).error?.message, 'broken build', 'retried, it failed again the same way');
  } finally {
    await t.close();
  }
});

test('a concurrency declaration that cannot work is refused at deploy, naming each problem', async () => {
  await assert.rejects(createTestEnv({ workflows: [folder.path('bad-limit.ts')] }), (error: Error) => {
    assert.match(error.message, /concurrency: unknown field 'gruop' \(expected limit, key, group, queue, cancelInProgress\)/);
    assert.match(error.message, /concurrency\.limit: must be a whole number from 1 to 1000, got 0/);
    assert.match(error.message, /concurrency\.key: must be a dot path into the run's input/);
    assert.match(
      error.message,
      /concurrency\.queue: must be 'all' \(every run waits its turn\) or 'latest' \(only the newest waits\), got "newest"/,
    );
    return true;
  });
});

test('cancelInProgress with a queue is refused: it decides which runs wait by itself', async () => {
  await assert.rejects(
    createTestEnv({ workflows: [folder.path('bad-cancel.ts')] }),
    /concurrency\.cancelInProgress: decides which runs wait by itself — the newest `limit` runs of the group run, older ones are cancelled whether running or waiting — so leave out queue/,
  );
});

test('autoflow check (and deploy) warns of a concurrency key that is not in the input schema: every run would share one group', async () => {
  const misspelt = workflowFolder({
    'deploy.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'deploy',
  input: { type: 'object', properties: { environment: { type: 'string' } }, required: ['environment'] },
  concurrency: { key: 'enviroment' },
  async run() { return 1; },
});`,
  });
  try {
    const [result] = await checkWorkflowDirectory(misspelt.dir);
    assert.equal(result?.error, undefined);
    assert.deepEqual(result?.warnings, [
      "concurrency.key: 'enviroment' is not a property of the input schema (environment); did you mean 'environment'?: " +
        'runs whose input lacks it all share the group of null, one at a time',
    ]);
  } finally {
    misspelt.remove();
  }
});
