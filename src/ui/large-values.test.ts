/** A run page shows at most 64 KiB of a run's input or result, saying where the whole value is. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startUiServer, type UiServer } from '../../test/helpers/ui-server.js';

let server: UiServer;
before(async () => {
  server = await startUiServer({
    'echo.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'echo',
  async run(input: { fail?: string }) {
    if (input.fail) throw new Error(input.fail);
    return input;
  },
});`,
  });
});
after(() => server?.close());

test('a megabyte input and result are cut on the run page, which names the command that prints them whole', async () => {
  const ops = server.runtime.operations;
  const input = { log: 'x'.repeat(1024 * 1024) };
  const { run } = await ops.startRun({ workflow: 'echo', input, id: 'big-1' });
  assert.equal((await ops.waitForRun(run.id, 10_000)).status, 'completed');
  const alice = await server.signedIn('alice');
  const page = await (await alice.request('/runs/big-1')).text();
  assert.ok(page.length < 400 * 1024, `the page is ${page.length} characters`);
  assert.equal(page.match(/more characters cut\)/g)?.length, 2, 'input and result are both cut');
  assert.match(page, /The whole value: autoflow show big-1 --json, or GET \/api\/v1\/runs\/big-1/);
  assert.deepEqual((await ops.getRun('big-1')).result, input, 'the run keeps it whole');
});

test("a run's long error is cut wherever the page shows it", async () => {
  const ops = server.runtime.operations;
  const { run } = await ops.startRun({ workflow: 'echo', input: { fail: 'E'.repeat(200_000) }, id: 'big-error' });
  assert.equal((await ops.waitForRun(run.id, 10_000)).status, 'failed');
  const alice = await server.signedIn('alice');
  const page = await (await alice.request('/runs/big-error')).text();
  assert.ok(page.length < 100 * 1024, `the page is ${page.length} characters`);
  assert.equal((await ops.getRun('big-error')).error?.message.length, 200_000, 'the run keeps it whole');
});
