import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DefinitionError, SandboxLimitError } from '../../core/errors.js';
import type { DeployedDefinition } from '../../core/model.js';
import type { WorkflowInstance } from '../../core/ports.js';
import { T0, deploy, resume, runThrough, startActivation, workflowFolder, type WorkflowFolder } from '../test-support.js';
import { createQuickJsSandbox } from '../quickjs-sandbox.js';
import { ThreadedSandbox, createThreadedSandbox } from './threaded-sandbox.js';

const FETCH_TWICE = `import { http, workflow } from 'autoflow';
export default workflow({
  name: 'fetch-twice',
  permissions: { http: ['https://example.com/'] },
  async run(input: { id: number }) {
    const first = await http.request({ url: 'https://example.com/items/' + input.id });
    const second = await http.request({ url: 'https://example.com/items/' + (input.id + Math.floor(Math.random() * 1000)) });
    if (second.status !== 200) throw new Error('item ' + input.id + ' answered ' + second.status);
    return { first: first.status, at: Date.now() };
  },
});`;

/** Each workflow task spends some CPU (tens of ms), then sleeps: a long history to replay. */
const BUSY = `import { sleep, workflow } from 'autoflow';
export default workflow({ name: 'busy', async run() {
  let total = 0;
  for (let task = 0; task < 30; task++) {
    for (let i = 0; i < 1_000_000; i++) total += i % 7;
    await sleep(1000);
  }
  return total;
} });`;

const SPIN = `import { workflow } from 'autoflow';
export default workflow({ name: 'spin', async run() { for (;;) {} } });`;

