import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { adminQuery, postgresUnreachable, TEST_POSTGRES_URL, urlInSchema } from '../helpers/postgres.js';
import { HttpSession, startUiServer, type UiServer } from '../helpers/ui-server.js';

/**
 * Two servers on one PostgreSQL database with one session secret, as behind a load balancer: signing out on one
 * ends the session on both. Unreachable server: skipped locally, a failure in CI.
 */
const reason = await postgresUnreachable();
const schema = `af_sessions_${randomBytes(6).toString('hex')}`;
const servers: UiServer[] = [];

if (reason !== undefined && process.env.CI === 'true') {
  test('sessions shared by two servers (CI must run it)', () =>
    assert.fail(`PostgreSQL not reachable at ${TEST_POSTGRES_URL} (${reason})`));
} else {
  after(async () => {
    for (const server of servers) await server.close();
    if (reason === undefined) await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });

  test(
    'a session signed out on one server is refused by the other',
    { skip: reason && `PostgreSQL not reachable (${reason})` },
    async () => {
      await adminQuery(`CREATE SCHEMA ${schema}`);
      const options = { db: { kind: 'postgres' as const, url: urlInSchema(schema) }, sessionSecret: randomBytes(32).toString('hex') };
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
      assert.equal(
        (await elsewhere.request('/tasks')).status,
        200,
        'the servers share the session secret, so either one serves the session',
      );

      assert.equal((await carol.post('/auth/logout', { _csrf: await carol.csrfOf('/tasks') })).status, 302);
      assert.equal((await elsewhere.request('/tasks')).status, 302, 'the other server sends the old cookie to sign in');
    },
  );
}
