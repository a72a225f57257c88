import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { SandboxLimitError } from '../core/errors.js';
import type { DeployedDefinition } from '../core/model.js';
import { ALLOWED_GLOBALS } from './globals.js';
import { createQuickJsSandbox } from './quickjs-sandbox.js';
import { deploy, ending, runThrough, startActivation, workflowFolder } from './test-support.js';

const sandbox = await createQuickJsSandbox();
const folder = workflowFolder();
after(() => folder.remove());

/** Deploys a workflow whose run() body is `body`, and returns what it returned. */
async function resultOf(name: string, body: string): Promise<unknown> {
  const definition = await deploy(
    sandbox,
    folder.write(
      `${name}.ts`,
      `import { workflow } from 'autoflow';\nexport default workflow({ name: '${name}', async run(): Promise<any> {\n${body}\n} });\n`,
    ),
  );
  const [commands] = runThrough(sandbox, definition, [startActivation(null)]);
  const end = ending(commands ?? []);
  if (end?.kind === 'complete') return end.result;
  throw new Error(`the workflow did not complete: ${JSON.stringify(end)}`);
}

describe('escape attempts find nothing', () => {
  test('no Node.js globals', async () => {
    assert.deepEqual(
      await resultOf(
        'node-globals',
        `return ['process', 'require', 'module', 'Buffer', 'fetch', 'WeakRef', 'FinalizationRegistry', 'SharedArrayBuffer', 'std', 'os']
          .map((name) => name + ':' + typeof (globalThis as any)[name]);`,
      ),
      [
        'process:undefined',
        'require:undefined',
        'module:undefined',
        'Buffer:undefined',
        'fetch:undefined',
        'WeakRef:undefined',
        'FinalizationRegistry:undefined',
        'SharedArrayBuffer:undefined',
        'std:undefined',
        'os:undefined',
      ],
    );
  });

  test('the global object, however it is reached, holds only the allow-list', async () => {
    const keys = (await resultOf(
      'global-keys',
      `const viaFunction = Function('return this')();
       const viaConstructor = (globalThis as any).constructor.constructor('return this')();
       return [viaFunction === globalThis, viaConstructor === globalThis, Reflect.ownKeys(viaFunction).map(String)];`,
    )) as [boolean, boolean, string[]];
    assert.equal(keys[0], true);
    assert.equal(keys[1], true);
    const unexpected = keys[2].filter((key) => !ALLOWED_GLOBALS.has(key));
    assert.deepEqual(unexpected, []);
  });

  test('the Function constructor cannot conjure process', async () => {
    assert.equal(
      await resultOf(
        'conjure',
        `try { return typeof (globalThis as any).constructor.constructor('return process')(); }
         catch (e: any) { return e.name; }`,
      ),
      'ReferenceError',
    );
  });

  test('dynamic import() rejects', async () => {
    assert.match(
      String(
        await resultOf(
          'dynamic-import',
          `// A computed specifier, so that the bundler cannot refuse it and the sandbox has to.
       const name = ['f', 's'].join('');
       try { await import(name); return 'loaded'; } catch (e: any) { return e.name + ': ' + e.message; }`,
        ),
      ),
      /^ReferenceError: could not load module 'fs'/,
    );
  });

  test('polluting prototypes inside does not reach the host', async () => {
    await resultOf('pollute', `(Object.prototype as any).polluted = 1; (Array.prototype as any).polluted = 1; return 'done';`);
    assert.equal(({} as { polluted?: number }).polluted, undefined);
    assert.equal(([] as unknown as { polluted?: number }).polluted, undefined);
  });

  test('setTimeout and setInterval throw NondeterministicApiError pointing at sleep()', async () => {
    const [timeout, interval] = (await resultOf(
      'timers',
      `const tries = [() => setTimeout(() => {}, 10), () => setInterval(() => {}, 10)];
       return tries.map((attempt) => { try { attempt(); return 'ran'; } catch (e: any) { return e.name + ': ' + e.message; } });`,
    )) as string[];
    assert.match(timeout ?? '', /^NondeterministicApiError: setTimeout\(\) is not available in workflows.*sleep/);
    assert.match(interval ?? '', /^NondeterministicApiError: setInterval\(\)/);
  });
});

