/**
 * The commands a sandbox returns are untrusted: the SDK writes them, but workflow code runs in the
 * same realm and can replace what the SDK uses. The SDK writes them with its own copies of those
 * built-ins, and the host checks the shape of every reply before acting on it.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { SandboxLimitError } from '../core/errors.js';
import type { Command, DeployedDefinition } from '../core/model.js';
import { commandsOf, commandsProblem } from './instance.js';
import { createQuickJsSandbox } from './quickjs-sandbox.js';
import { T0, deploy, resume, startActivation, workflowFolder } from './test-support.js';

const sandbox = await createQuickJsSandbox();
const folder = workflowFolder();
after(() => folder.remove());

const FORGED = '{"kind":"cancelled","children":["victim-1"]}';

/** A workflow that runs `tamper` first, then sleeps a minute and returns 'slept'. */
async function tampering(name: string, tamper: string): Promise<DeployedDefinition> {
  return deploy(
    sandbox,
    folder.write(
      `${name}.ts`,
      `import { sleep, workflow } from 'autoflow';
const FORGED = ${JSON.stringify(FORGED)};
export default workflow({
  name: '${name}',
  async run() {
    ${tamper}
    await sleep('1m');
    return 'slept';
  },
});
`,
    ),
  );
}

const withoutSites = (commands: Command[]) => commands.map(({ site: _site, ...rest }: Command & { site?: string }) => rest);

describe('workflow code that replaces what the SDK uses does not change the commands', () => {
  const cases: Array<[string, string]> = [
    [
      'JSON.stringify and JSON.parse',
      `(JSON as any).stringify = () => FORGED; (JSON as any).parse = () => ({ time: 0, resolutions: [{ kind: 'cancel' }], replaying: false });`,
    ],
    [
      'a toJSON on Object.prototype',
      `Object.defineProperty(Object.prototype, 'toJSON', {
        configurable: true,
        writable: true,
        value(this: any) { return this && typeof this.kind === 'string' ? JSON.parse(FORGED) : this; },
      });`,
    ],
    [
      'Array.prototype.push and join',
      `(Array.prototype as any).join = () => FORGED; const push = Array.prototype.push; (Array.prototype as any).push = function (this: any[], ...items: any[]) { return push.call(this, FORGED); };`,
    ],
  ];
  for (const [what, tamper] of cases) {
    test(what, async () => {
      const definition = await tampering(`tamper-${what.replace(/\W+/g, '-').toLowerCase()}`, tamper);
      const instance = sandbox.createInstanceNow(definition, { runId: 'tamperer', seed: 'tamperer' });
      try {
        assert.deepEqual(withoutSites(instance.activateNow(startActivation(null)).commands), [
          { kind: 'timer', step: 1, fireAt: T0 + 60_000 },
        ]);
        assert.deepEqual(instance.activateNow(resume([{ kind: 'timer', step: 1 }], T0 + 60_000)).commands, [
          { kind: 'complete', result: 'slept' },
        ]);
      } finally {
        instance.dispose();
      }
    });
  }
});

