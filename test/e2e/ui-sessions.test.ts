import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { testOnPostgres } from '../helpers/postgres.js';
import { HttpSession, startUiServer, type UiServer } from '../helpers/ui-server.js';

/** Two servers on one PostgreSQL database with one session secret, as behind a load balancer: signing out on one ends the session on both. */
await testOnPostgres('a session signed out on one server is refused by the other', async (url) => {
  const options = { db: { kind: 'postgres' as const, url }, sessionSecret: randomBytes(32).toString('hex') };
  const servers: UiServer[] = [];
  try {
    const first = await startUiServer(undefined, options);
    servers.push(first);
    const second = await startUiServer(undefined, options);
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
  } finally {
    for (const server of servers) await server.close();
  }
});
