/**
 * docs/blocks.md's package.json for a block project must resolve `autoflow` to the team's AutoFlow, never to the
 * unrelated public npm package of that name (`autoflow@0.7.3`), which npm installed by itself for the recipe's
 * required peer dependency. The recipe is read from the docs and installed offline beside a stand-in checkout.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'autoflow-blocks-recipe-')));
after(() => rmSync(root, { recursive: true, force: true }));

/** The first JSON block of the docs' "Publishing a block" section. */
function recipe(): Record<string, unknown> {
  const docs = readFileSync(new URL('../../docs/blocks.md', import.meta.url), 'utf8');
  const section = docs.slice(docs.indexOf('## Publishing a block'));
  const json = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
  assert.ok(json, 'docs/blocks.md has a package.json under "Publishing a block"');
  return JSON.parse(json) as ReturnType<typeof recipe>;
}

function npmInstall(cwd: string, ...flags: string[]): void {
  execFileSync('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', ...flags], { cwd, stdio: 'pipe' });
}

const write = (dir: string, manifest: object): void => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
};

test("the block recipe installs the team's AutoFlow, in the block project and in a workflows repository", () => {
  const manifest = recipe();
  // The checkout the recipe names (`file:../autoflow`), beside the block project: a stand-in with AutoFlow's name.
  const checkout = join(root, 'autoflow');
  write(checkout, { name: 'autoflow', version: '0.1.0', type: 'module' });
  const blocks = join(root, 'autoflow-blocks');
  write(blocks, manifest);

  npmInstall(blocks);
  assert.equal(realpathSync(join(blocks, 'node_modules', 'autoflow')), checkout, 'the block project gets the checkout');

  const flows = join(root, 'flows');
  write(flows, {
    name: 'flows',
    private: true,
    dependencies: { autoflow: 'file:../autoflow', '@acme/autoflow-blocks': 'file:../autoflow-blocks' },
  });
  npmInstall(flows, '--omit=dev');
  assert.equal(realpathSync(join(flows, 'node_modules', 'autoflow')), checkout, 'the workflows repository keeps its own AutoFlow');
  const lock = readFileSync(join(flows, 'package-lock.json'), 'utf8');
  assert.doesNotMatch(lock, /registry\.npmjs\.org\/autoflow\//, 'nothing comes from the public package');
});
