import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { DatabaseConfig } from '../../src/config/database.js';
import type { CloudEvent } from '../../src/core/model.js';
import { createTestEnv, type TestEnv } from '../../src/testing/test-env.js';
import { memoryLogger, type LogEntry } from '../helpers/memory-logger.js';
import { testOnPostgres } from '../helpers/postgres.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/**
 * A workflow that emits the type of its own trigger, as the auditor's did; it stops by itself at 30 only so that the
 * test fails, instead of running for ever, when routing does not end the loop.
 */
const relay = (name: string, on: string, emits: string) => `import { emit, workflow } from 'autoflow';
export default workflow({
  name: '${name}',
  triggers: [{ event: '${on}' }],
  async run(e: { data?: { n?: number } }) {
    const n = e.data?.n ?? 0;
    if (n < 30) await emit('${emits}', { n: n + 1 });
    return n;
  },
});`;

const folder = workflowFolder({
  'loop.ts': relay('loop', 'com.acme.loop', 'com.acme.loop'),
  'ping.ts': relay('ping', 'com.acme.ping', 'com.acme.pong'),
  'pong.ts': relay('pong', 'com.acme.pong', 'com.acme.ping'),
  // Started by hand: waits receive the event that no trigger takes any more.
  'watcher.ts': `import { waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'watcher',
  async run() {
    const last = await waitFor('com.acme.loop', { match: { n: 9 }, timeout: '1h' });
    return last?.data ?? null;
  },
});`,
  // A chain of three emits through a child run and a continue-as-new successor: each keeps the chain it came from.
  'relay-start.ts': `import { executeChild, workflow } from 'autoflow';
export default workflow({
  name: 'relay-start',
  triggers: [{ event: 'com.acme.start' }],
  async run() {
    await executeChild('relay-child', null);
    return 'started';
  },
});`,
  'relay-child.ts': `import { emit, workflow } from 'autoflow';
export default workflow({
  name: 'relay-child',
  async run() {
    await emit('com.acme.step1', {});
  },
});`,
  'relay-continue.ts': `import { continueAsNew, emit, workflow } from 'autoflow';
export default workflow({
  name: 'relay-continue',
  triggers: [{ event: 'com.acme.step1' }],
  async run(input: { type?: string }) {
    if (input.type === 'com.acme.step1') continueAsNew({ continued: true });
    await emit('com.acme.step2', {});
    return 'continued';
  },
});`,
  'relay-end.ts': `import { emit, workflow } from 'autoflow';
export default workflow({
  name: 'relay-end',
  triggers: [{ event: 'com.acme.step2' }],
  async run() {
    await emit('com.acme.done', {});
    return 'done';
  },
});`,
  // Each run opens a form whose opening starts the next run: the task events carry the chain as emits do.
  'task-loop.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({
  name: 'task-loop',
  triggers: [{ event: 'autoflow.task.opened', filter: { title: { glob: 'loop *' } } }],
  async run(e: { data?: { title?: string } } | null) {
    const n = e?.data?.title ? Number(e.data.title.split(' ')[1]) : 0;
    if (n < 30) await tasks.openForm({ title: 'loop ' + (n + 1), assignees: ['alice'], fields: [{ name: 'ok', label: 'OK', type: 'boolean' }] });
    return n;
  },
});`,
  'everything.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'everything',
  triggers: [{ event: 'autoflow.*' }],
  async run(e: { type: string }) {
    return e.type;
  },
});`,
  'asker.ts': `import { signal, tasks, workflow } from 'autoflow';
export default workflow({
  name: 'asker',
  async run() {
    const promote = await signal('promote');
    const answer = await tasks.form({ title: 'Go on?', assignees: ['alice'], fields: [{ name: 'go', label: 'Go on', type: 'boolean' }] });
    return { promote, answer: answer.status };
  },
});`,
});
after(() => folder.remove());

const chainOf = (event: CloudEvent): unknown => (event as CloudEvent & { autoflowchain?: unknown }).autoflowchain;

/** The results of a workflow's runs, which must all have completed, in the order of their results. */
async function resultsOf(env: TestEnv, workflow: string): Promise<unknown[]> {
  const { runs } = await env.operations.listRuns({ workflow, limit: 100 });
  assert.ok(
    runs.every((run) => run.status === 'completed'),
    runs.map((run) => `${run.id} ${run.status}`).join(', '),
  );
  return runs.map((run) => run.result).sort((a, b) => Number(a) - Number(b));
}

/** The chain-limit warnings, as `workflow event-type chain`. */
const chainWarnings = (entries: readonly LogEntry[]): string[] =>
  entries
    .filter((entry) => entry.level === 'warn' && entry.data['chain'] !== undefined)
    .map(({ data }) => `${String(data['workflow'])} ${(data['event'] as { type: string }).type} ${String(data['chain'])}`);

/** The one sample of the chain-limit counter. */
async function chainLimitSkips(env: TestEnv): Promise<number> {
  const sample = /^autoflow_trigger_chain_limit_skips_total\{[^}]*\} (\d+)$/m.exec(await env.runtime.metrics.render());
  assert.ok(sample, 'the counter has a sample');
  return Number(sample[1]);
}

