import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { autoflow } from '../helpers/cli-process.js';

/**
 * Sharing workflow code between repositories (docs/blocks.md): a block is a package in a GitLab project,
 * and a workflows repository depends on it pinned to a commit, with npm's git dependencies. Here the
 * GitLab project is a local git repository, installed offline from a `git+file:` URL.
 */
let root: string;
let blocksRepo: string;
let flows: string;
const commits: { v1: string; v2: string } = { v1: '', v2: '' };

function write(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

function git(args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Block Author', '-c', 'user.email=blocks@example.com', ...args], {
    cwd: blocksRepo,
    encoding: 'utf8',
  }).trim();
}

function commitBlocks(files: Record<string, string>, message: string): string {
  write(blocksRepo, files);
  git(['add', '-A']);
  git(['commit', '-q', '-m', message]);
  return git(['rev-parse', 'HEAD']);
}

/** What `npm install git+https://gitlab.example.com/acme/autoflow-blocks.git#<sha>` does, without a network. */
function installBlocksAt(commit: string): void {
  execFileSync(
    'npm',
    ['install', '--offline', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', `git+file://${blocksRepo}#${commit}`],
    {
      cwd: flows,
      stdio: 'pipe',
    },
  );
}

const BLOCK_PACKAGE = JSON.stringify(
  {
    name: '@acme/autoflow-blocks',
    version: '1.0.0',
    type: 'module',
    exports: { '.': './src/index.ts' },
    peerDependencies: { autoflow: '*' },
  },
  null,
  2,
);

const BLOCK_INDEX = `import { log, sleep, workflow } from 'autoflow';
import { phrase } from './phrase';

/** A helper any workflow can await. */
export async function remindLater(text: string, delay: string): Promise<string> {
  await sleep(delay);
  log.info(\`reminding: \${text}\`);
  return phrase(text);
}

/** A whole workflow, configured by the repository that deploys it. */
export function reminderWorkflow(options: { name: string; delay: string }) {
  return workflow({
    name: options.name,
    async run(input: { text: string }) {
      return { said: await remindLater(input.text, options.delay) };
    },
  });
}
`;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'autoflow-blocks-'));
  blocksRepo = join(root, 'autoflow-blocks');
  mkdirSync(blocksRepo);
  git(['init', '-q']);
  commits.v1 = commitBlocks(
    {
      'package.json': BLOCK_PACKAGE,
      'src/index.ts': BLOCK_INDEX,
      'src/phrase.ts': 'export const phrase = (text: string): string => `reminder: ${text}`;\n',
    },
    'reminders',
  );
  commits.v2 = commitBlocks(
    { 'src/phrase.ts': 'export const phrase = (text: string): string => `REMINDER: ${text.toUpperCase()}`;\n' },
    'louder reminders',
  );

  const created = await autoflow(['init', 'flows'], { cwd: root });
  assert.equal(created.code, 0, created.stderr);
  flows = join(root, 'flows');
  // The install below is offline, and npm resolves dev dependencies even with --omit=dev: the
  // repository's type-checking tools (typescript, @types/node from the registry) would need the
  // registry's metadata in npm's cache. Nothing here type-checks, so they are left out.
  const manifest = JSON.parse(readFileSync(join(flows, 'package.json'), 'utf8')) as { devDependencies?: unknown };
  assert.ok(manifest.devDependencies, 'autoflow init declares dev dependencies');
  delete manifest.devDependencies;
  writeFileSync(join(flows, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  write(flows, {
    'workflows/standup.ts': `import { reminderWorkflow } from '@acme/autoflow-blocks';\n\nexport default reminderWorkflow({ name: 'standup-reminder', delay: '1h' });\n`,
    'workflows/standup.test.ts': `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestEnv } from 'autoflow/testing';

test('the shared reminder speaks after an hour', async () => {
  const env = await createTestEnv({ workflows: [new URL('./standup.ts', import.meta.url)] });
  try {
    const id = await env.start('standup-reminder', { text: 'stand up' });
    const run = await env.result(id);
    assert.deepEqual(run.result, { said: process.env.EXPECTED_SAID });
    assert.equal(run.updatedAt - run.createdAt, 3_600_000);
    assert.deepEqual(await env.logs(id), ['reminding: stand up']);
    const timer = (await env.history(id)).find((event) => event.type === 'timer_started');
    assert.match(String(timer && 'site' in timer ? timer.site : ''), /^@acme\\/autoflow-blocks\\/src\\/index\\.ts:6:\\d+$/);
  } finally {
    await env.close();
  }
});
`,
  });
});
after(() => rmSync(root, { recursive: true, force: true }));

/** The version `autoflow check` reports for standup-reminder: the first 12 hex digits of its sha256. */
async function checkedVersion(): Promise<string> {
  const check = await autoflow(['check', 'workflows'], { cwd: flows });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const line = /^✓ standup-reminder ([0-9a-f]{12}) /m.exec(check.stdout);
  assert.ok(line, check.stdout);
  return line[1]!;
}

describe('blocks shared from another repository, pinned to a commit', () => {
  test('a block package installed at a commit bundles, runs under autoflow test, and maps its call sites', async () => {
    installBlocksAt(commits.v1);
    const lock = readFileSync(join(flows, 'package-lock.json'), 'utf8');
    assert.match(lock, new RegExp(`"resolved": "git\\+file://[^"]*#${commits.v1}"`), 'the lockfile pins the commit');

    await checkedVersion();
    const passed = await autoflow(['test', 'workflows/standup.test.ts'], { cwd: flows, env: { EXPECTED_SAID: 'reminder: stand up' } });
    assert.equal(passed.code, 0, passed.stdout + passed.stderr);
    assert.match(passed.stdout, /✔ the shared reminder speaks after an hour/);
  });

  test("moving the pin to another commit deploys a new version, with that commit's code", async () => {
    installBlocksAt(commits.v1);
    const before = await checkedVersion();
    installBlocksAt(commits.v2);
    const after = await checkedVersion();
    assert.notEqual(after, before, "the block's code is part of the bundle, so of the version");
    const passed = await autoflow(['test', 'workflows/standup.test.ts'], { cwd: flows, env: { EXPECTED_SAID: 'REMINDER: STAND UP' } });
    assert.equal(passed.code, 0, passed.stdout + passed.stderr);
    installBlocksAt(commits.v1);
    assert.equal(await checkedVersion(), before, 'the same commit gives the same version again');
  });

  test('a block that imports a Node.js module is refused at check, naming its file inside the package', async () => {
    const broken = commitBlocks(
      {
        'src/phrase.ts': "import { hostname } from 'node:os';\nexport const phrase = (text: string): string => `${hostname()}: ${text}`;\n",
      },
      'reads the host',
    );
    installBlocksAt(broken);
    const check = await autoflow(['check', 'workflows'], { cwd: flows });
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout + check.stderr, /@acme\/autoflow-blocks\/src\/phrase\.ts:1:\d+: 'node:os' is a Node\.js module/);
  });
});
