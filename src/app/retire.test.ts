/**
 * A workflow whose file leaves the workflows folder is retired at the next deploy: no new runs, its schedule stops,
 * its runs in flight finish on their version. A file that merely fails to build keeps its workflow.
 */
import assert from 'node:assert/strict';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { ConflictError } from '../core/errors.js';
import type { Logger } from '../core/ports.js';
import { postgresUnreachable, TEST_POSTGRES_URL } from '../../test/helpers/postgres.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { VirtualClock } from './clocks.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from './runtime.js';

const folder = workflowFolder({
  'nightly.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'nightly', triggers: [{ cron: '0 3 * * *' }], async run() { return 'swept'; } });`,
  'waiter.ts': `import { waitFor, workflow } from 'autoflow';
export default workflow({ name: 'waiter', async run() { return (await waitFor('test.go'))?.data ?? null; } });`,
  'keeper.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'keeper', async run() { return 1; } });`,
});
after(() => folder.remove());

async function started(clock: VirtualClock): Promise<Runtime> {
  const runtime = await createRuntime(
    embeddedRuntimeConfig({ db: { kind: 'sqlite', path: join(folder.dir, 'retire.db') }, workflowsDir: folder.dir, apiToken: 'test' }),
    { clock, pollIntervalMs: null },
  );
  await runtime.start();
  return runtime;
}

const deployed = async (runtime: Runtime): Promise<string[]> =>
  (await runtime.operations.listWorkflows()).map((workflow) => workflow.name).sort();

test('removing, renaming or breaking workflow files: the removed and renamed are retired, the broken one stays', async () => {
  const clock = new VirtualClock(Date.parse('2026-03-02T12:00:00Z'));
  let runtime = await started(clock);
  try {
    assert.deepEqual(await deployed(runtime), ['keeper', 'nightly', 'waiter']);
    await runtime.operations.startRun({ workflow: 'waiter', id: 'in-flight', input: null });
    await runtime.engine.whenIdle();

    rmSync(folder.path('nightly.ts'));
    rmSync(folder.path('waiter.ts'));
    writeFileSync(folder.path('keeper.ts'), 'export default workflow({ name: "keeper"'); // a typo, mid-edit
    writeFileSync(
      folder.path('renamed.ts'),
      `import { workflow } from 'autoflow';\nexport default workflow({ name: 'renamed', async run() { return 2; } });`,
    );
    await runtime.stop();
    runtime = await started(clock);

    assert.deepEqual(await deployed(runtime), ['keeper', 'renamed'], 'a file that fails to build keeps its workflow');
    await assert.rejects(runtime.operations.startRun({ workflow: 'nightly', input: null }), /nightly/);

    await runtime.operations.ingestEvent({ specversion: '1.0', id: 'go-1', source: 'test', type: 'test.go', data: 'finished anyway' });
    await runtime.engine.whenIdle();
    const inFlight = await runtime.operations.getRun('in-flight');
    assert.deepEqual([inFlight.status, inFlight.result], ['completed', 'finished anyway'], 'a run in flight goes on');

    clock.advance(86_400_000);
    await runtime.engine.whenIdle();
    assert.deepEqual((await runtime.operations.listRuns({ workflow: 'nightly' })).runs, [], 'the schedule stopped with it');

    renameSync(folder.path('renamed.ts'), folder.path('renamed.test.ts'));
    await runtime.redeploy();
    assert.deepEqual(await deployed(runtime), ['keeper'], 'a file that is no longer a workflow file retires its workflow');

    await runtime.operations.retireWorkflow('keeper');
    assert.deepEqual(await deployed(runtime), [], 'autoflow undeploy retires what a file still declares');
    await assert.rejects(runtime.operations.retireWorkflow('keeper'), /^NotFoundError: workflow 'keeper' does not exist; it was retired/);
    await assert.rejects(
      runtime.operations.retireWorkflow('never'),
      /^NotFoundError: workflow 'never' does not exist; no workflow is deployed/,
    );
  } finally {
    await runtime.stop();
  }
});

test('removing the last workflow file retires its workflow too', async () => {
  const alone = workflowFolder({
    'only.ts': `import { workflow } from 'autoflow';\nexport default workflow({ name: 'only', async run() { return 1; } });`,
  });
  const config = embeddedRuntimeConfig({
    db: { kind: 'sqlite', path: join(alone.dir, 'alone.db') },
    workflowsDir: alone.dir,
    apiToken: 'test',
  });
  try {
    const first = await createRuntime(config, { pollIntervalMs: null });
    await first.start();
    await first.stop();
    rmSync(alone.path('only.ts'));
    const second = await createRuntime(config, { pollIntervalMs: null });
    await second.start();
    try {
      assert.deepEqual(await deployed(second), []);
    } finally {
      await second.stop();
    }
  } finally {
    alone.remove();
  }
});

