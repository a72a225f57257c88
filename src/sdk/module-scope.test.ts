/**
 * At module scope — while the workflow bundle is evaluated, before any run — there is no task time and no run's
 * seed: `new Date()` was 1970-01-01 and `Math.random()` the same for every run, silently. They throw there now,
 * saying to call them inside `run`; with arguments, `new Date(…)` is deterministic and stays allowed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkWorkflowDirectory } from '../app/deploy.js';
import { createTestEnv } from '../testing/test-env.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-module-scope-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function workflowAt(name: string, moduleScope: string, run = 'return null;'): string {
  const path = join(dir, `${name}.ts`);
  writeFileSync(
    path,
    `import { workflow } from 'autoflow';\n${moduleScope}\nexport default workflow({ name: '${name}', async run() { ${run} } });\n`,
  );
  return path;
}

test('Date.now(), new Date(), Date() and Math.random() at module scope fail the workflow, saying to call them in run', async () => {
  const cases: Array<[name: string, code: string, api: string]> = [
    ['date-now', 'export const started = Date.now();', 'Date.now()'],
    ['new-date', 'export const started = new Date();', 'new Date()'],
    ['date-call', 'export const started = Date();', 'Date()'],
    ['random', 'export const pick = Math.random();', 'Math.random()'],
  ];
  for (const [name, code, api] of cases) {
    const [result] = await checkWorkflowDirectory(workflowAt(name, code));
    assert.match(
      result?.error ?? 'no error',
      new RegExp(
        `NondeterministicApiError: ${api.replace(/[().]/g, '\\$&')} at module scope has no run's time or seed: call it inside run\\(\\)`,
      ),
      name,
    );
  }
});

test('inside run they are the task time and the run seeded; a date built from arguments is fine at module scope', async () => {
  const file = workflowAt(
    'in-run',
    "const epoch = new Date('2026-01-01T00:00:00Z');",
    'return { elapsed: Date.now() - epoch.getTime(), now: new Date().toISOString(), random: typeof Math.random() };',
  );
  const env = await createTestEnv({ workflows: [file], now: new Date('2026-01-02T00:00:00Z') });
  try {
    const run = await env.result(await env.start('in-run'));
    assert.deepEqual(run.result, { elapsed: 86_400_000, now: '2026-01-02T00:00:00.000Z', random: 'number' });
  } finally {
    await env.close();
  }
});