describe('limits', () => {
  async function deployBody(name: string, body: string): Promise<DeployedDefinition> {
    return deploy(
      sandbox,
      folder.write(
        `${name}.ts`,
        `import { workflow, sleep } from 'autoflow';\nexport default workflow({ name: '${name}', async run(): Promise<any> {\n${body}\n} });\n`,
      ),
    );
  }

  test('an endless loop is stopped at the CPU deadline, and other instances keep working', async () => {
    const spinner = await deployBody('spinner', 'while (true) {}');
    const instance = sandbox.createInstanceNow(spinner, { runId: 'spin', seed: 'spin', cpuMsPerActivation: 100 });
    const started = performance.now();
    assert.throws(
      () => instance.activateNow(startActivation(null)),
      (error: unknown) =>
        error instanceof SandboxLimitError &&
        error.limit === 'cpu' &&
        /more than 100 ms of CPU/.test(error.message) &&
        /sandbox\.cpuMs/.test(error.message),
    );
    assert.ok(performance.now() - started < 1000, 'stopped promptly');
    assert.throws(() => instance.activateNow(startActivation(null)), /disposed/);

    const healthy = await deployBody('healthy', `return 'still fine';`);
    assert.deepEqual(runThrough(sandbox, healthy, [startActivation(null)])[0], [{ kind: 'complete', result: 'still fine' }]);
  });

  test('a memory bomb is stopped at the memory limit', async () => {
    const bomb = await deployBody('bomb', 'const a: number[][] = []; for (;;) a.push(new Array(1e5).fill(1));');
    const instance = sandbox.createInstanceNow(bomb, { runId: 'bomb', seed: 'bomb', memoryLimitBytes: 16 * 1024 * 1024 });
    assert.throws(
      () => instance.activateNow(startActivation(null)),
      (error: unknown) =>
        error instanceof SandboxLimitError &&
        error.limit === 'memory' &&
        /more than 16 MiB/.test(error.message) &&
        /sandbox\.memoryMb/.test(error.message),
    );
    const healthy = await deployBody('healthy-after-bomb', `return [1, 2, 3].map((n) => n * 2);`);
    assert.deepEqual(runThrough(sandbox, healthy, [startActivation(null)])[0], [{ kind: 'complete', result: [2, 4, 6] }]);
  });

  test('memory kept between activations counts against the limit', async () => {
    const hoarder = await deployBody(
      'hoarder',
      `const keep: number[][] = []; for (let i = 0; i < 40; i++) keep.push(new Array(10_000).fill(i));
       await sleep(1000); return keep.length;`,
    );
    const instance = sandbox.createInstanceNow(hoarder, { runId: 'hoard', seed: 'hoard', memoryLimitBytes: 2 * 1024 * 1024 });
    assert.throws(
      () => instance.activateNow(startActivation(null)),
      (error: unknown) => error instanceof SandboxLimitError && error.limit === 'memory',
    );
  });

  test('runaway recursion is a stack limit', async () => {
    const recursive = await deployBody('recursive', 'const down = (n: number): number => down(n + 1) + 1; return down(0);');
    assert.throws(
      () => runThrough(sandbox, recursive, [startActivation(null)]),
      (error: unknown) => error instanceof SandboxLimitError && error.limit === 'stack' && /recursion/.test(error.message),
    );
  });

  test('deeply nested data that overflows the native stack stops only that run', async () => {
    const parser = await deployBody('parser', `return JSON.parse('['.repeat(200_000) + ']'.repeat(200_000)).length;`);
    assert.throws(
      () => runThrough(sandbox, parser, [startActivation(null)]),
      (error: unknown) => error instanceof SandboxLimitError && error.limit === 'stack',
    );
    const healthy = await deployBody('healthy-after-parser', `return 'unaffected';`);
    assert.deepEqual(runThrough(sandbox, healthy, [startActivation(null)])[0], [{ kind: 'complete', result: 'unaffected' }]);
  });
});

