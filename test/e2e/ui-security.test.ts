import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { HttpSession, startUiServer, type UiServer } from '../helpers/ui-server.js';

/** The web UI's defences at the HTTP level: sign-in, permissions, CSRF, replay, escaping. */
describe('web UI security', () => {
  let server: UiServer;
  let alice: HttpSession;
  let carol: HttpSession;

  before(async () => {
    server = await startUiServer();
    alice = await server.signedIn('alice');
    carol = await server.signedIn('carol');
  });
  after(() => server?.close());

  const ops = () => server.runtime.operations;
  async function openForm(assignees = ['alice']) {
    const { run } = await ops().startRun({ workflow: 'ui-form', input: { assignees } });
    return { run, task: await server.firstTaskOf(run.id) };
  }
  const valid = { summary: 'ok', impact: '1', severity: 'low' };

  test('pages need a signed-in user: a page redirects to sign-in, a post is refused, the API still wants its token', async () => {
    const anonymous = new HttpSession(server.url);
    const page = await anonymous.request('/runs');
    assert.equal(page.status, 302);
    assert.equal(page.headers.get('location'), '/auth/login?next=%2Fruns');
    assert.equal((await anonymous.post('/runs/x/cancel', { _csrf: 'x' })).status, 401);
    assert.equal((await alice.request('/api/v1/runs')).status, 401, 'a session cookie is no API token');
  });

  test("a body over the limit is refused before it is read: a signed-out post to a page, and to the simulator's sign-in", async () => {
    const body = `typed=${'x'.repeat(2 * 1024 * 1024)}`;
    for (const path of ['/runs/x/cancel', '/simulator/gitlab/oauth/token']) {
      // A connection of its own (agent: false): the server closes it, unread body and all.
      const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const request = httpRequest(new URL(path, server.url), {
          method: 'POST',
          agent: false,
          headers: { origin: new URL(server.url).origin, 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length },
        });
        request.on('response', (answer) => {
          let text = '';
          answer.setEncoding('utf8');
          answer.on('data', (chunk: string) => (text += chunk));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 0, text }));
        });
        // The server may close before it took the whole body: the answer came first.
        request.on('error', reject);
        request.end(body);
      });
      assert.equal(response.status, 413, path);
      assert.doesNotMatch(response.text, /xxxx/, `${path} echoes nothing of the body`);
    }
  });

  test('a forged session cookie is ignored', async () => {
    const forger = new HttpSession(server.url);
    const forged = Buffer.from(JSON.stringify({ username: 'alice', name: 'A', csrf: 'x', expiresAt: Date.now() + 3600_000 })).toString('base64url');
    forger.cookies.set('af_session', `${forged}.AAAA`);
    assert.equal((await forger.request('/tasks')).status, 302);
  });

  test('the session cookie is HttpOnly and SameSite=Lax; pages forbid foreign scripts and framing; no secret appears in a page', async () => {
    const fresh = new HttpSession(server.url);
    const start = await fresh.request('/auth/login?go=1');
    assert.match(start.headers.getSetCookie().join('\n'), /af_oauth=.*HttpOnly.*SameSite=Lax/i);
    const application = server.gitlab.oauthApplication();
    assert.ok(application);
    const pages: Array<[HttpSession, string]> = [...['/', '/tasks', '/runs', '/workflows', '/events', '/runs/no-such-run'].map((path): [HttpSession, string] => [alice, path]), [fresh, '/auth/login']];
    for (const [session, path] of pages) {
      const response = await session.request(path);
      assert.match(response.headers.get('content-security-policy') ?? '', /script-src 'self';.*frame-ancestors 'none'/, path);
      assert.equal(response.headers.get('x-frame-options'), 'DENY', path);
      const html = await response.text();
      assert.ok(!html.includes(application.clientSecret), `${path} shows the OAuth client secret`);
    }
  });

  test('a non-assignee gets 403 and a clear message; nothing is recorded', async () => {
    const { task } = await openForm(['alice']);
    const csrf = await carol.csrfOf(task.path);
    const page = await (await carol.request(task.path)).text();
    assert.match(page, /only @alice may/);
    const response = await carol.post(task.path, { _csrf: csrf, ...valid });
    assert.equal(response.status, 403);
    assert.match(await response.text(), /alice|assignee|not allowed/i);
    assert.equal((await ops().getTask(task.id)).status, 'open');
  });

  test('a forged post is refused: no token, a wrong token, another site’s Origin, no Origin', async () => {
    const { task } = await openForm(['alice']);
    const csrf = await alice.csrfOf(task.path);
    const cases: Array<[string, Record<string, string>, Record<string, string>]> = [
      ['no token', valid, { origin: server.url }],
      ['wrong token', { ...valid, _csrf: 'A'.repeat(csrf.length) }, { origin: server.url }],
      ['carol’s token', { ...valid, _csrf: await carol.csrfOf('/tasks') }, { origin: server.url }],
      ['foreign origin', { ...valid, _csrf: csrf }, { origin: 'https://evil.example' }],
      ['no origin', { ...valid, _csrf: csrf }, {}],
    ];
    for (const [name, fields, headers] of cases) {
      const response = await alice.post(task.path, fields, headers);
      assert.equal(response.status, 403, name);
    }
    assert.equal((await ops().getTask(task.id)).status, 'open');
    const accepted = await alice.post(task.path, { ...valid, _csrf: csrf });
    assert.equal(accepted.status, 303, 'the same post with the token and Origin goes through');
  });

  test('a replayed post is refused: the second submission and a second decision get 409', async () => {
    const { run, task } = await openForm(['alice']);
    const csrf = await alice.csrfOf(task.path);
    assert.equal((await alice.post(task.path, { ...valid, _csrf: csrf })).status, 303);
    const replay = await alice.post(task.path, { ...valid, summary: 'changed', _csrf: csrf });
    assert.equal(replay.status, 409);
    const result = (await ops().waitForRun(run.id, 10_000)).result as { values: { summary: string } };
    assert.equal(result.values.summary, 'ok');

    const approval = (await ops().startRun({ workflow: 'ui-approval' })).run;
    const path = `${(await server.firstTaskOf(approval.id)).path}/decision`;
    assert.equal((await carol.post(path, { _csrf: await carol.csrfOf('/tasks'), decision: 'approve' })).status, 403, 'carol is no approver');
    assert.equal((await alice.post(path, { _csrf: csrf, decision: 'approve' })).status, 303);
    assert.equal((await alice.post(path, { _csrf: csrf, decision: 'reject' })).status, 409);
    assert.equal((await ops().waitForRun(approval.id, 10_000)).status, 'completed');
  });

  test('markup in a field value, a task description and an issue title is escaped', async () => {
    const { run, task } = await openForm(['alice']);
    const csrf = await alice.csrfOf(task.path);
    const description = await (await alice.request(task.path)).text();
    assert.ok(!description.includes('<script>window.__pwned'), 'description script escaped');
    assert.match(description, /&lt;script&gt;window.__pwned/);

    const payload = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
    const invalid = await alice.post(task.path, { _csrf: csrf, summary: payload, impact: 'NaN' });
    const echoed = await invalid.text();
    assert.equal(invalid.status, 400);
    assert.ok(!echoed.includes('<script>alert(1)'), 'the value echoed back into the form is escaped');
    assert.match(echoed, /value="&quot;&gt;&lt;script&gt;alert\(1\)/);

    assert.equal((await alice.post(task.path, { _csrf: csrf, summary: payload.slice(0, 40), impact: '2', severity: 'low', notes: payload })).status, 303);
    await ops().waitForRun(run.id, 10_000);
    for (const path of [task.path, `/runs/${run.id}`]) {
      const html = await (await alice.request(path)).text();
      assert.ok(!/<script>alert|<img src=x/.test(html), `${path} renders the value inert`);
    }

    server.gitlab.simulator.actions.createIssue('alice', 'demo/app', { title: '<img src=x onerror=alert(3)> title', description: '<script>alert(4)</script>' });
    await server.until(() => ops().listEvents({ type: 'com.gitlab.events.issue_created' }), (events) => events.length > 0);
    const events = await (await alice.request('/events')).text();
    assert.match(events, /&lt;img src=x onerror=alert\(3\)&gt; title/);
    assert.ok(!events.includes('<img src=x'));
  });

  test('sign-in refuses a callback without its flow cookie or with a wrong state, and an open redirect', async () => {
    const stranger = new HttpSession(server.url);
    const callback = await stranger.request('/auth/callback?code=abc&state=xyz');
    assert.equal(callback.status, 400);
    assert.ok(!stranger.cookies.has('af_session'));

    const victim = new HttpSession(server.url);
    const start = await victim.request('/auth/login?go=1&next=//evil.example/');
    const authorize = new URL(start.headers.get('location') ?? '');
    const form = new URLSearchParams(authorize.searchParams);
    form.set('username', 'bob');
    form.set('state', 'tampered');
    const granted = await victim.request(authorize.pathname, { method: 'POST', body: form });
    const back = new URL(granted.headers.get('location') ?? '');
    assert.equal((await victim.request(back.pathname + back.search)).status, 400, 'state mismatch');
    assert.ok(!victim.cookies.has('af_session'));

    const honest = new HttpSession(server.url);
    const login = await honest.request('/auth/login?go=1&next=//evil.example/');
    const next = new URL(login.headers.get('location') ?? '');
    const body = new URLSearchParams(next.searchParams);
    body.set('username', 'bob');
    const ok = new URL((await honest.request(next.pathname, { method: 'POST', body })).headers.get('location') ?? '');
    const landed = await honest.request(ok.pathname + ok.search);
    assert.equal(landed.headers.get('location'), '/', 'an off-site next becomes /');
  });
});
