/**
 * `uiUsers` limits who may use the web UI to named GitLab users and the members of groups, read from GitLab (here
 * the built-in simulator) with the server's token at each sign-in. Someone else is refused with a page that says
 * who may, and gets no session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpSession, startUiServer, type UiServer } from '../helpers/ui-server.js';

describe('who may use the web UI (uiUsers)', () => {
  let server: UiServer;

  before(async () => {
    server = await startUiServer(undefined, { uiUsers: ['@Dave', 'group:demo'] });
    // Two people with GitLab accounts outside the demo group.
    server.gitlab.simulator.seed({
      users: [
        { username: 'dave', name: 'Dave' },
        { username: 'erin', name: 'Erin' },
      ],
    });
  });
  after(() => server?.close());

  test('a member of a listed group and a listed user sign in; anyone else is refused, told who may, with no session', async () => {
    for (const username of ['alice', 'carol', 'dave']) {
      const session = new HttpSession(server.url);
      await session.signIn(username);
      assert.equal((await session.request('/runs')).status, 200, `${username} may use the UI`);
    }
    const erin = new HttpSession(server.url);
    const refused = await erin.attemptSignIn('erin');
    assert.equal(refused.status, 403);
    const html = await refused.text();
    assert.match(
      html,
      /@erin may not use this AutoFlow: it lets in @dave, the members of demo\. Whoever runs the server can add you to uiUsers/,
    );
    assert.equal(erin.cookies.has('af_session'), false);
    assert.equal((await erin.request('/runs')).status, 302, 'no session: the page sends her to sign in');
  });

  test('leaving the group closes the door at the next sign-in', async () => {
    const { simulator, apiAccess } = server.gitlab;
    const carol = simulator.state.requireUser('carol');
    const removed = await simulator.fetch(`${apiAccess.baseUrl}/api/v4/groups/demo/members/${carol.id}`, {
      method: 'DELETE',
      headers: { 'private-token': apiAccess.token },
    });
    assert.equal(removed.status, 204);
    const refused = await new HttpSession(server.url).attemptSignIn('carol');
    assert.equal(refused.status, 403);
  });
});
