import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { SandboxLimitError } from '../core/errors.js';
import { createQuickJsSandbox } from './quickjs-sandbox.js';
import { deploy, startActivation, workflowFolder } from './test-support.js';

const sandbox = await createQuickJsSandbox();
const folder = workflowFolder();
after(() => folder.remove());

test('many activations that each spin to the CPU limit let the event loop turn between them', async () => {
  const spinner = await deploy(
    sandbox,
    folder.write(
      'spin.ts',
      `import { workflow } from 'autoflow';\nexport default workflow({ name: 'spin', async run() { for (;;) {} } });\n`,
    ),
  );
  const instances = await Promise.all(
    Array.from({ length: 5 }, (_, i) => sandbox.createInstance(spinner, { runId: `spin-${i}`, seed: 'spin', cpuMsPerActivation: 30 })),
  );
  let ended = 0;
  const activations = instances.map((instance) =>
    instance.activate(startActivation(null)).then(
      () => assert.fail('an endless loop completed'),
      (error: unknown) => {
        assert.ok(error instanceof SandboxLimitError, String(error));
        ended++;
      },
    ),
  );
  // What an HTTP request or a lease heartbeat gets: the next turn of the loop. Before, all five
  // spun in one stretch (150 ms here, 40 s for 40 children at the default limit of 1 s) first.
  await nextTurn();
  const endedAtFirstTurn = ended;
  await Promise.all(activations);
  assert.equal(ended, 5);
  assert.ok(endedAtFirstTurn < 5, `the loop turned only after all ${endedAtFirstTurn} activations`);
  assert.ok(endedAtFirstTurn <= 2, `${endedAtFirstTurn} activations of 30 ms ran before the loop's next turn`);
});
