import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { autoflow } from '../helpers/cli-process.js';
import { ServerProcess, freePort } from '../helpers/server-process.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/**
 * The replay check of docs/testing.md, end to end: a run on a real `autoflow server`, exported
 * with `autoflow export`, replayed with `autoflow replay` against the code it ran and against a
 * change that would strand it.
 */
const APPROVAL = `import { log, signal, workflow } from 'autoflow';
export default workflow({
  name: 'approval',
  async run(input: { change: string }) {
    const answer = await signal<{ by: string }>('approve', { timeout: '1h' });
    log.info('answered');
    return { change: input.change, by: answer?.by ?? null };
  },
});
`;
const TOKEN = 'export-replay-token';
const deployed = workflowFolder({ 'approval.ts': APPROVAL });
const changed = workflowFolder({
  'approval.ts': APPROVAL.replace('import { log, signal, workflow }', 'import { log, signal, sleep, workflow }').replace(
    '    const answer',
    "    await sleep('1m');\n    const answer",
  ),
});
let server: ServerProcess;
let env: Record<string, string>;

before(async () => {
  server = new ServerProcess({
    port: await freePort(),
    db: `sqlite:${join(deployed.dir, 'autoflow.db')}`,
    workflowsDir: deployed.dir,
    token: TOKEN,
  });
  await server.start();
  env = { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: TOKEN };
  const started = await server.api('/api/v1/runs', {
    method: 'POST',
    body: JSON.stringify({ workflow: 'approval', input: { change: 'v2' }, id: 'run-1' }),
  });
  assert.equal(started.status, 201);
  const signalled = await autoflow(['signal', 'run-1', 'approve', '--data', '{"by":"alice"}'], { cwd: deployed.dir, env });
  assert.equal(signalled.code, 0, signalled.stderr);
  const run = (await (await server.api('/api/v1/runs/run-1?wait=20')).json()) as { status: string };
  assert.equal(run.status, 'completed');
});
after(async () => {
  await server?.stop();
  deployed.remove();
  changed.remove();
});

describe('autoflow export + autoflow replay against a real server', () => {
  test('export writes { run, history }; to a file, or to standard output', async () => {
    const written = await autoflow(['export', 'run-1', '--out', 'run-1.json'], { cwd: deployed.dir, env });
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stderr, /^run run-1 \(approval, completed, \d+ history events\) written to run-1\.json$/m);
    const file = JSON.parse(readFileSync(join(deployed.dir, 'run-1.json'), 'utf8')) as {
      run: { id: string; result: unknown };
      history: Array<{ type: string }>;
    };
    assert.equal(file.run.id, 'run-1');
    assert.deepEqual(file.run.result, { change: 'v2', by: 'alice' });
    assert.equal(file.history[0]?.type, 'run_started');
    assert.equal(file.history.at(-1)?.type, 'run_completed');

    const printed = await autoflow(['export', 'run-1'], { cwd: deployed.dir, env });
    assert.deepEqual(JSON.parse(printed.stdout), file);

    const missing = await autoflow(['export', 'no-such-run'], { cwd: deployed.dir, env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /run 'no-such-run' does not exist/);
  });

  test('replay: the deployed code replays clean; a sleep inserted before the wait is reported precisely', async () => {
    const clean = await autoflow(['replay', 'run-1.json', '--workflow', deployed.dir], { cwd: deployed.dir, env });
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.equal(clean.stdout, '✓ run-1 (approval): 2 workflow tasks replayed\n');

    const diverged = await autoflow(['replay', 'run-1.json', '--workflow', join(changed.dir, 'approval.ts')], { cwd: deployed.dir, env });
    assert.equal(diverged.code, 1);
    // The timer's time is the run's start (real time on a real server) plus the inserted minute.
    const lines = diverged.stdout.split('\n');
    assert.deepEqual(lines.slice(0, 2), [
      '✗ run-1 (approval): diverges in workflow task 1, step 1',
      '    history has   wait for autoflow.signal.approve (step 1) at approval.ts:5:26',
    ]);
    assert.match(lines[2] ?? '', /^    code now does timer until \d{4}-\d\d-\d\dT[\d:.]+Z \(step 1\) at approval\.ts:5:11$/);
    assert.equal(lines.length, 4);
    assert.match(diverged.stderr, /^error: 1 of 1 run did not replay against the code$/m);
  });

  test('replay against a folder needs only the workflows the histories name; a file that does not build matters only then', async () => {
    const other = APPROVAL.replace("name: 'approval'", "name: 'other'");
    const mixed = workflowFolder({ 'approval.ts': APPROVAL, 'broken.ts': 'export default {' });
    const missing = workflowFolder({ 'other.ts': other, 'broken.ts': 'export default {' });
    try {
      const clean = await autoflow(['replay', 'run-1.json', '--workflow', mixed.dir], { cwd: deployed.dir, env });
      assert.equal(clean.code, 0, clean.stdout + clean.stderr);
      assert.equal(clean.stdout, '✓ run-1 (approval): 2 workflow tasks replayed\n');

      const notThere = await autoflow(['replay', 'run-1.json', '--workflow', missing.dir], { cwd: deployed.dir, env });
      assert.equal(notThere.code, 1);
      assert.match(
        notThere.stdout,
        /^✗ run-1\.json: a run of workflow 'approval', but \S+ defines 'other'\n {4}\S+broken\.ts did not build: /,
      );
      assert.match(notThere.stderr, /^error: 1 of 1 run did not replay against the code$/m);
    } finally {
      mixed.remove();
      missing.remove();
    }
  });
});
