import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../src/app/runtime.js';
import type { Logger } from '../../src/core/ports.js';

/**
 * A graceful stop waits for the calls in flight; what they answer is kept, so that the server that
 * takes the run over next does not make the same call again.
 */
test('a call that finishes while the server stops gives its result to the next start, and is not made again', async () => {
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
  const invocations: string[] = [];
  let started!: () => void;
  const inFlight = new Promise<void>((resolve) => (started = resolve));
  let finish!: (value: string) => void;
  const answer = new Promise<string>((resolve) => (finish = resolve));
  const runtimeAt = (): Promise<Runtime> =>
    createRuntime(
      embeddedRuntimeConfig({
        db: { kind: 'sqlite', path: join(dir, 'autoflow.db') },
        workflowsDir: dir,
        apiToken: 'graceful',
        activities: {
          rollOut: (args: unknown) => {
            invocations.push(String(args));
            started();
            return answer;
          },
        },
      }),
      { logger: pino({ level: 'silent' }) as unknown as Logger },
    );
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
