import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HttpSession, startUiServer, type UiServer } from '../helpers/ui-server.js';

/** Two servers on one database, as behind a load balancer: signing out on one ends the session on both. */
const dir = mkdtempSync(join(tmpdir(), 'autoflow-sessions-'));
const servers: UiServer[] = [];
after(async () => {
  for (const server of servers) await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a session signed out on one server is refused by the other', async () => {
  const db = { kind: 'sqlite' as const, path: join(dir, 'shared.db') };
  const first = await startUiServer(undefined, { db });
  servers.push(first);
  const second = await startUiServer(undefined, { db });
  servers.push(second);

  const carol = new HttpSession(first.url);
  await carol.signIn('carol');
  const cookie = carol.cookies.get('af_session');
  assert.ok(cookie);
  const elsewhere = new HttpSession(second.url);
  elsewhere.cookies.set('af_session', cookie);
  assert.equal((await elsewhere.request('/tasks')).status, 200, 'the servers share the session secret, so either one serves the session');

  assert.equal((await carol.post('/auth/logout', { _csrf: await carol.csrfOf('/tasks') })).status, 302);
  assert.equal((await elsewhere.request('/tasks')).status, 302, 'the other server sends the old cookie to sign in');
});
