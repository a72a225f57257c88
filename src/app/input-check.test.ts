/**
 * A workflow's input schema is compiled with the Ajv build of its `$schema` dialect: zod 4's draft 2020-12 schemas
 * work from the first start on a fresh server, hand-written draft-07 schemas go on working, and a schema that cannot
 * be compiled is refused at deploy and `autoflow check`, naming the workflow and Ajv's message — never a 500 at start.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DefinitionError, ValidationError } from '../core/errors.js';
import type { DeployedDefinition, Json, JsonObject } from '../core/model.js';
import type { Sandbox } from '../core/ports.js';
import { workflowFolder } from '../sandbox/test-support.js';
import { VirtualClock } from './clocks.js';
import { checkWorkflowDirectory } from './deploy.js';
import { compileInputSchema, createInputChecker } from './input-check.js';
import { createRuntime, embeddedRuntimeConfig } from './runtime.js';

const folder = workflowFolder();
after(() => folder.remove());

/** A sandbox whose own validator accepts everything: these tests are about the JSON Schema check on the host. */
const acceptingSandbox = { checkInput: () => ({ ok: true }) } as unknown as Sandbox;

function definitionWith(inputSchema: JsonObject, version = 'v1'): DeployedDefinition {
  return {
    version,
    name: 'zchild',
    manifest: { name: 'zchild', triggers: [], permissions: {}, inputSchema, validatesInput: false },
    bundle: '',
    deployedAt: 0,
  };
}

/** What zod 4 emits for `z.object({ n: z.number().int().positive() })` with target draft-2020-12. */
const ZOD_SCHEMA: JsonObject = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: { n: { type: 'integer', exclusiveMinimum: 0, maximum: 9007199254740991 } },
  required: ['n'],
  additionalProperties: false,
};

function refusal(check: () => void): Error {
  try {
    check();
  } catch (caught) {
    return caught as Error;
  }
  return assert.fail('the check passed');
}

describe('createInputChecker', () => {
  test('a draft 2020-12 schema (zod 4) is checked from the first start on', () => {
    const check = createInputChecker(acceptingSandbox);
    check(definitionWith(ZOD_SCHEMA), { n: 2 });
    const error = refusal(() => check(definitionWith(ZOD_SCHEMA), { n: -1 }));
    assert.ok(error instanceof ValidationError);
    assert.deepEqual(error.issues, ['/n: must be > 0']);
  });

  test('an unknown property is named, with the known one it looks like or the ones allowed; an enum lists its values', () => {
    const check = createInputChecker(acceptingSandbox);
    const schema: JsonObject = {
      type: 'object',
      properties: { dryRun: { type: 'boolean' }, mode: { enum: ['fast', 'safe'] }, n: ZOD_SCHEMA },
      additionalProperties: false,
    };
    const definition = definitionWith(schema, 'typos');
    const issues = (input: Json): string[] => (refusal(() => check(definition, input)) as ValidationError).issues;
    assert.deepEqual(issues({ dryrun: true }), [
      "(input): has the property 'dryrun', which the schema does not allow; did you mean 'dryRun'?",
    ]);
    assert.deepEqual(issues({ dry_run: true }), [
      "(input): has the property 'dry_run', which the schema does not allow; did you mean 'dryRun'?",
    ]);
    assert.deepEqual(issues({ n: { n: 1, m: 2 } }), ["/n: has the property 'm', which the schema does not allow; it allows 'n'"]);
    assert.deepEqual(issues({ mode: 'quick' }), ['/mode: must be one of "fast", "safe"']);
  });

  test('draft-07 (with or without #, http or https), draft-06, 2019-09 and no $schema all work', () => {
    const check = createInputChecker(acceptingSandbox);
    const dialects = [
      undefined,
      'http://json-schema.org/draft-07/schema#',
      'http://json-schema.org/draft-07/schema',
      'https://json-schema.org/draft-07/schema#',
      'http://json-schema.org/draft-06/schema#',
      'https://json-schema.org/draft/2019-09/schema',
      'https://json-schema.org/draft/2020-12/schema#',
    ];
    for (const [i, $schema] of dialects.entries()) {
      const schema: JsonObject = { type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] };
      if ($schema !== undefined) schema.$schema = $schema;
      const definition = definitionWith(schema, `v${i}`);
      check(definition, { n: 1 });
      const error = refusal(() => check(definition, { n: 0 }));
      assert.ok(error instanceof ValidationError, `${$schema}: ${error.message}`);
      assert.deepEqual(error.issues, ['/n: must be >= 1'], String($schema));
    }
  });

  test('a schema that does not compile answers every start with a DefinitionError naming the workflow, never an internal error', () => {
    const check = createInputChecker(acceptingSandbox);
    const definition = definitionWith({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' });
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = refusal(() => check(definition, {}));
      assert.ok(error instanceof DefinitionError, error.message);
      assert.match(
        error.message,
        /input schema of workflow 'zchild' cannot be used: \$schema 'http:\/\/json-schema.org\/draft-04\/schema#' is not/,
      );
    }
  });
});