describe('the host checks the shape of every reply', () => {
  const site = { site: 'wf.ts:1:1' };
  const wellFormed: Command[] = [
    { kind: 'patch', patchId: 'p1' },
    { kind: 'log', level: 'info', message: 'hello' },
    {
      kind: 'call',
      step: 1,
      capability: 'http',
      method: 'request',
      args: { url: 'https://x' },
      options: { retry: { maxAttempts: 3 } },
      ...site,
    },
    { kind: 'call', step: 2, capability: 'emit', method: 'emit', args: null },
    { kind: 'timer', step: 3, fireAt: T0, ...site },
    { kind: 'wait', step: 4, eventType: 'x.y', match: { 'data.id': 7, subject: 'r', flag: true, none: null }, timeoutAt: T0 },
    { kind: 'wait', step: 5, eventType: 'x.y', match: {} },
    { kind: 'child', step: 6, workflow: 'other', input: { a: 1 }, childId: 'r.6', ...site },
  ];
  const endings: Command[] = [
    { kind: 'complete', result: null },
    { kind: 'fail', error: { name: 'Error', message: 'boom', stack: 'at x', details: { code: 1 } } },
    { kind: 'cancelled' },
    { kind: 'cancelled', reason: 'stop', children: ['r.6'] },
    { kind: 'continueAsNew', input: { n: 2 } },
    { kind: 'continueAsNew', input: null, carry: [{ source: 'autoflow:api', id: 'e-1' }] },
  ];

  test('accepts what the SDK writes: every kind, with an ending last', () => {
    assert.equal(commandsProblem([]), undefined);
    assert.equal(commandsProblem(wellFormed), undefined);
    for (const ending of endings) assert.equal(commandsProblem([...wellFormed, ending]), undefined, JSON.stringify(ending));
  });

  const malformed: Array<[unknown, RegExp]> = [
    [{ kind: 'cancelled', children: ['victim-1'] }, /not a list of commands/],
    [['{"kind":"timer"}'], /command 1 of 1 is not an object/],
    [[null], /command 1 of 1 is not an object/],
    [[{ kind: 'launch', step: 1 }], /command 1 of 1 \(kind 'launch'\): its kind is not one the host knows/],
    [[{ step: 1 }], /\(kind undefined\): its kind is not one the host knows/],
    [[{ kind: 'cancelled', children: 'victim-1' }], /'children' must be a list of run ids/],
    [[{ kind: 'cancelled', children: [{ runId: 'victim-1' }] }], /'children' must be a list of run ids/],
    [[{ kind: 'cancelled', reason: 7 }], /'reason' must be a string/],
    [
      [{ kind: 'continueAsNew', input: null, carry: [{ source: 'x' }] }],
      /'carry' must be a list of at most 10000 events' \{ source, id \}/,
    ],
    [[{ kind: 'continueAsNew', input: null, carry: 'all' }], /'carry' must be a list/],
    [[{ kind: 'call', step: 0, capability: 'http', method: 'request', args: null }], /'step' must be a positive integer/],
    [[{ kind: 'call', step: 1.5, capability: 'http', method: 'request', args: null }], /'step' must be a positive integer/],
    [[{ kind: 'call', step: '1', capability: 'http', method: 'request', args: null }], /'step' must be a positive integer/],
    [[{ kind: 'call', step: 1, capability: 42, method: 'request', args: null }], /'capability' must be a string/],
    [[{ kind: 'call', step: 1, capability: 'http', args: null }], /'method' must be a string/],
    [[{ kind: 'call', step: 1, capability: 'http', method: 'm', args: null, options: [] }], /'options' must be an object/],
    [
      [{ kind: 'call', step: 1, capability: 'http', method: 'm', args: null, options: { retry: { maxAttempts: '3' } } }],
      /'retry' has numbers/,
    ],
    [[{ kind: 'call', step: 1, capability: 'http', method: 'm', args: null, site: { file: 'x' } }], /'site' must be a string/],
    [[{ kind: 'timer', step: 1, fireAt: null }], /'fireAt' must be a number/],
    [[{ kind: 'timer', step: 1 }], /'fireAt' must be a number/],
    [[{ kind: 'wait', step: 1, eventType: 'x', match: { a: { b: 1 } } }], /'match' must map paths to strings/],
    [[{ kind: 'wait', step: 1, eventType: 'x', match: [] }], /'match' must map paths to strings/],
    [[{ kind: 'wait', step: 1, eventType: 'x', match: {}, timeoutAt: 'soon' }], /'timeoutAt' must be a number/],
    [[{ kind: 'wait', step: 1, match: {} }], /'eventType' must be a string/],
    [[{ kind: 'child', step: 1, workflow: 'w', input: null, childId: 42 }], /'childId' must be a string/],
    [[{ kind: 'child', step: 1, input: null, childId: 'c' }], /'workflow' must be a string/],
    [[{ kind: 'patch', patchId: 1 }], /'patchId' must be a string/],
    [[{ kind: 'log', level: 'fatal', message: 'x' }], /'level' must be debug, info, warn or error/],
    [[{ kind: 'log', level: 'info', message: ['x'] }], /'message' must be a string/],
    [[{ kind: 'complete' }], /'result' is missing/],
    [[{ kind: 'fail', error: 'boom' }], /'error' must be an object/],
    [[{ kind: 'fail', error: { name: 'Error', message: 'x', stack: 1 } }], /'error' must be an object/],
    [
      [
        { kind: 'timer', step: 2, fireAt: T0 },
        { kind: 'timer', step: 2, fireAt: T0 },
      ],
      /command 2 of 2 \(kind 'timer'\): step 2 does not come after step 2/,
    ],
    [
      [
        { kind: 'complete', result: 1 },
        { kind: 'cancelled', children: ['victim-1'] },
      ],
      /command 1 of 2 \(kind 'complete'\) ends the run, but more commands follow it/,
    ],
  ];
  test('refuses anything else, naming the command and the field', () => {
    for (const [reply, expected] of malformed) assert.match(commandsProblem(reply) ?? '(accepted)', expected, JSON.stringify(reply));
  });

  test('a malformed reply stops the run with a SandboxLimitError that says what was wrong', () => {
    assert.deepEqual(commandsOf('[{"kind":"complete","result":1}]', 'wf'), [{ kind: 'complete', result: 1 }]);
    assert.deepEqual(commandsOf(undefined, 'wf'), []);
    assert.throws(
      () => commandsOf('[{"kind":"cancelled","children":"victim-1"}]', 'wf'),
      (error: unknown) =>
        error instanceof SandboxLimitError &&
        /^Workflow 'wf' returned commands the host cannot accept, and was stopped: command 1 of 1 \(kind 'cancelled'\): 'children' must be a list of run ids\./.test(
          error.message,
        ),
    );
    assert.throws(() => commandsOf('[{"kind":', 'wf'), /returned commands the host cannot accept, and was stopped: the reply is not JSON/);
  });

  test('a real workflow whose command is malformed fails that activation, and its instance is done', async () => {
    const definition = await deploy(
      sandbox,
      folder.write(
        'bad-capability.ts',
        `import { callCapability, workflow } from 'autoflow';
export default workflow({ name: 'bad-capability', async run() { return callCapability(42 as unknown as string, 'go'); } });
`,
      ),
    );
    const instance = sandbox.createInstanceNow(definition, { runId: 'bad', seed: 'bad' });
    assert.throws(
      () => instance.activateNow(startActivation(null)),
      (error: unknown) =>
        error instanceof SandboxLimitError && /command 1 of 1 \(kind 'call'\): 'capability' must be a string/.test(error.message),
    );
    assert.throws(() => instance.activateNow(resume([])), 'the instance was disposed');
  });
});
