import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DefinitionError } from '../core/errors.js';
import type { Command, DeployedDefinition, ErrorInfo } from '../core/model.js';
import { parseManifest } from './manifest.js';
import { createQuickJsSandbox } from './quickjs-sandbox.js';
import { deploy, durable, ending, runThrough, startActivation, workflowFolder } from './test-support.js';

/**
 * The mistakes a first-time author makes, each failing where it is made with what to do instead rather than silently
 * or anonymously: a mistyped key of `workflow({...})`, a forgotten `await`, a mistyped `gitlab` method, a global of
 * Node.js or the web.
 */
const sandbox = await createQuickJsSandbox();
const folder = workflowFolder();
after(() => folder.remove());

const define = (name: string, source: string): Promise<DeployedDefinition> => deploy(sandbox, folder.write(name, source));

/** The commands of a run of `body` (the inside of `async run()`) started with no input. */
async function runOf(name: string, body: string, options = `permissions: { gitlab: { projects: ['demo/*'] }, activities: ['x'] }`) {
  const definition = await define(
    `${name}.ts`,
    `import { workflow, gitlab, activities, continueAsNew } from 'autoflow';
export default workflow({
  name: '${name}',
  ${options},
  async run() {
    ${body}
  },
});
`,
  );
  return runThrough(sandbox, definition, [startActivation(null)])[0]!;
}

function failureOf(commands: Command[]): ErrorInfo {
  const end = ending(commands);
  if (end?.kind !== 'fail') assert.fail(`the run did not fail: ${JSON.stringify(end)}`);
  return end.error;
}