describe("a limit's error points at the workflow, not at the host", () => {
  /** The stack of the limit's error `body` (a run() body starting on line 3 of `name`.ts) reaches. */
  async function limitStackOf(
    name: string,
    body: string,
    options: { cpuMsPerActivation?: number; memoryLimitBytes?: number },
  ): Promise<string> {
    const definition = await deploy(
      sandbox,
      folder.write(
        `${name}.ts`,
        `import { workflow, sleep } from 'autoflow';\nexport default workflow({ name: '${name}', async run(): Promise<any> {\n${body}\n} });\n`,
      ),
    );
    const instance = sandbox.createInstanceNow(definition, { runId: name, seed: name, ...options });
    try {
      instance.activateNow(startActivation(null));
    } catch (error) {
      assert.ok(error instanceof SandboxLimitError, String(error));
      // The server's own frames (instance.ts, engine.ts, node:internal) told the author nothing but the host's file layout.
      assert.doesNotMatch(error.stack ?? '', /instance\.ts|\.js:|node:|\/work\//);
      return error.stack ?? '';
    }
    assert.fail('the limit was not reached');
  }

  test('an endless loop: the line it was looping on', async () => {
    // QuickJS polls for the interrupt at calls and at a loop's jump back; interrupted at the jump, it names the start of
    // the looping function, not the loop (the SDK's code run before decides which: one statement more flips it). So the
    // loop is a function of its own line here.
    const body = 'const seen: number[] = [];\nconst spin = () => { for (;;) seen[0] = Math.max(seen.length, 1); };\nspin();';
    const stack = await limitStackOf('spin-where', body, { cpuMsPerActivation: 50 });
    assert.match(
      stack,
      /^SandboxLimitError: Workflow 'spin-where' ran for more than 50 ms of CPU.*\n {4}at spin \(spin-where\.ts:4:\d+\)\n {4}at run \(spin-where\.ts:5:\d+\)$/,
    );
  });

  test('a memory bomb: the line that asked for more', async () => {
    const stack = await limitStackOf('bomb-where', 'const a: number[][] = [];\n\nfor (;;) a.push(new Array(1e5).fill(1));', {
      memoryLimitBytes: 16 * 1024 * 1024,
    });
    assert.match(stack, /^SandboxLimitError: Workflow 'bomb-where' needed more than 16 MiB.*\n {4}at run \(bomb-where\.ts:5:\d+\)$/);
  });

  test('memory found by measuring after the task: no place, and it says so', async () => {
    const stack = await limitStackOf(
      'hoard-where',
      'const keep: number[][] = []; for (let i = 0; i < 40; i++) keep.push(new Array(10_000).fill(i));\nawait sleep(1000); return keep.length;',
      { memoryLimitBytes: 2 * 1024 * 1024 },
    );
    assert.match(
      stack,
      /^SandboxLimitError: Workflow 'hoard-where' needed more than 2 MiB.*\n {4}\(the sandbox cannot tell where in the workflow it was stopped\)$/,
    );
  });

  test('runaway recursion: its innermost frames, the rest counted', async () => {
    const stack = await limitStackOf('deep-where', 'const down = (n: number): number => down(n + 1) + 1;\nreturn down(0);', {});
    const lines = stack.split('\n');
    assert.equal(lines.length, 12, stack.slice(0, 2000));
    assert.match(lines[1] ?? '', /^ {4}at down \(deep-where\.ts:3:\d+\)$/);
    assert.match(lines[11] ?? '', /^ {4}… \d+ more frames$/);
  });
});

describe('spare instances', () => {
  test('each run starts from the module as loaded, never as an earlier run of its version left it', async () => {
    const definition = await deploy(
      sandbox,
      folder.write(
        'module-state.ts',
        `import { workflow } from 'autoflow';
let runs = 0;
export default workflow({ name: 'module-state', async run() {
  runs += 1;
  const g = globalThis as any;
  g.seen = (g.seen ?? 0) + 1;
  return [runs, g.seen];
} });
`,
      ),
    );
    const results = [];
    for (const runId of ['first', 'second', 'third']) {
      // A turn of the event loop between runs: the spare loaded meanwhile is what the next run gets.
      await nextTurn();
      results.push(ending(runThrough(sandbox, definition, [startActivation(null)], runId)[0] ?? []));
    }
    assert.deepEqual(results, Array(3).fill({ kind: 'complete', result: [1, 1] }));
  });

  test('a run with other limits than the spare was loaded with gets an instance with its own', async () => {
    const hoarder = await deploy(
      sandbox,
      folder.write(
        'spare-hoarder.ts',
        `import { sleep, workflow } from 'autoflow';
export default workflow({ name: 'spare-hoarder', async run() {
  const keep: number[][] = []; for (let i = 0; i < 40; i++) keep.push(new Array(10_000).fill(i));
  await sleep(1000); return keep.length;
} });
`,
      ),
    );
    assert.deepEqual(ending(runThrough(sandbox, hoarder, [startActivation(null)], 'roomy')[0] ?? []), undefined, 'asleep within 64 MiB');
    await nextTurn();
    const tight = sandbox.createInstanceNow(hoarder, { runId: 'tight', seed: 'tight', memoryLimitBytes: 2 * 1024 * 1024 });
    assert.throws(
      () => tight.activateNow(startActivation(null)),
      (error: unknown) => error instanceof SandboxLimitError && error.limit === 'memory' && /more than 2 MiB/.test(error.message),
    );
  });
});