describe('compileInputSchema', () => {
  test("refuses an unknown dialect and a schema Ajv cannot compile, with Ajv's message", () => {
    assert.throws(() => compileInputSchema('w', { $schema: 'https://example.com/my-schema', type: 'object' }), {
      name: 'DefinitionError',
      message:
        /workflow 'w' cannot be used: \$schema 'https:\/\/example.com\/my-schema' is not a JSON Schema dialect AutoFlow checks; use draft-06, draft-07/,
    });
    assert.throws(() => compileInputSchema('w', { $schema: 5 }), { name: 'DefinitionError', message: /\$schema must be a URI string/ });
    assert.throws(() => compileInputSchema('w', { type: 'number', minimum: 'one' }), {
      name: 'DefinitionError',
      message: /workflow 'w' cannot be used: schema is invalid: data\/minimum must be number/,
    });
  });
});

describe('deploy and start', () => {
  const workflows = join(folder.dir, 'workflows');
  folder.write(
    'workflows/zchild.ts',
    `import { workflow } from 'autoflow';
import { z } from 'zod';
export default workflow({ name: 'zchild', input: z.object({ n: z.number().int().positive() }), async run(input) { return input.n * 2; } });
`,
  );
  folder.write(
    'workflows/draft07.ts',
    `import { workflow } from 'autoflow';
export default workflow({
  name: 'draft07',
  input: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] },
  async run(input: { n: number }) { return input.n + 1; },
});
`,
  );
  const badFile = folder.write(
    'workflows/bad-schema.ts',
    `import { workflow } from 'autoflow';
export default workflow({ name: 'bad-schema', input: { type: 'object', properties: { n: { type: 'whole number' } } }, async run() { return 1; } });
`,
  );

  test('autoflow check refuses a schema Ajv cannot compile, naming the workflow and what Ajv said', async () => {
    const results = await checkWorkflowDirectory(workflows);
    const bad = results.find((result) => result.file === badFile);
    assert.match(
      bad?.error ?? '',
      /input schema of workflow 'bad-schema' cannot be used: schema is invalid: data\/properties\/n\/type must be/,
    );
    assert.deepEqual(
      results
        .filter((result) => result.error === undefined)
        .map((result) => result.name)
        .sort(),
      ['draft07', 'zchild'],
    );
  });

  test('on a fresh server, the first start of a zod-input workflow succeeds; a bad input is refused; a draft-07 input works', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 5, 9));
    const runtime = await createRuntime(
      embeddedRuntimeConfig({ db: { kind: 'sqlite', path: join(folder.dir, 'fresh.db') }, workflowsDir: workflows, apiToken: 'test' }),
      { clock, pollIntervalMs: null },
    );
    await runtime.start();
    try {
      const { run, created } = await runtime.operations.startRun({ workflow: 'zchild', id: 'first', input: { n: 2 } });
      assert.equal(created, true);
      await assert.rejects(runtime.operations.startRun({ workflow: 'zchild', input: { n: 0 } }), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(error.issues, ['/n: must be > 0']);
        return true;
      });
      await runtime.operations.startRun({ workflow: 'draft07', id: 'd7', input: { n: 1 } });
      await assert.rejects(runtime.operations.startRun({ workflow: 'draft07', input: { n: 0 } }), /\/n: must be >= 1/);
      await assert.rejects(runtime.operations.startRun({ workflow: 'bad-schema', input: {} }), { name: 'NotFoundError' });
      await runtime.engine.whenIdle();
      assert.equal((await runtime.operations.getRun(run.id)).result, 4);
      assert.equal((await runtime.operations.getRun('d7')).result, 2);
    } finally {
      await runtime.stop();
    }
  });
});

test("autoflow check warns of a schedule whose runs' input the workflow's input schema refuses: a tick does not check it", async () => {
  const file = folder.write(
    'schedules/team-report.ts',
    `import { workflow } from 'autoflow';
export default workflow({
  name: 'team-report',
  input: { type: 'object', properties: { team: { type: 'string' } }, required: ['team'], additionalProperties: false },
  triggers: [
    { event: 'com.example.report' },
    { cron: '0 9 * * 1' },
    { cron: '0 9 * * 2', input: { team: 5 } },
    { cron: '0 9 * * 3', input: { team: 'platform' } },
  ],
  async run(input: { team: string }) { return input.team; },
});
`,
  );
  const [result] = await checkWorkflowDirectory(file);
  assert.equal(result?.error, undefined);
  assert.deepEqual(result?.warnings, [
    "triggers[1].input: the workflow's input schema refuses the { scheduledAt } a schedule without input gives its runs " +
      "((input): must have required property 'team'; (input): has the property 'scheduledAt', which the schema does not allow; it allows 'team'); " +
      'its runs would get it all the same: give the trigger an input the schema takes, or make the schema take it',
    "triggers[2].input: the workflow's input schema refuses its input (/team: must be string); " +
      'its runs would get it all the same: give the trigger an input the schema takes, or make the schema take it',
  ]);
});
