import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { createRuntime, embeddedRuntimeConfig, type Runtime, type RuntimeConfig } from '../../src/app/runtime.js';
import type { ActivityContext } from '../../src/capabilities/activities.js';
import type { Logger } from '../../src/core/ports.js';

/** A workflows folder with `deploy`, which returns { rolled } with what the activity rollOut('v2') answers. */
function deployFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-graceful-'));
  writeFileSync(
    join(dir, 'deploy.ts'),
    `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'deploy',
  permissions: { activities: ['rollOut'] },
  async run() {
    const rolled = await activities.rollOut('v2');
    return { rolled };
  },
});`,
  );
  return dir;
}

/** A runtime on the folder's SQLite database with these activities; silent. */
function runtimeOn(dir: string, activities: RuntimeConfig['activities'], parts: Partial<RuntimeConfig> = {}): Promise<Runtime> {
  return createRuntime(
    embeddedRuntimeConfig({
      db: { kind: 'sqlite', path: join(dir, 'autoflow.db') },
      workflowsDir: dir,
      apiToken: 'graceful',
      activities,
      ...parts,
    }),
    { logger: pino({ level: 'silent' }) as unknown as Logger },
  );
}

/**
 * A graceful stop waits for the calls in flight; what they answer is kept, so that the server that
 * takes the run over next does not make the same call again.
 */
test('a call that finishes while the server stops gives its result to the next start, and is not made again', async () => {
  const dir = deployFolder();
  const invocations: string[] = [];
  let started!: () => void;
  const inFlight = new Promise<void>((resolve) => (started = resolve));
  let finish!: (value: string) => void;
  const answer = new Promise<string>((resolve) => (finish = resolve));
  const runtimeAt = (): Promise<Runtime> =>
    runtimeOn(dir, {
      rollOut: (args: unknown) => {
        invocations.push(String(args));
        started();
        return answer;
      },
    });
  try {
    const first = await runtimeAt();
    await first.start();
    const { run } = await first.operations.startRun({ workflow: 'deploy', id: 'deploy-1' });
    await inFlight;
    // The engine stops first, as on SIGTERM; the call answers while it waits.
    const engineStopped = first.engine.stop();
    finish('rolled out v2');
    await engineStopped;
    await first.stop();

    const second = await runtimeAt();
    await second.start();
    try {
      const done = await second.operations.waitForRun(run.id, 30_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.error));
      assert.deepEqual(done.result, { rolled: 'rolled out v2' });
      assert.deepEqual(invocations, ['v2'], 'the call was made once');
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an activity that hangs holds a stop only for shutdownGraceMs: its signal aborts, and the next start makes it again as attempt 2', async () => {
  const dir = deployFolder();
  const attempts: number[] = [];
  const abortReasons: string[] = [];
  let started!: () => void;
  const inFlight = new Promise<void>((resolve) => (started = resolve));
  const runtimeAt = (rollOut: (args: unknown, context: ActivityContext) => Promise<unknown>): Promise<Runtime> =>
    runtimeOn(dir, { rollOut }, { shutdownGraceMs: 50 });
  try {
    // The first server's activity never answers and ignores its signal, as a hung client library would.
    const first = await runtimeAt((_args, { attempt, signal }) => {
      attempts.push(attempt);
      signal.addEventListener('abort', () => abortReasons.push(String(signal.reason)));
      started();
      return new Promise(() => {});
    });
    await first.start();
    const { run } = await first.operations.startRun({ workflow: 'deploy', id: 'deploy-1' });
    await inFlight;
    await first.stop();
    assert.equal(abortReasons.length, 1);
    assert.match(abortReasons[0] ?? '', /the server is stopping and the call ran past the 50 ms grace/);

    const second = await runtimeAt((_args, { attempt }) => {
      attempts.push(attempt);
      return Promise.resolve('rolled out');
    });
    await second.start();
    try {
      const done = await second.operations.waitForRun(run.id, 30_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.error));
      assert.deepEqual(done.result, { rolled: 'rolled out' });
      assert.deepEqual(attempts, [1, 2], 'the attempt given up counts');
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
