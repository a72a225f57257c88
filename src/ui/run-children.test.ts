import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startUiServer, type UiServer } from '../../test/helpers/ui-server.js';

/** A release train: one child run per service, of which one deploys, one fails and one waits for a go. */
const WORKFLOWS = {
  'deploy.ts': `import { signal, workflow } from 'autoflow';
export default workflow({
  name: 'deploy',
  async run(input: { service: string; outcome: 'ok' | 'fail' | 'wait' }) {
    if (input.outcome === 'fail') throw new Error(input.service + ' refused the deploy');
    if (input.outcome === 'wait') await signal('go', { timeout: '1d' });
    return { deployed: input.service };
  },
});`,
  'release.ts': `import { startChild, workflow } from 'autoflow';
export default workflow({
  name: 'release',
  async run() {
    const api = await startChild('deploy', { service: 'api', outcome: 'ok' }, { id: 'rel1-api' });
    const web = await startChild('deploy', { service: 'web', outcome: 'fail' }, { id: 'rel1-web' });
    const db = await startChild('deploy', { service: 'db', outcome: 'wait' }, { id: 'rel1-db' });
    await Promise.allSettled([api.result(), web.result()]);
    return db.result();
  },
});`,
};

let server: UiServer;
before(async () => {
  server = await startUiServer(WORKFLOWS);
});
after(() => server?.close());

test("a cancelled parent's page tells which of its children completed, failed or were cancelled with it", async () => {
  const operations = server.runtime.operations;
  await operations.startRun({ workflow: 'release', id: 'rel1' });
  for (const id of ['rel1-api', 'rel1-web']) await operations.waitForRun(id, 20_000);
  await operations.cancelRun('rel1', 'abort the release');
  assert.equal((await operations.waitForRun('rel1', 20_000)).status, 'cancelled');
  assert.equal((await operations.waitForRun('rel1-db', 20_000)).status, 'cancelled');

  const html = await (await (await server.signedIn('alice')).request('/runs/rel1')).text();
  const listed = [...html.matchAll(/<li data-run="([^"]+)">.*?<span class="badge s-(\w+)">/g)].map((match) => [match[1], match[2]]);
  assert.deepEqual(listed.sort(), [
    ['rel1-api', 'completed'],
    ['rel1-db', 'cancelled'],
    ['rel1-web', 'failed'],
  ]);
  const bar = (childId: string) => new RegExp(`data-state="(\\w+)"[^>]*><title>child ${childId} \\(deploy\\)`).exec(html)?.[1];
  assert.deepEqual(['rel1-api', 'rel1-web', 'rel1-db'].map(bar), ['done', 'error', 'cancelled']);
  assert.match(html, /child #\d+ rel1-api completed/, 'the history names the child that completed');
});