describe('a mistyped key of workflow({...})', () => {
  const refused: Array<[string, RegExp]> = [
    [
      `trigger: [{ event: 'com.gitlab.events.issue_created' }]`,
      /^\S+trigger\.ts: the workflow\(\{\.\.\.\}\) declaration of workflow 'm' is invalid:\n {2}\(declaration\): unknown field 'trigger' \(expected name, description, triggers, permissions, input, timeout, concurrency, run\); did you mean 'triggers'\?$/,
    ],
    [`permisions: { secrets: ['A'] }`, /unknown field 'permisions' \(expected .*\); did you mean 'permissions'\?/],
    [`descripton: 'd'`, /unknown field 'descripton' \(expected .*\); did you mean 'description'\?/],
    [`schedule: '0 6 * * *'`, /unknown field 'schedule' \(expected .*\); did you mean 'triggers'\?/],
    [`inputSchema: { type: 'object' }`, /unknown field 'inputSchema' \(expected .*\); did you mean 'input'\?/],
    [`retries: 3`, /unknown field 'retries' \(expected name, description, triggers, permissions, input, timeout, concurrency, run\)$/],
  ];
  for (const [field, message] of refused) {
    const key = field.slice(0, field.indexOf(':'));
    test(`'${key}' is refused at deploy (and by autoflow check), with the keys allowed`, async () => {
      const file = folder.write(
        `${key}.ts`,
        `import { workflow } from 'autoflow';\nexport default workflow({ name: 'm', ${field}, async run() { return 1; } } as never);\n`,
      );
      await assert.rejects(deploy(sandbox, file), (error: unknown) => {
        assert.ok(error instanceof DefinitionError);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test('a manifest without declaredKeys (a bundle made before the SDK reported them) is read as before, and none is kept', () => {
    const manifest = { name: 'm', triggers: [], permissions: {}, validatesInput: false };
    assert.deepEqual(parseManifest(manifest, 'm.ts'), manifest);
    assert.deepEqual(parseManifest({ ...manifest, declaredKeys: ['name', 'run'] }, 'm.ts'), manifest);
    assert.throws(() => parseManifest({ ...manifest, declaredKeys: 'name' }, 'm.ts'), /declaredKeys: must be a list of strings/);
  });
});

describe('a Promise, Map or Set where JSON would write {}', () => {
  test("a Promise in the run's result fails the run: did you forget `await`?", async () => {
    const error = failureOf(await runOf('result', `return { issue: gitlab.issues.get('demo/app', 1) };`));
    assert.equal(error.message, "The workflow's result has a Promise at result.issue: did you forget `await`?");
    assert.equal(error.name, 'TypeError');
  });

  test("a Promise in a call's arguments fails the call at its site, and no call is made", async () => {
    const commands = await runOf('args', `await activities.x({ list: [1, { p: Promise.resolve(1) }] }); return 1;`);
    assert.deepEqual(
      durable(commands).filter((command) => command.kind === 'call'),
      [],
    );
    const error = failureOf(commands);
    assert.equal(error.message, 'activities.x() has a Promise at args.list[1].p: did you forget `await`?');
    assert.match(error.stack ?? '', /\n {4}at run \(args\.ts:6:\d+\)/);
  });

  test('a Map or a Set in a result fails the run, saying how to convert it', async () => {
    const map = failureOf(await runOf('map', `return { byId: new Map([['a', 1]]) };`));
    assert.match(
      map.message,
      /^The workflow's result has a Map at result\.byId, which JSON writes as \{\}: convert it with Object\.fromEntries\(map\)/,
    );
    const set = failureOf(await runOf('set', `return [new Set([1])];`));
    assert.match(set.message, /^The workflow's result has a Set at result\[0\], which JSON writes as \{\}: convert it with \[\.\.\.set\]/);
  });

  test('a Promise in the input of the next run fails continueAsNew()', async () => {
    const error = failureOf(await runOf('next', `continueAsNew({ page: Promise.resolve(2) });`));
    assert.equal(error.message, 'continueAsNew() has a Promise at input.page: did you forget `await`?');
  });

  test('empty objects and arrays, and the text {}, are plain data', async () => {
    const end = ending(await runOf('empty', `return { a: {}, b: [], c: '{}', d: [{}] };`));
    assert.deepEqual(end, { kind: 'complete', result: { a: {}, b: [], c: '{}', d: [{}] } });
  });
});

describe('a mistyped gitlab resource or method', () => {
  test('names the facade, the name, the one most likely meant and what it has', async () => {
    const method = failureOf(await runOf('edti', `await (gitlab.issues as any).edti('demo/app', 1, {});`));
    assert.equal(
      method.message,
      "gitlab.issues has no method 'edti' (did you mean 'edit'? it has: list, listInGroup, get, create, edit, close, reopen, relatedMergeRequests, closedBy)",
    );
    assert.match(method.stack ?? '', /^TypeError: gitlab\.issues has no method 'edti'.*\n {4}at run \(edti\.ts:6:\d+\)/);
    const resource = failureOf(await runOf('issue', `await (gitlab as any).issue.edit('demo/app', 1, {});`));
    assert.match(resource.message, /^gitlab has no resource 'issue' \(did you mean 'issues'\? it has: request, projects, groups, /);
  });

  test('await, typeof, JSON, `in`, symbols and the names libraries probe still answer as for a plain object', async () => {
    const end = ending(
      await runOf(
        'probes',
        `const g = gitlab as any;
    const awaited = await g.issues;
    return {
      awaited: awaited === g.issues,
      typeofs: [typeof g, typeof g.issues.edit, typeof g.then, typeof g.issues.toJSON, typeof g.$$typeof, typeof g.__esModule],
      json: JSON.stringify(g.users),
      has: ['issues' in g, 'edti' in g.issues],
      symbols: [g[Symbol.iterator] === undefined, Object.prototype.toString.call(g.issues), String(g)],
      keys: Object.keys(g.users),
    };`,
      ),
    );
    assert.deepEqual(end, {
      kind: 'complete',
      result: {
        awaited: true,
        typeofs: ['object', 'function', 'undefined', 'undefined', 'undefined', 'undefined'],
        json: '{}',
        has: [true, false],
        symbols: [true, '[object Object]', '[object Object]'],
        keys: ['get', 'byUsername', 'current'],
      },
    });
  });
});

describe('a global of Node.js or the web', () => {
  const missing: Array<[string, string, RegExp]> = [
    [
      'fetch',
      `await fetch('https://example.com');`,
      /: workflows have no fetch; use http\.request from 'autoflow' \(allowed by permissions\.http\)$/,
    ],
    ['Intl', `return new Intl.DateTimeFormat('en').format(0);`, /: workflows have no Intl .*use calendar from 'autoflow'/],
    ['process', `return process.env.TOKEN;`, /: workflows do not run in Node\.js: there is no process; .*secrets\.get/],
    ['Buffer', `return Buffer.from('x').toString('base64');`, /: workflows do not run in Node\.js: there is no Buffer; use Uint8Array/],
    ['structuredClone', `return structuredClone({});`, /: workflows have no structuredClone; copy plain data with JSON\.parse/],
  ];
  for (const [name, body, hint] of missing) {
    test(`a ReferenceError for ${name} says what to use instead, keeping its name and the author's line`, async () => {
      const error = failureOf(await runOf(`no-${name.toLowerCase()}`, body));
      assert.equal(error.name, 'ReferenceError');
      assert.match(error.message, new RegExp(`^'${name}' is not defined: `));
      assert.match(error.message, hint);
      assert.match(
        error.stack ?? '',
        new RegExp(`^ReferenceError: '${name}' is not defined: .*\\n {4}at run \\(no-${name.toLowerCase()}\\.ts:6:\\d+\\)`),
      );
    });
  }

  test('they stay undefined, for libraries that test for them, and other ReferenceErrors are left as they are', async () => {
    const end = ending(await runOf('typeof', `return [typeof fetch, typeof URL, typeof process, typeof Buffer];`));
    assert.deepEqual(end, { kind: 'complete', result: ['undefined', 'undefined', 'undefined', 'undefined'] });
    const other = failureOf(await runOf('other', `return (globalThis as any).eval('notDeclaredAnywhere');`));
    assert.equal(other.message, "'notDeclaredAnywhere' is not defined");
  });

  test('one used while the module loads is refused at deploy with the hint', async () => {
    const file = folder.write(
      'load-url.ts',
      `import { workflow } from 'autoflow';\nconst base = new URL('https://example.com');\nexport default workflow({ name: 'u', async run() { return String(base); } });\n`,
    );
    await assert.rejects(deploy(sandbox, file), (error: unknown) => {
      assert.ok(error instanceof DefinitionError);
      assert.match(
        error.message,
        /loading the workflow module failed: ReferenceError: 'URL' is not defined: workflows have no URL; build URLs as strings/,
      );
      assert.match(error.message, /\n {4}at .*load-url\.ts:2:\d+/);
      return true;
    });
  });
});
