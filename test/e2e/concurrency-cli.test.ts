import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { autoflow } from '../helpers/cli-process.js';
import { startServerIn, type ServerProcess } from '../helpers/server-process.js';
import { workflowFolder } from '../helpers/workflow-files.js';

/**
 * What the CLI says of concurrency groups, through a real `autoflow server` on SQLite: `run` of a run that has to wait,
 * and `show` of a queued run, naming the runs that hold its group's slot and whether they are on their way out.
 */
const TOKEN = 'concurrency-cli-token';
const folder = workflowFolder({
  'preview.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({
  name: 'preview',
  concurrency: { key: 'mr', cancelInProgress: true },
  async run(input: { mr: number }) {
    try {
      await sleep('7d');
    } finally {
      // A long cleanup: the newer run waits for it.
      await sleep('1h');
    }
  },
});`,
  'deploy.ts': `import { sleep, workflow } from 'autoflow';
export default workflow({
  name: 'deploy',
  concurrency: { key: 'environment' },
  async run(input: { environment: string }) {
    await sleep('7d');
  },
});`,
});
let server: ServerProcess;
const cli = (args: string[]) => autoflow(args, { cwd: folder.dir, env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: TOKEN } });

before(async () => {
  server = await startServerIn(folder.dir, TOKEN);
});
after(async () => {
  await server?.stop();
  folder.remove();
});

test('a queued run: run says why it waits, show names the runs that hold the slot', async () => {
  assert.equal((await cli(['run', 'deploy', '--input', '{"environment":"prod"}', '--id', 'd1'])).code, 0);
  const second = await cli(['run', 'deploy', '--input', '{"environment":"prod"}', '--id', 'd2']);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout.trim(), 'd2');
  assert.match(
    second.stderr,
    /run d2 is queued: the runs of its concurrency group 'deploy:prod' hold its 1 slot\(s\); it starts when one of them ends/,
  );
  const shown = await cli(['show', 'd2']);
  assert.match(shown.stdout, /concurrency +deploy:prod \(limit 1; queued: it starts when a run holding a slot of the group ends\)/);
  assert.match(shown.stdout, /held by +d1 \(deploy, running\)/);
});

test('with cancelInProgress, run says the older runs are asked to cancel, and show marks them cancelling', async () => {
  assert.equal((await cli(['run', 'preview', '--input', '{"mr":7}', '--id', 'p1'])).code, 0);
  const newer = await cli(['run', 'preview', '--input', '{"mr":7}', '--id', 'p2']);
  assert.equal(newer.code, 0, newer.stderr);
  assert.match(
    newer.stderr,
    /run p2 is queued: older runs of its concurrency group 'preview:7' are asked to cancel \(cancelInProgress\); it starts once they have ended/,
  );
  const shown = await cli(['show', 'p2']);
  assert.match(
    shown.stdout,
    /concurrency +preview:7 \(limit 1; cancelInProgress: a newer run of the group cancels it; queued: it starts when a run holding a slot of the group ends\)/,
  );
  assert.match(shown.stdout, /held by +p1 \(preview, running, cancelling\)/);
});
