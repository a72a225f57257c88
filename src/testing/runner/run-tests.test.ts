/**
 * `autoflow test` as an author meets it: a failure points at the line the test is declared on, and a workflow file
 * named by mistake is refused before anything runs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { autoflow } from '../../../test/helpers/cli-process.js';
import { findTestFiles, NotATestFileError } from './run-tests.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-run-tests-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// TypeScript-only lines above the test, so that the transformed file's lines differ from the author's.
writeFileSync(
  join(dir, 'fail.test.ts'),
  `import assert from 'node:assert/strict';
import { test } from 'node:test';

type Reply = { text: string };

test('replies politely', () => {
  const reply: Reply = { text: 'no' };
  assert.equal(reply.text, 'yes');
});
`,
);
// A workflow file that leaves a mark if it is ever run.
writeFileSync(join(dir, 'hello.ts'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(join(dir, 'ran'))}, '');\n`);

test('a failed test is reported at the line it is declared on, and the assertion at its own', async () => {
  const outcome = await autoflow(['test', 'fail.test.ts'], { cwd: dir });
  assert.equal(outcome.code, 1, outcome.stdout + outcome.stderr);
  assert.match(outcome.stdout, /^test at fail\.test\.ts:6:1$/m);
  assert.match(outcome.stdout, /fail\.test\.ts:8:10\)$/m);
});

test('a workflow file named as a test is refused before anything runs', async () => {
  const outcome = await autoflow(['test', 'hello.ts', 'fail.test.ts'], { cwd: dir });
  assert.equal(outcome.code, 1);
  assert.equal(
    outcome.stderr,
    'error: hello.ts is not a test file (*.test.ts); tests live in *.test.ts files beside the workflows: name those, or the folders that hold them\n',
  );
  assert.equal(outcome.stdout, '', 'no test ran, no summary');
  assert.equal(existsSync(join(dir, 'ran')), false, 'the workflow file was not run');
});

test('findTestFiles names every file that is not a test file', () => {
  assert.throws(
    () => findTestFiles([join(dir, 'hello.ts'), join(dir, 'fail.test.ts'), join(dir, 'other.mjs')]),
    (error: unknown) => error instanceof NotATestFileError && error.files.length === 1,
  );
  writeFileSync(join(dir, 'other.mjs'), '');
  assert.throws(
    () => findTestFiles([join(dir, 'hello.ts'), join(dir, 'other.mjs')]),
    /^NotATestFileError: .*hello\.ts, .*other\.mjs are not test files/,
  );
  assert.deepEqual(findTestFiles([dir]), [join(dir, 'fail.test.ts')], 'a folder is searched for test files only');
});

test("a plain folder's tests import autoflow/testing (loaded as CommonJS) and name a missing workflow file plainly", async () => {
  const plain = mkdtempSync(join(dir, 'plain-'));
  writeFileSync(join(plain, 'greet.ts'), `import { workflow } from 'autoflow';\nexport default workflow({ name: 'greet', async run() { return 'hi'; } });\n`);
  const testFile = (workflowPath: string) => `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestEnv } from 'autoflow/testing';

test('greets', async () => {
  const env = await createTestEnv({ workflows: [${workflowPath}] });
  try {
    assert.equal((await env.result(await env.start('greet'))).result, 'hi');
  } finally {
    await env.close();
  }
});
`;
  writeFileSync(join(plain, 'greet.test.ts'), testFile(`new URL('./greet.ts', import.meta.url)`));
  const passed = await autoflow(['test', plain], { cwd: dir });
  assert.equal(passed.code, 0, passed.stdout + passed.stderr);
  assert.match(passed.stdout, /1 passed, 0 failed/);

  writeFileSync(join(plain, 'greet.test.ts'), testFile(`'./greet.ts'`));
  const failed = await autoflow(['test', plain], { cwd: dir });
  assert.equal(failed.code, 1);
  assert.ok(
    failed.stdout.includes(`no workflow file at ${join(dir, 'greet.ts')}: a relative path is taken from the current directory (${dir})`),
    failed.stdout,
  );
});
