import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createTestEnv } from '../../src/testing/index.js';
import { autoflow } from '../helpers/cli-process.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/**
 * Retiring a patch, checked as docs/engine.md tells authors to check it: a run recorded by the
 * version with `patched('fix')`, written as `autoflow export` writes it, replayed with
 * `autoflow replay` against the versions that follow.
 */
const source = (body: string) => `import { activities, deprecatePatch, patched, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'ver',
  permissions: { activities: ['record'] },
  async run() {
    await activities.record('a');
    await sleep('3s');
${body}
    return 'done';
  },
});
`;
const folder = workflowFolder({
  'patched.ts': source("    if (patched('fix')) await activities.record('fixed');\n    else await activities.record('old');"),
  'deprecated.ts': source("    deprecatePatch('fix');\n    await activities.record('fixed');"),
  'removed.ts': source("    await activities.record('fixed');"),
  'moved.ts': source("    await activities.record('fixed');\n    if (patched('fix')) await activities.record('again');"),
});

before(async () => {
  const env = await createTestEnv({
    workflows: [folder.path('patched.ts')],
    activities: { record: (args) => Promise.resolve(args) },
  });
  try {
    const runId = await env.start('ver', null, 'run-1');
    const run = await env.result(runId);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    const history = await env.history(runId);
    assert.ok(history.some((event) => event.type === 'patch_marker'));
    writeFileSync(folder.path('run-1.json'), JSON.stringify({ run: { id: runId, workflow: 'ver' }, history }));
  } finally {
    await env.close();
  }
});
after(() => folder.remove());

describe('autoflow replay of a run that recorded a patch marker', () => {
  test('replays against deprecatePatch() and against code without the call', async () => {
    for (const file of ['deprecated.ts', 'removed.ts']) {
      const outcome = await autoflow(['replay', 'run-1.json', '--workflow', file], { cwd: folder.dir });
      assert.equal(outcome.code, 0, `${file}: ${outcome.stdout}${outcome.stderr}`);
      assert.equal(outcome.stdout, '✓ run-1 (ver): 4 workflow tasks replayed\n');
    }
  });

  test('code that still asks patched(), in another task, is reported where it asks', async () => {
    const outcome = await autoflow(['replay', 'run-1.json', '--workflow', 'moved.ts'], { cwd: folder.dir });
    assert.equal(outcome.code, 1);
    // The marker's line has its call site once the SDK's patch command carries one.
    assert.match(
      outcome.stdout,
      /^✗ run-1 \(ver\): diverges in workflow task 4\n {4}history has {3}completion of the run\n {4}code now does patched\('fix'\)( at moved\.ts:9:9)?\n$/,
    );
    assert.match(outcome.stderr, /^error: 1 of 1 run did not replay against the code$/m);
  });
});
