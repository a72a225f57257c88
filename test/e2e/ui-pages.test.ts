import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpSession, startUiServer, UI_WORKFLOWS, type UiServer } from '../helpers/ui-server.js';

const WORKFLOWS: Record<string, string> = {
  ...UI_WORKFLOWS,
  'ui-two-approvals.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({
  name: 'ui-two-approvals',
  async run() {
    const outcome = await tasks.approval({ title: 'Two of three', approvers: ['alice', 'bob', 'carol'], required: 2, initiator: 'alice' });
    return outcome.status;
  },
});`,
};

/** What the pages offer, where a refused post leaves the browser, signing out, and unknown addresses. */
describe('web UI pages', () => {
  let server: UiServer;
  let alice: HttpSession;
  let bob: HttpSession;

  before(async () => {
    server = await startUiServer(WORKFLOWS);
    alice = await server.signedIn('alice');
    bob = await server.signedIn('bob');
  });
  after(() => server?.close());

  const ops = () => server.runtime.operations;
  async function openApproval() {
    const { run } = await ops().startRun({ workflow: 'ui-two-approvals' });
    return server.firstTaskOf(run.id);
  }
  const buttons = (html: string) => ({
    approve: /<button[^>]*value="approve"[^>]*>/.exec(html)?.[0],
    reject: /<button[^>]*value="reject"[^>]*>/.exec(html)?.[0],
  });

  test('an approver who decided is offered no decision and no longer finds the task in My tasks; the initiator may only reject', async () => {
    const task = await openApproval();
    const before = await (await bob.request('/tasks')).text();
    assert.match(before, new RegExp(task.path));
    assert.equal((await bob.post(task.path, { _csrf: await bob.csrfOf(task.path), decision: 'approve' })).status, 303);

    const page = await (await bob.request(task.path)).text();
    assert.deepEqual(buttons(page), { approve: undefined, reject: undefined }, 'no Approve/Reject after deciding');
    assert.match(page, /You decided already: approve/);
    assert.doesNotMatch(await (await bob.request('/tasks')).text(), new RegExp(task.path), 'the inbox no longer lists it');
    assert.match(await (await bob.request('/')).text(), /<b>0<\/b>\s*my open tasks|my open tasks/);

    const initiator = await (await alice.request(task.path)).text();
    assert.match(buttons(initiator).approve ?? '', /disabled/, 'the initiator cannot approve');
    assert.doesNotMatch(buttons(initiator).reject ?? '', /disabled/, 'but may reject');
    assert.match(initiator, /You asked for this change, so you may not approve it/);
  });

  test('a refused decision is shown at the task’s own address, with the comment kept; so is a refused signal at the run’s', async () => {
    const task = await openApproval();
    const refused = await alice.post(task.path, {
      _csrf: await alice.csrfOf(task.path),
      decision: 'approve',
      comment: 'my own change, fine',
    });
    assert.equal(refused.status, 403);
    const html = await refused.text();
    assert.match(html, /may not approve it/);
    assert.match(html, /<textarea[^>]*>my own change, fine<\/textarea>/);
    assert.match(
      html,
      new RegExp(`<form id="decision-form" class="task" method="post" action="${task.path}"`),
      'the form posts to a GET-able address',
    );

    const { run } = await ops().startRun({ workflow: 'ui-steps' });
    const path = `/runs/${run.id}`;
    const bad = await alice.post(path, { _csrf: await alice.csrfOf(path), action: 'signal', name: 'go', payload: '{nope' });
    assert.equal(bad.status, 400);
    const page = await bad.text();
    assert.match(page, /not valid JSON/);
    assert.match(page, /<details id="run-signal" class="actions" open=""/);
    assert.match(page, /name="payload" value="\{nope"/);
    assert.doesNotMatch(page, /action="[^"]*\/(signal|cancel|retry|decision)"/, 'no form posts to a POST-only address');
    assert.equal((await alice.post(path, { _csrf: await alice.csrfOf(path), action: 'signal', name: 'go', payload: '1' })).status, 303);
    assert.equal((await ops().waitForRun(run.id, 10_000)).status, 'completed');
  });

  test('a post after the session ended gets a page that leads back through sign-in to where it came from', async () => {
    const carol = new HttpSession(server.url);
    const task = await openApproval();
    const response = await carol.post(
      task.path,
      { _csrf: 'stale', decision: 'reject' },
      { origin: server.url, referer: `${server.url}${task.path}` },
    );
    assert.equal(response.status, 401);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    const html = await response.text();
    assert.match(html, /Your session has ended/);
    assert.match(html, new RegExp(`href="/auth/login\\?next=${encodeURIComponent(task.path)}"`));
  });

  test('signing out ends the session: its cookie no longer opens a page', async () => {
    const dave = await server.signedIn('carol');
    const cookie = dave.cookies.get('af_session');
    assert.ok(cookie);
    assert.equal((await dave.request('/tasks')).status, 200);
    assert.equal((await dave.post('/auth/logout', { _csrf: await dave.csrfOf('/tasks') })).status, 302);
    const copy = new HttpSession(server.url);
    copy.cookies.set('af_session', cookie);
    assert.equal((await copy.request('/tasks')).status, 302, 'the old cookie is refused');
  });

  test('an unknown address is a page for a browser and JSON for everything else; the icon is served', async () => {
    const html = await alice.request('/nope/xyz', { headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.equal(html.status, 404);
    assert.match(html.headers.get('content-type') ?? '', /text\/html/);
    const text = await html.text();
    assert.match(text, /<h1>Not found<\/h1>/);
    assert.match(text, /Sign out/, 'with the signed-in header');
    const json = await alice.request('/nope/xyz');
    assert.equal(json.status, 404);
    assert.match(json.headers.get('content-type') ?? '', /json/);
    const api = await alice.request('/api/v1/nope', { headers: { accept: 'text/html' } });
    assert.match(api.headers.get('content-type') ?? '', /json/, 'the API keeps its JSON');
    assert.equal((await alice.request('/favicon.ico')).status, 200);
    assert.equal((await alice.request('/ui/icon.svg')).status, 200);
  });
});
