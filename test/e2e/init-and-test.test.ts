import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { autoflow } from '../helpers/cli-process.js';

/**
 * A newcomer's first minutes: `autoflow init` then `autoflow test`, in a folder outside this
 * repository with nothing installed — `autoflow test` gives the tests the AutoFlow that runs them.
 */
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
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };
    assert.equal(manifest.name, 'flows');
    // Run from this checkout, the repository depends on it by path: `autoflow` on npm is another project.
    const dependency = manifest.dependencies.autoflow ?? '';
    assert.match(dependency, /^file:/);
    const linked = JSON.parse(readFileSync(join(dir, dependency.slice('file:'.length), 'package.json'), 'utf8')) as { name: string };
    assert.equal(linked.name, 'autoflow', `${dependency} is this AutoFlow`);
    assert.match(created.stdout, /publish AutoFlow to your registry/);
    const ci = readFileSync(join(dir, '.gitlab-ci.yml'), 'utf8');
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
