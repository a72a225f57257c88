import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { autoflow } from '../../../test/helpers/cli-process.js';
import { autoflowDependency } from './init.js';

test('a repository created by an AutoFlow installed from a registry depends on that version', () => {
  assert.deepEqual(autoflowDependency('/srv/tools/node_modules/autoflow/', '/home/ada/flows', '1.4.2'), { spec: '^1.4.2', local: false });
});

test('a repository created from a checkout of AutoFlow depends on the checkout by its relative path', () => {
  assert.deepEqual(autoflowDependency('/home/ada/src/autoflow/', '/home/ada/flows', '0.1.0'), {
    spec: 'file:../src/autoflow',
    local: true,
  });
  assert.deepEqual(autoflowDependency('/home/ada/autoflow/', '/home/ada/autoflow', '0.1.0'), { spec: 'file:.', local: true });
});

test("the CI job's tests write the JUnit report it declares, which GitLab shows in the merge request", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-init-ci-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal((await autoflow(['init'], { cwd: dir })).code, 0);
  const job = (parse(readFileSync(join(dir, '.gitlab-ci.yml'), 'utf8')) as Record<string, CiJob>).workflows;
  const report = job?.artifacts?.reports?.junit;
  assert.equal(typeof report, 'string', 'artifacts: reports: junit: names the report');
  assert.equal(job?.artifacts?.when, 'always', 'a report of failed tests is uploaded too');
  // The job's own command line, as CI runs it (npx aside).
  const line = job?.script.find((command) => command.startsWith('npx autoflow test'));
  assert.ok(line !== undefined, 'the job runs autoflow test');
  const tested = await autoflow(line.split(' ').slice(2), { cwd: dir });
  assert.equal(tested.code, 0, tested.stdout + tested.stderr);
  assert.match(tested.stdout, /✔ hello returns the reply it was sent/, 'the terminal keeps the spec report');
  const junit = readFileSync(join(dir, report as string), 'utf8');
  assert.match(junit, /^<\?xml .*\?>\n<testsuites>/);
  assert.match(junit, /<testcase name="hello returns the reply it was sent" /);
});

interface CiJob {
  script: string[];
  artifacts?: { when?: string; reports?: { junit?: unknown } };
}

test("the template's test of a workflow that does not deploy reports why, and only that", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-init-broken-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal((await autoflow(['init'], { cwd: dir })).code, 0);
  // A declaration the deploy refuses: createTestEnv fails in before(), so env is never set.
  writeFileSync(
    join(dir, 'workflows', 'hello.ts'),
    "import { workflow } from 'autoflow';\nexport default workflow({ name: 'Hello World!', async run() {} });\n",
  );
  const tested = await autoflow(['test'], { cwd: dir });
  const report = tested.stdout + tested.stderr;
  assert.notEqual(tested.code, 0, report);
  assert.match(report, /DefinitionError/);
  assert.doesNotMatch(report, /TypeError/, 'no error of the test file itself hides the one that matters');
});
