import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startUiServer, type UiServer } from '../../test/helpers/ui-server.js';
import { endedRun } from '../store/conformance/fixtures.js';

const HOUR = 3_600_000;
let server: UiServer;

before(async () => {
  server = await startUiServer({});
});
after(() => server?.close());

test('the overview lists the latest failures first, by when they failed, and shows when', async () => {
  const now = Date.now();
  await endedRun(server.runtime.store, 'failed-just-now', now - 72 * HOUR, now - 60_000);
  await endedRun(server.runtime.store, 'failed-2h-ago', now - 3 * HOUR, now - 2 * HOUR);
  const html = await (await (await server.signedIn('alice')).request('/')).text();
  const failures = html.slice(html.indexOf('Recent failures'));
  assert.match(failures, /<th>Status<\/th>\s*<th>Failed<\/th>\s*<th>Started<\/th>/);
  const rows = [...failures.matchAll(/<tr data-run="([^"]+)">/g)].map((match) => match[1]);
  assert.deepEqual(rows, ['failed-just-now', 'failed-2h-ago']);
  const failedAt = new Date(now - 60_000).toISOString();
  assert.match(failures, new RegExp(`data-label="Failed"><time datetime="${failedAt}">`));
});