describe('sandbox threads', () => {
  let folder: WorkflowFolder;
  let sandbox: ThreadedSandbox;
  let fetchTwice: DeployedDefinition;
  let spin: DeployedDefinition;
  let busy: DeployedDefinition;

  before(async () => {
    folder = workflowFolder();
    const threaded = await createThreadedSandbox({ threads: 1 });
    assert.ok(threaded instanceof ThreadedSandbox);
    sandbox = threaded;
    fetchTwice = await deploy(sandbox, folder.write('fetch-twice.ts', FETCH_TWICE));
    spin = await deploy(sandbox, folder.write('spin.ts', SPIN));
    busy = await deploy(sandbox, folder.write('busy.ts', BUSY));
  });
  after(async () => {
    await sandbox.close();
    folder.remove();
  });

  const ok = (step: number, status: number) => ({
    kind: 'call' as const,
    step,
    ok: true as const,
    value: { status, headers: {}, body: '' },
  });
  const activations = [startActivation({ id: 7 }), resume([ok(1, 200)]), resume([ok(2, 404)])];

  /** One instance on the main thread, so that the next goes to the worker thread. */
  async function onWorkerThread(
    runId: string,
    definition = fetchTwice,
    limits: { cpuMsPerActivation?: number } = {},
  ): Promise<{ instance: WorkflowInstance; release: () => void }> {
    const anchor = await sandbox.createInstance(fetchTwice, { runId: 'anchor', seed: 'anchor' });
    const before = sandbox.placement().threads[0] ?? 0;
    const instance = await sandbox.createInstance(definition, { runId, seed: runId, ...limits });
    assert.equal(sandbox.placement().threads[0], before + 1, 'the second instance is placed on the worker thread');
    return { instance, release: () => anchor.dispose() };
  }

  test('a run on a worker thread issues exactly the commands it issues on the main thread, with mapped stacks', async () => {
    const expected = runThrough(await createQuickJsSandbox(), fetchTwice, activations, 'run-7');
    const { instance, release } = await onWorkerThread('run-7');
    try {
      const got = [];
      for (const activation of activations) got.push((await instance.activate(activation)).commands);
      assert.deepEqual(got, expected);
      const failure = got[2]?.find((command) => command.kind === 'fail');
      assert.ok(failure?.kind === 'fail');
      assert.match(failure.error.message, /item 7 answered 404/);
      assert.match(failure.error.stack ?? '', /fetch-twice\.ts:8:/, "the stack points at the author's line, mapped on the worker thread");
      assert.ok(instance.memoryUsage() > 0, 'the heap measured on the thread reaches the engine');
    } finally {
      instance.dispose();
      release();
    }
    assert.deepEqual(sandbox.placement(), { mainThread: 0, threads: [0] }, 'disposed instances leave their hosts');
  });

  test("a long replay on a worker thread lets the thread's other sandboxes be activated meanwhile", async () => {
    const made: WorkflowInstance[] = [];
    // The main thread counts half: with one sandbox there the next goes to the worker thread, and with three the next too.
    const onWorker = async (runId: string, definition: DeployedDefinition, anchorsBefore: number): Promise<WorkflowInstance> => {
      while (sandbox.placement().mainThread < anchorsBefore) {
        made.push(await sandbox.createInstance(fetchTwice, { runId: `anchor-${made.length}`, seed: 'anchor' }));
      }
      const before = sandbox.placement().threads[0] ?? 0;
      const created = await sandbox.createInstance(definition, { runId, seed: runId });
      made.push(created);
      assert.equal(sandbox.placement().threads[0], before + 1, `${runId} is on the worker thread`);
      return created;
    };
    try {
      const replayed = await onWorker('busy-1', busy, 1);
      const other = await onWorker('other-1', fetchTwice, 3);
      const tasks = [
        startActivation(null),
        ...Array.from({ length: 30 }, (_, i) => resume([{ kind: 'timer', step: i + 1 }], T0 + (i + 1) * 1000)),
      ];
      let replayDone = false;
      const replay = replayed.replay(tasks.map((task) => ({ ...task, replaying: true })));
      void replay.then(() => (replayDone = true));
      const answered = await other.activate(startActivation({ id: 1 }));
      assert.equal(replayDone, false, 'the other sandbox was answered while the replay went on');
      assert.deepEqual(
        answered.commands.map((command) => command.kind),
        ['call'],
      );
      const { results, failure } = await replay;
      assert.equal(failure, undefined);
      assert.equal(results.at(-1)?.commands.at(-1)?.kind, 'complete');
    } finally {
      for (const instance of made) instance.dispose();
    }
  });

  test('a replay batch answers every result, or the results before the activation that hit a limit and that limit', async () => {
    const { instance, release } = await onWorkerThread('run-8');
    try {
      const replaying = activations.slice(0, 2).map((activation) => ({ ...activation, replaying: true }));
      const { results, failure } = await instance.replay(replaying);
      assert.equal(failure, undefined);
      assert.deepEqual(
        results.map((result) => result.commands.map((command) => command.kind)),
        [['call'], ['call']],
      );
    } finally {
      instance.dispose();
      release();
    }
    const spinner = await onWorkerThread('spin', spin, { cpuMsPerActivation: 50 });
    try {
      const { results, failure } = await spinner.instance.replay([{ ...startActivation(null), replaying: true }]);
      assert.deepEqual(results, []);
      assert.ok(failure instanceof SandboxLimitError, `a limit stays a SandboxLimitError across threads (got ${String(failure)})`);
      assert.equal(failure.limit, 'cpu');
      assert.match(failure.message, /more than 50 ms of CPU .* raise sandbox\.cpuMs/);
    } finally {
      spinner.instance.dispose();
      spinner.release();
    }
  });

  test('a bundle that fails to load on the worker thread is a DefinitionError naming its file, as on the main thread', async () => {
    const broken = { ...fetchTwice, version: 'broken', bundle: 'throw new TypeError("the module is broken")' };
    const anchor = await sandbox.createInstance(fetchTwice, { runId: 'anchor', seed: 'anchor' });
    try {
      await assert.rejects(sandbox.createInstance(broken, { runId: 'broken', seed: 'broken' }), (error: unknown) => {
        assert.ok(error instanceof DefinitionError, `got ${String(error)}`);
        assert.match(error.message, /fetch-twice\.ts: loading the workflow module failed: .*the module is broken/);
        assert.deepEqual(error.details, { origin: fetchTwice.origin });
        return true;
      });
      assert.deepEqual(sandbox.placement(), { mainThread: 1, threads: [0] }, 'it went to the worker thread, and left no instance there');
    } finally {
      anchor.dispose();
    }
  });

  test('a thread keeps the definitions it was sent, forgets the least recently used beyond 64, and is sent them again', async () => {
    const versions = Array.from({ length: 66 }, (_, index) => ({ ...fetchTwice, version: `v${index}` }));
    const anchor = await sandbox.createInstance(fetchTwice, { runId: 'anchor', seed: 'anchor' });
    try {
      // v0 first, then 65 others: v0 and v1 are forgotten on the thread; v0 must travel again.
      for (const definition of [...versions, versions[0]!]) {
        const instance = await sandbox.createInstance(definition, { runId: definition.version, seed: 'x' });
        try {
          assert.deepEqual(
            (await instance.activate(activations[0]!)).commands.map((command) => command.kind),
            ['call'],
          );
        } finally {
          instance.dispose();
        }
      }
      assert.deepEqual(sandbox.placement(), { mainThread: 1, threads: [0] });
    } finally {
      anchor.dispose();
    }
  });

  test('instances of a stopped thread fail with a message that says so; new instances get a new thread', async () => {
    const { instance, release } = await onWorkerThread('run-9');
    try {
      await instance.activate(activations[0]!);
      await sandbox.close();
      await assert.rejects(
        instance.activate(activations[1]!),
        /the sandbox thread stopped \(the sandbox was closed\); its runs are replayed in a new sandbox/,
      );
    } finally {
      instance.dispose();
      release();
    }
    const again = await onWorkerThread('run-10');
    try {
      assert.deepEqual(
        (await again.instance.activate(activations[0]!)).commands.map((command) => command.kind),
        ['call'],
      );
    } finally {
      again.instance.dispose();
      again.release();
    }
  });

  const startFailures = [
    { how: 'its script throws', entry: 'data:text/javascript,throw new Error("no module here")', message: /no module here/ },
    { how: 'Node.js refuses to create it', entry: 'https://example.com/worker.js', message: /must be of scheme file/ },
  ];
  for (const { how, entry, message } of startFailures) {
    test(`a thread that cannot start (${how}) is reported once and left out: its runs, the first included, go to the main thread`, async () => {
      const failures: Error[] = [];
      const broken = await createThreadedSandbox(
        { threads: 1 },
        { workerEntry: new URL(entry), onStartFailure: (error) => failures.push(error) },
      );
      assert.ok(broken instanceof ThreadedSandbox);
      const instances: WorkflowInstance[] = [];
      try {
        // The second would go to the worker thread, which fails to start; so would the third, were it not left out.
        for (const runId of ['first', 'second', 'third']) instances.push(await broken.createInstance(fetchTwice, { runId, seed: runId }));
        assert.deepEqual(broken.placement(), { mainThread: 3, threads: [0] });
        assert.equal(failures.length, 1);
        assert.match(failures[0]?.message ?? '', /^a sandbox thread could not start: /);
        assert.match(failures[0]?.message ?? '', message);
        const second = instances[1] as WorkflowInstance;
        assert.deepEqual(
          (await second.activate(activations[0]!)).commands.map((command) => command.kind),
          ['call'],
        );
      } finally {
        for (const instance of instances) instance.dispose();
        await broken.close();
      }
    });
  }
});
