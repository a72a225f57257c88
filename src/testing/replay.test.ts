import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ValidationError } from '../core/errors.js';
import type { HistoryEvent } from '../core/model.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createReplayer, createTestEnv, replay } from './index.js';

const ORIGINAL = `import { http, log, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'deploy',
  permissions: { http: ['https://ci.example.com/'] },
  async run() {
    await http.request({ url: 'https://ci.example.com/build', method: 'POST' });
    await sleep('1h');
    await http.request({ url: 'https://ci.example.com/deploy', method: 'POST' });
    return 'done';
  },
});
`;

/** ORIGINAL with `from` replaced by `to`; fails if `from` is not there, so a typo cannot make a test pass. */
function edit(from: string, to: string): string {
  assert.ok(ORIGINAL.includes(from), `ORIGINAL has no ${JSON.stringify(from)}`);
  return ORIGINAL.replace(from, to);
}

const folder = workflowFolder({ 'deploy.ts': ORIGINAL });
let history: HistoryEvent[];
let runId: string;

before(async () => {
  const env = await createTestEnv({
    workflows: [folder.path('deploy.ts')],
    mocks: { http: () => ({ status: 200, headers: {}, body: 'ok' }) },
  });
  try {
    runId = await env.start('deploy');
    assert.equal((await env.result(runId)).status, 'completed');
    history = await env.history(runId);
  } finally {
    await env.close();
  }
});
after(() => folder.remove());

describe('replay', () => {
  test('the code that recorded the history replays it clean', async () => {
    assert.deepEqual(await replay({ history, workflow: folder.path('deploy.ts'), runId }), {
      ok: true,
      runId,
      workflow: 'deploy',
      tasks: 4,
    });
  });

  test('an added log line is not a change of behaviour: it replays clean', async () => {
    const file = folder.write(
      'logged.ts',
      edit("    await sleep('1h');\n", "    log.info('built; deploying in an hour');\n    await sleep('1h');\n"),
    );
    const report = await replay({ history, workflow: file, runId });
    assert.equal(report.ok, true);
  });

  test('two calls swapped: the report names the task, the step, both commands and both call sites', async () => {
    const file = folder.write(
      'swapped.ts',
      edit(
        "    await sleep('1h');\n    await http.request({ url: 'https://ci.example.com/deploy', method: 'POST' });\n",
        "    await http.request({ url: 'https://ci.example.com/deploy', method: 'POST' });\n    await sleep('1h');\n",
      ),
    );
    const report = await replay({ history, workflow: file, runId });
    assert.equal(report.ok, false);
    if (report.ok) return;
    const { message, ...divergence } = report.divergence;
    assert.deepEqual(divergence, {
      task: 2,
      step: 2,
      expected: 'timer until 2026-01-05T10:00:00.000Z (step 2) at deploy.ts:7:11',
      got: 'call http.request (step 2) at swapped.ts:7:16',
      sites: { expected: 'deploy.ts:7:11', got: 'swapped.ts:7:16' },
    });
    assert.match(
      message,
      new RegExp(`^Nondeterminism in workflow task 2 of run ${runId} \\(workflow deploy\\): .* guard the change with patched`),
    );
  });

  test('a sleep inserted before the first call diverges in the first task', async () => {
    const file = folder.write('slower.ts', edit('  async run() {\n', "  async run() {\n    await sleep('5m');\n"));
    const report = await replay({ history, workflow: file, runId });
    assert.equal(report.ok, false);
    if (report.ok) return;
    assert.deepEqual(
      [report.divergence.task, report.divergence.step, report.divergence.sites],
      [1, 1, { expected: 'deploy.ts:6:16', got: 'slower.ts:6:11' }],
    );
    assert.equal(report.divergence.expected, 'call http.request (step 1) at deploy.ts:6:16');
    assert.equal(report.divergence.got, 'timer until 2026-01-05T09:05:00.000Z (step 1) at slower.ts:6:11');
  });

  test('a removed call: history has it, the code no longer issues it', async () => {
    const file = folder.write(
      'shorter.ts',
      edit("    await http.request({ url: 'https://ci.example.com/deploy', method: 'POST' });\n", ''),
    );
    const report = await replay({ history, workflow: file, runId });
    assert.ok(!report.ok);
    assert.deepEqual([report.divergence.task, report.divergence.step, report.divergence.got], [3, 3, 'completion of the run']);
    assert.equal(report.divergence.expected, 'call http.request (step 3) at deploy.ts:8:16');
  });

  test('a failed run replays up to the task that failed it: the fix of what failed it is no divergence, as for a retry', async () => {
    const env = await createTestEnv({
      workflows: [folder.path('deploy.ts')],
      mocks: {
        http: (_method, args) => ({ status: String((args as { url: string }).url).endsWith('/deploy') ? 404 : 200, headers: {}, body: '' }),
      },
    });
    let failed: HistoryEvent[];
    try {
      const id = await env.start('deploy', null, 'failed-deploy');
      assert.equal((await env.result(id)).status, 'failed');
      failed = await env.history(id);
    } finally {
      await env.close();
    }
    const deploy = "    await http.request({ url: 'https://ci.example.com/deploy', method: 'POST' });\n";
    const fixed = folder.write(
      'fixed.ts',
      edit(
        deploy,
        `    try {\n${deploy}    } catch {\n      await http.request({ url: 'https://ci.example.com/rollback', method: 'POST' });\n    }\n`,
      ),
    );
    assert.deepEqual(await replay({ history: failed, workflow: fixed, runId: 'failed-deploy' }), {
      ok: true,
      runId: 'failed-deploy',
      workflow: 'deploy',
      tasks: 3,
      failedTaskLeftOut: true,
    });
    // What came before the failing task still counts.
    const reordered = folder.write('reordered.ts', edit("    await sleep('1h');\n", ''));
    const report = await replay({ history: failed, workflow: reordered, runId: 'failed-deploy' });
    assert.equal(report.ok, false);
  });

  test('a replayer takes exported runs ({ run, history }) and refuses a history of another workflow', async () => {
    const replayer = await createReplayer([folder.path('deploy.ts')]);
    assert.deepEqual(replayer.workflows, ['deploy']);
    const exported = { run: { id: runId, workflow: 'deploy' } as never, history };
    assert.deepEqual(await replayer.replay(exported), { ok: true, runId, workflow: 'deploy', tasks: 4 });
    const other = history.map((event) => (event.type === 'run_started' ? { ...event, workflow: 'release' } : event));
    await assert.rejects(replayer.replay(other, 'r-1'), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.equal(error.message, "run r-1 is a run of workflow 'release', but the files given define 'deploy'");
      return true;
    });
  });
});