const databases: Array<[string, () => DatabaseConfig]> = [
  ['memory', () => ({ kind: 'memory' })],
  ['sqlite', () => ({ kind: 'sqlite', path: join(folder.dir, `chains-${Math.random().toString(36).slice(2)}.db`) })],
];

/** The auditor's loop, on a store: one event, then nine runs (the event's, and 8 emits'), a warning and a count. */
async function selfLoopEnds(db: DatabaseConfig): Promise<void> {
  const logger = memoryLogger();
  const env = await createTestEnv({ workflows: [folder.path('loop.ts'), folder.path('watcher.ts')], db, logger });
  try {
    assert.equal(await chainLimitSkips(env), 0, 'from 0');
    const watcher = await env.start('watcher');
    await env.emit({ type: 'com.acme.loop' });
    assert.deepEqual(await resultsOf(env, 'loop'), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const [last] = await env.operations.listEvents({ type: 'com.acme.loop', limit: 1 });
    assert.deepEqual([last?.data, last && chainOf(last)], [{ n: 9 }, 9], 'the chain is kept in the inbox');
    assert.deepEqual((await env.result(watcher)).result, { n: 9 }, 'a wait still receives the event no trigger takes');
    assert.deepEqual(chainWarnings(logger.entries), ['loop com.acme.loop 9']);
    const warning = logger.entries.find((entry) => entry.data['chain'] !== undefined)!;
    assert.match(
      warning.message,
      /^trigger 0 \(com\.acme\.loop\) of workflow loop started no run for event com\.acme\.loop \(id loop-[0-9a-f]+:1, source autoflow:workflow\/loop\): 9 emits in a row led to it, more than 8, .*a filter that stops the loop, or emit another type/,
    );
    assert.equal(await chainLimitSkips(env), 1);
  } finally {
    await env.close();
  }
}

describe('chains of emitted events', () => {
  for (const [store, db] of databases) {
    test(`a workflow that emits its own trigger's type ends after 8 emits, with one warning (${store} store)`, () => selfLoopEnds(db()));
  }

  test('two workflows that trigger each other (A → B → A) end after 8 emits in all', async () => {
    const logger = memoryLogger();
    const env = await createTestEnv({ workflows: [folder.path('ping.ts'), folder.path('pong.ts')], logger });
    try {
      await env.emit({ type: 'com.acme.ping' });
      assert.deepEqual(await resultsOf(env, 'ping'), [0, 2, 4, 6, 8]);
      assert.deepEqual(await resultsOf(env, 'pong'), [1, 3, 5, 7]);
      assert.deepEqual(chainWarnings(logger.entries), ['pong com.acme.pong 9']);
      assert.equal(await chainLimitSkips(env), 1);
    } finally {
      await env.close();
    }
  });

  test('workflows that open forms whose opening starts them again end after 8 links, as emits do', async () => {
    const logger = memoryLogger();
    const env = await createTestEnv({ workflows: [folder.path('task-loop.ts')], logger });
    try {
      await env.start('task-loop', null);
      await env.settle();
      const { runs } = await env.operations.listRuns({ workflow: 'task-loop', limit: 100 });
      assert.equal(runs.length, 9, 'the run started by hand and the 8 its forms started');
      assert.deepEqual(chainWarnings(logger.entries), ['task-loop autoflow.task.opened 9']);
    } finally {
      await env.close();
    }
  });

  test('a chain of three emits, through a child run and a continue-as-new successor, runs to its end and counts each emit', async () => {
    const logger = memoryLogger();
    const files = ['relay-start.ts', 'relay-child.ts', 'relay-continue.ts', 'relay-end.ts'].map((name) => folder.path(name));
    const env = await createTestEnv({ workflows: files, logger });
    try {
      await env.emit({ type: 'com.acme.start' });
      assert.deepEqual(await resultsOf(env, 'relay-end'), ['done']);
      const chains = await Promise.all(
        ['com.acme.step1', 'com.acme.step2', 'com.acme.done'].map(async (type) => {
          const events = await env.operations.listEvents({ type });
          return events.map(chainOf);
        }),
      );
      assert.deepEqual(chains, [[1], [2], [3]]);
      assert.deepEqual(chainWarnings(logger.entries), []);
    } finally {
      await env.close();
    }
  });
});

testOnPostgres("a workflow that emits its own trigger's type ends after 8 emits (postgres store)", (url) =>
  selfLoopEnds({ kind: 'postgres', url }),
);

describe('events addressed to one run', () => {
  test("a signal and a task's answer reach their run and start no run of an autoflow.* workflow; the task's opening does", async () => {
    const env = await createTestEnv({ workflows: [folder.path('everything.ts'), folder.path('asker.ts')] });
    try {
      const asker = await env.start('asker');
      await env.signal(asker, 'promote', { approved: false });
      const [task] = await env.tasks();
      assert.ok(task, 'the form is open');
      await env.submitTask(task.id, 'alice', { go: true });
      assert.deepEqual((await env.result(asker)).result, { promote: { approved: false }, answer: 'submitted' });
      assert.deepEqual(await resultsOf(env, 'everything'), ['autoflow.task.opened']);
    } finally {
      await env.close();
    }
  });
});
