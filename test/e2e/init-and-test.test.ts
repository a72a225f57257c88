import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { autoflow } from '../helpers/cli-process.js';

/**
 * A newcomer's first minutes: `autoflow init` then `autoflow test`, in a folder outside this
 * repository with nothing installed — `autoflow test` gives the tests the AutoFlow that runs them.
 */
const CHECKOUT = fileURLToPath(new URL('../../', import.meta.url));
let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'autoflow-init-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('autoflow init + autoflow test', () => {
  test('init scaffolds a repository whose example test passes under autoflow test', async () => {
    const created = await autoflow(['init', 'flows'], { cwd: root });
    assert.equal(created.code, 0, created.stderr);
    const dir = join(root, 'flows');
    for (const file of [
      'package.json',
      'tsconfig.json',
      '.gitlab-ci.yml',
      '.gitignore',
      'README.md',
      'workflows/hello.ts',
      'workflows/hello.test.ts',
    ]) {
      assert.ok(existsSync(join(dir, file)), `${file} was created`);
      assert.match(created.stdout, new RegExp(`^  ${file.replace('.', '\\.')}$`, 'm'));
    }
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name: string;
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    assert.equal(manifest.name, 'flows');
    // `autoflow check` does not type-check, so the repository's check and its CI run tsc too.
    assert.equal(manifest.scripts.check, 'tsc --noEmit && autoflow check workflows');
    // Run from this checkout, the repository depends on it by path: `autoflow` on npm is another project.
    const dependency = manifest.dependencies.autoflow ?? '';
    assert.match(dependency, /^file:/);
    const linked = JSON.parse(readFileSync(join(dir, dependency.slice('file:'.length), 'package.json'), 'utf8')) as { name: string };
    assert.equal(linked.name, 'autoflow', `${dependency} is this AutoFlow`);
    assert.match(created.stdout, /publish AutoFlow to your registry/);
    const ci = readFileSync(join(dir, '.gitlab-ci.yml'), 'utf8');
    assert.match(ci, /^ {4}- npx tsc --noEmit$/m);
    assert.match(ci, /autoflow check workflows/);
    assert.match(ci, /autoflow test/);

    const check = await autoflow(['check', 'workflows'], { cwd: dir });
    assert.equal(check.code, 0, check.stdout + check.stderr);

    const passed = await autoflow(['test'], { cwd: dir });
    assert.equal(passed.code, 0, passed.stdout + passed.stderr);
    assert.match(passed.stdout, /✔ hello returns the reply it was sent/);
    assert.match(passed.stdout, /^✓ 2 passed, 0 failed — 2 tests in 1 file \(\d+\.\d s\)$/m);
  });

  test('init refuses to overwrite, and writes nothing', async () => {
    const dir = join(root, 'existing');
    await autoflow(['init', 'existing'], { cwd: root });
    writeFileSync(join(dir, 'workflows/hello.ts'), '// mine\n');
    rmSync(join(dir, 'README.md'));
    const again = await autoflow(['init'], { cwd: dir });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error: package\.json, .*workflows\/hello\.ts already exist in .*existing; nothing was written\./m);
    assert.equal(readFileSync(join(dir, 'workflows/hello.ts'), 'utf8'), '// mine\n');
    assert.equal(existsSync(join(dir, 'README.md')), false);
  });

  test("the repository's tsconfig type-checks the workflows, triage policy imports included", async () => {
    await autoflow(['init', 'typed'], { cwd: root });
    const dir = join(root, 'typed');
    // What `npm install` would link: this AutoFlow, and the checkout's @types/node.
    mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
    symlinkSync(CHECKOUT, join(dir, 'node_modules/autoflow'));
    symlinkSync(join(CHECKOUT, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'));
    copyFileSync(join(CHECKOUT, 'examples/.triage-policies.yml'), join(dir, 'workflows/.triage-policies.yml'));
    // The policy file is all that is imported: the declaration must not come only with an import of 'autoflow'.
    for (const file of ['hello.ts', 'hello.test.ts']) rmSync(join(dir, 'workflows', file));
    writeFileSync(
      join(dir, 'workflows/policy-file.ts'),
      "import policies from './.triage-policies.yml';\nexport const file: string = policies.file;\n",
    );
    writeFileSync(join(dir, 'workflows/typo.ts'), "export const count: number = 'three';\n");
    const tsc = spawnSync(process.execPath, [join(CHECKOUT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(tsc.status, 2, tsc.stdout + tsc.stderr);
    assert.deepEqual(tsc.stdout.trim().split('\n'), [
      "workflows/typo.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'.",
    ]);
  });

  test("an author's own compiler options check the author's code only, not AutoFlow's", async () => {
    await autoflow(['init', 'options'], { cwd: root });
    const dir = join(root, 'options');
    mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
    symlinkSync(CHECKOUT, join(dir, 'node_modules/autoflow'));
    symlinkSync(join(CHECKOUT, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'));
    const tsconfig = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    const tscWith = (options: Record<string, unknown>) => {
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig, compilerOptions: { ...tsconfig.compilerOptions, ...options } }));
      return spawnSync(process.execPath, [join(CHECKOUT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.'], {
        cwd: dir,
        encoding: 'utf8',
      });
    };
    // The example and its test import 'autoflow' and 'autoflow/testing'. Options AutoFlow's own sources are not
    // written for, stricter and looser, must not turn up errors in them (they come as declarations).
    for (const options of [
      { exactOptionalPropertyTypes: true, noPropertyAccessFromIndexSignature: true, noImplicitReturns: true },
      { strict: false },
    ]) {
      const tsc = tscWith(options);
      assert.equal(tsc.status, 0, `${JSON.stringify(options)}: ${tsc.stdout}${tsc.stderr}`);
    }
  });

  test('a named workflow file is refused before anything runs, naming it', async () => {
    const dir = join(root, 'flows');
    const outcome = await autoflow(['test', 'workflows/hello.ts'], { cwd: dir });
    assert.equal(outcome.code, 1);
    assert.equal(outcome.stdout, '');
    assert.match(outcome.stderr, /^error: workflows\/hello\.ts is not a test file \(\*\.test\.ts\); tests live in \*\.test\.ts files beside the workflows/m);
  });

  test('init onto a file, or under one, says what is in the way', async () => {
    writeFileSync(join(root, 'a-file'), '');
    const onto = await autoflow(['init', 'a-file'], { cwd: root });
    assert.equal(onto.code, 2);
    assert.equal(onto.stderr, 'error: a-file is a file; give init a folder to create the repository in (autoflow init my-workflows)\n');
    const under = await autoflow(['init', 'a-file/flows'], { cwd: root });
    assert.equal(under.code, 2);
    assert.equal(under.stderr, `error: cannot create a-file/flows: ${join(root, 'a-file')} is a file, not a folder\n`);
  });

  test('a failing test fails the command, with the spec report and a summary', async () => {
    const dir = join(root, 'failing');
    await autoflow(['init', 'failing'], { cwd: root });
    const workflow = join(dir, 'workflows/hello.ts');
    writeFileSync(workflow, readFileSync(workflow, 'utf8').replace("timeout: '1d'", "timeout: '2d'"));
    const outcome = await autoflow(['test', 'workflows'], { cwd: dir });
    assert.equal(outcome.code, 1);
    assert.match(outcome.stdout, /✖ without a reply, hello gives up after exactly one day/);
    assert.match(outcome.stdout, /^✗ 1 passed, 1 failed — 2 tests in 1 file/m);
    assert.match(outcome.stderr, /^error: 1 test failed$/m);
  });

  test('no test files is an error, not a silent pass', async () => {
    const outcome = await autoflow(['test'], { cwd: root });
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /^error: no test files \(\*\.test\.ts\) in workflows, examples; /m);
    const missing = await autoflow(['test', 'nowhere'], { cwd: root });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file or folder: nowhere/);
  });
});
