import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DefinitionError } from '../core/errors.js';
import { bundleWorkflow } from './bundle.js';
import { createQuickJsSandbox } from './quickjs-sandbox.js';
import { deploy, ending, runThrough, startActivation, workflowFolder } from './test-support.js';

const sandbox = await createQuickJsSandbox();
const folder = workflowFolder();
after(() => folder.remove());

async function inspect(name: string, source: string) {
  const file = folder.write(name, source);
  const { bundle, sourceMap } = await bundleWorkflow(file);
  return () => sandbox.inspect(bundle, { sourceMap, origin: file });
}

describe('inspect()', () => {
  test('reads the declaration: name, description, triggers, permissions, JSON Schema input', async () => {
    const read = await inspect(
      'labels.ts',
      `import { workflow } from 'autoflow';
export default workflow({
  name: 'milestone-labels',
  description: 'Labels issues by milestone',
  triggers: [
    { event: 'com.gitlab.events.issue_updated', filter: { 'changes.milestone_id': { exists: true } } },
    { cron: '0 6 * * 1', timezone: 'Europe/Berlin', input: { full: true } },
  ],
  permissions: { gitlab: { projects: ['acme/*'], access: 'write' }, secrets: ['SLACK_TOKEN'] },
  input: { type: 'object', properties: { full: { type: 'boolean' } } },
  async run() {},
});
`,
    );
    assert.deepEqual(read(), {
      name: 'milestone-labels',
      description: 'Labels issues by milestone',
      triggers: [
        { event: 'com.gitlab.events.issue_updated', filter: { 'changes.milestone_id': { exists: true } } },
        { cron: '0 6 * * 1', timezone: 'Europe/Berlin', input: { full: true } },
      ],
      permissions: { gitlab: { projects: ['acme/*'], access: 'write' }, secrets: ['SLACK_TOKEN'] },
      inputSchema: { type: 'object', properties: { full: { type: 'boolean' } } },
      validatesInput: false,
    });
  });

  const invalid: Array<[string, string, RegExp]> = [
    ['bad name', `name: 'My Flow', async run() {}`, /name: must be lower case letters/],
    ['empty name', `name: '', async run() {}`, /name: must be lower case letters/],
    ['bad cron', `name: 'x', triggers: [{ cron: '61 * * * *' }], async run() {}`, /triggers\[0\]\.cron: is not a valid cron expression/],
    [
      'unknown trigger',
      `name: 'x', triggers: [{ webhook: 'x' } as any], async run() {}`,
      /triggers\[0\]: a trigger is \{ event, filter\?, runKey\?, includeOwnEvents\? \} or \{ cron/,
    ],
    [
      'bad time zone',
      `name: 'x', triggers: [{ cron: '0 6 * * *', timezone: 'Mars/Olympus' }], async run() {}`,
      /triggers\[0\]\.timezone: "Mars\/Olympus" is not an IANA time zone; write the zone of a place, such as "Europe\/Berlin"/,
    ],
    [
      'time zone abbreviation',
      `name: 'x', triggers: [{ cron: '0 9 * * MON', timezone: 'BST' }], async run() {}`,
      /triggers\[0\]\.timezone: "BST" is an abbreviation or alias, not the IANA name of a place, and would be read as Asia\/Dhaka/,
    ],
    [
      'a POSIX offset zone, whose sign is inverted',
      `name: 'x', triggers: [{ cron: '0 9 * * MON', timezone: 'Etc/GMT+5' }], async run() {}`,
      /triggers\[0\]\.timezone: "Etc\/GMT\+5" is UTC−5: POSIX inverts the sign of the Etc\/GMT zones/,
    ],
    [
      'malformed trigger filter',
      `name: 'orders', triggers: [{ event: 'com.example.order.created', filter: { status: { in: 'paid' } } } as any], async run() {}`,
      /declaration of workflow 'orders' is invalid:\n {2}triggers\[0\]\.filter\['status'\]\.in: operator 'in' of field 'status': expected a non-empty list/,
    ],
    [
      'misspelt permission',
      `name: 'x', permissions: { gitlab: { project: ['a'] } } as any, async run() {}`,
      /permissions\.gitlab: unknown field .project. \(expected projects, groups, access\)/,
    ],
  ];
  for (const [what, fields, message] of invalid) {
    test(`refuses a declaration with a ${what}, naming the field and the file`, async () => {
      const read = await inspect(
        `${what.replace(/ /g, '-')}.ts`,
        `import { workflow } from 'autoflow';\nexport default workflow({ ${fields} });\n`,
      );
      assert.throws(read, (error: unknown) => {
        assert.ok(error instanceof DefinitionError);
        assert.match(error.message, message);
        assert.match(error.message, new RegExp(`${what.replace(/ /g, '-')}\\.ts`));
        return true;
      });
    });
  }

  test('refuses a module without a default export, or whose default export is not a workflow()', async () => {
    const none = await inspect('no-default.ts', `export const x = 1;\n`);
    assert.throws(
      none,
      (error: unknown) =>
        error instanceof DefinitionError &&
        /no-default\.ts: the module has no default export: .*; a file of helpers that workflows import belongs in a subfolder/.test(
          error.message,
        ),
    );
    const plain = await inspect('plain.ts', `export default { name: 'x', run() {} };\n`);
    assert.throws(plain, (error: unknown) => error instanceof DefinitionError && /not created by workflow\(\)/.test(error.message));
  });

  test("a module that throws while loading is refused with the author's line", async () => {
    const broken = await inspect(
      'broken.ts',
      `import { workflow } from 'autoflow';
const config: any = undefined;
const region = config.region;
export default workflow({ name: 'broken', async run() { return region; } });
`,
    );
    assert.throws(broken, (error: unknown) => {
      assert.ok(error instanceof DefinitionError);
      assert.match(error.message, /broken\.ts: loading the workflow module failed: TypeError: .*\n {4}at .*broken\.ts:3:\d+/);
      return true;
    });
  });
});

describe('input validators', () => {
  test('checkInput runs a zod schema inside the sandbox and reports readable issues', async () => {
    const definition = await deploy(
      sandbox,
      folder.write(
        'zod-input.ts',
        `import { workflow } from 'autoflow';
import { z } from 'zod';
export default workflow({
  name: 'zod-input',
  input: z.object({ title: z.string(), labels: z.array(z.string()).default([]), priority: z.number().int().min(1).max(5) }),
  async run(input) {
    return { title: input.title.toUpperCase(), labels: input.labels, priority: input.priority };
  },
});
`,
      ),
    );
    assert.equal(definition.manifest.validatesInput, true);
    assert.deepEqual(definition.manifest.inputSchema?.required, ['title', 'priority'], 'the JSON Schema comes from zod');

    assert.deepEqual(sandbox.checkInput(definition, { title: 'ok', priority: 3 }), { ok: true });
    assert.deepEqual(sandbox.checkInput(definition, { priority: 9 }), {
      ok: false,
      issues: ['title: Invalid input: expected string, received undefined', 'priority: Too big: expected number to be <=5'],
    });

    // The run receives the validator's output: defaults applied.
    const [commands] = runThrough(sandbox, definition, [startActivation({ title: 'fix ci', priority: 1 })]);
    assert.deepEqual(ending(commands ?? []), { kind: 'complete', result: { title: 'FIX CI', labels: [], priority: 1 } });
  });

  test('a run started with invalid input fails with the issues', async () => {
    const definition = await deploy(
      sandbox,
      folder.write(
        'strict-input.ts',
        `import { workflow } from 'autoflow';
import { z } from 'zod';
export default workflow({ name: 'strict-input', input: z.object({ n: z.number() }), async run(input) { return input.n; } });
`,
      ),
    );
    const [commands] = runThrough(sandbox, definition, [startActivation({ n: 'one' })]);
    const failed = ending(commands ?? []);
    assert.ok(failed?.kind === 'fail');
    assert.equal(failed.error.name, 'ValidationError');
    assert.match(failed.error.message, /n: Invalid input: expected number, received string/);
  });

  test('a JSON Schema input is left to the engine: checkInput has nothing to run', async () => {
    const definition = await deploy(
      sandbox,
      folder.write(
        'schema-input.ts',
        `import { workflow } from 'autoflow';
export default workflow({ name: 'schema-input', input: { type: 'object' }, async run() { return 1; } });
`,
      ),
    );
    assert.deepEqual(sandbox.checkInput(definition, 'not an object'), { ok: true });
  });
});