test('a client that starts a run again under its id gets that run back, even once its workflow was retired', async () => {
  const again = workflowFolder({
    'typed.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'typed',
  input: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
  async run(input: { n: number }) { return input.n; },
});`,
  });
  const runtime = await createRuntime(
    embeddedRuntimeConfig({ db: { kind: 'sqlite', path: join(again.dir, 'again.db') }, workflowsDir: again.dir, apiToken: 'test' }),
    { pollIntervalMs: null },
  );
  await runtime.start();
  try {
    const { operations } = runtime;
    assert.equal((await operations.startRun({ workflow: 'typed', id: 'portal-1', input: { n: 1, from: 'portal' } })).created, true);
    // The same request again, its keys in another order: the run it started.
    const retried = await operations.startRun({ workflow: 'typed', id: 'portal-1', input: { from: 'portal', n: 1 } });
    assert.deepEqual([retried.created, retried.run.id, retried.run.input], [false, 'portal-1', { n: 1, from: 'portal' }]);
    // Another input under the id (a CI job run again with new parameters): told, not handed the old run's result.
    await assert.rejects(
      operations.startRun({ workflow: 'typed', id: 'portal-1', input: { n: 2 } }),
      (error: Error) =>
        error instanceof ConflictError &&
        /^run 'portal-1' exists already \((running|completed)\), started with another input: a run id names one request, choose another id for this input$/.test(
          error.message,
        ),
    );
    await operations.retireWorkflow('typed');
    const afterRetire = await operations.startRun({ workflow: 'typed', id: 'portal-1', input: { n: 1, from: 'portal' } });
    assert.deepEqual([afterRetire.created, afterRetire.run.id], [false, 'portal-1']);
    await assert.rejects(operations.startRun({ workflow: 'typed', id: 'portal-2', input: { n: 2 } }), /it was retired/);
    await assert.rejects(operations.startRun({ workflow: 'other', id: 'portal-1' }), /exists already, a run of workflow 'typed'/);
  } finally {
    await runtime.stop();
    again.remove();
  }
});

const unreachable = await postgresUnreachable();

test(
  'on PostgreSQL a server does not retire a workflow its folder lacks (another server may be newer): it says how to',
  { skip: unreachable !== undefined && process.env.CI !== 'true' && `PostgreSQL not reachable (${unreachable})` },
  async () => {
    const schema = `af_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const shared = workflowFolder({
      'old.ts': `import { workflow } from 'autoflow';\nexport default workflow({ name: 'old', async run() { return 1; } });`,
    });
    const url = new URL(TEST_POSTGRES_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const lines: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({ write: (chunk: Buffer, _encoding, done) => done(void lines.push(chunk.toString())) }),
    );
    const start = async (): Promise<Runtime> => {
      const runtime = await createRuntime(
        embeddedRuntimeConfig({ db: { kind: 'postgres', url: url.toString() }, workflowsDir: shared.dir, apiToken: 'test' }),
        {
          logger: logger as unknown as Logger,
          pollIntervalMs: null,
        },
      );
      await runtime.start();
      return runtime;
    };
    try {
      await (await start()).stop();
      rmSync(shared.path('old.ts'));
      const runtime = await start();
      try {
        assert.deepEqual(await deployed(runtime), ['old']);
        assert.ok(
          lines.some((line) => line.includes('no file in') && line.includes('autoflow undeploy old')),
          lines.join(''),
        );
        await runtime.operations.retireWorkflow('old');
        assert.deepEqual(await deployed(runtime), []);
      } finally {
        await runtime.stop();
      }
    } finally {
      shared.remove();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  },
);

test('a server started on another folder says which active workflows came from elsewhere and go on, once, not at each change', async () => {
  const first = workflowFolder({
    'ticker.ts': `import { workflow } from 'autoflow';\nexport default workflow({ name: 'ticker', triggers: [{ cron: '*/3 * * * *' }], async run() { return 1; } });`,
  });
  const second = workflowFolder({
    'other.ts': `import { workflow } from 'autoflow';\nexport default workflow({ name: 'other', async run() { return 2; } });`,
  });
  const lines: string[] = [];
  const logger = pino(
    { level: 'warn' },
    new Writable({ write: (chunk: Buffer, _encoding, done) => done(void lines.push(chunk.toString())) }),
  );
  const start = async (dir: string): Promise<Runtime> => {
    const runtime = await createRuntime(
      embeddedRuntimeConfig({ db: { kind: 'sqlite', path: join(first.dir, 'moved.db') }, workflowsDir: dir, apiToken: 'test' }),
      { logger: logger as unknown as Logger, pollIntervalMs: null },
    );
    await runtime.start();
    return runtime;
  };
  try {
    await (await start(first.dir)).stop();
    assert.deepEqual(lines, [], 'its own folder: nothing to say');
    const runtime = await start(second.dir);
    try {
      assert.deepEqual(await deployed(runtime), ['other', 'ticker'], 'a folder cannot tell a workflow of another from one it lost');
      const told = lines.map((line) => JSON.parse(line) as { msg: string; workflow?: string });
      assert.deepEqual(
        told.map((line) => [line.workflow, line.msg]),
        [
          [
            'ticker',
            `workflow ticker is active, deployed from ${first.path('ticker.ts')}, outside ${second.dir}: it goes on running, its triggers and schedules too; retire it (autoflow undeploy ticker) or start the server on its folder`,
          ],
        ],
      );
      writeFileSync(
        second.path('other.ts'),
        `import { workflow } from 'autoflow';\nexport default workflow({ name: 'other', async run() { return 3; } });`,
      );
      await runtime.redeploy();
      assert.equal(lines.length, 1, 'told at the first deploy, not again at each change');
    } finally {
      await runtime.stop();
    }
  } finally {
    first.remove();
    second.remove();
  }
});
