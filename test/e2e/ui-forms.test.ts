import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startUiServer, type HttpSession, type UiServer } from '../helpers/ui-server.js';

/** Form posts parsed strictly, closed forms read by label, refusals that say who and when, the runs filter's notices. */
describe('web UI forms and filters', () => {
  let server: UiServer;
  let alice: HttpSession;
  let bob: HttpSession;

  before(async () => {
    server = await startUiServer();
    alice = await server.signedIn('alice');
    bob = await server.signedIn('bob');
  });
  after(() => server?.close());

  const ops = () => server.runtime.operations;
  async function openForm(assignees: string[]) {
    const { run } = await ops().startRun({ workflow: 'ui-form', input: { assignees } });
    return { run, task: await server.firstTaskOf(run.id) };
  }

  test('a crafted post with 0x5 for a number or yes for a checkbox is refused with field errors, and nothing is saved', async () => {
    const { task } = await openForm(['alice']);
    const csrf = await alice.csrfOf(task.path);
    const response = await alice.post(task.path, { _csrf: csrf, summary: 'ok', impact: '0x5', severity: 'low', paged: 'yes' });
    const html = await response.text();
    assert.equal(response.status, 400);
    assert.match(html, /id="e-impact">must be a number written in decimal digits/);
    assert.match(html, /id="e-paged">must be ticked or not/);
    assert.match(html, /id="f-impact"[^>]*aria-invalid="true"/);
    assert.match(html, /The form has 2 problems/);
    assert.equal((await ops().getTask(task.id)).status, 'open');
    const other = await alice.post(task.path, { _csrf: csrf, impact: '1e1x', severity: 'low' });
    assert.match(
      await other.text(),
      /id="e-summary">is required[\s\S]*id="e-impact">must be a number/,
      'the other fields’ problems come with it',
    );
  });

  test('a closed form shows its answer label → value; a late post says who submitted it and when', async () => {
    const { run, task } = await openForm(['alice', 'bob']);
    const bobCsrf = await bob.csrfOf(task.path);
    const csrf = await alice.csrfOf(task.path);
    const answer = {
      _csrf: csrf,
      summary: 'Disk full',
      impact: '12',
      severity: 'high',
      areas: ['api', 'db'],
      paged: 'true',
      since: '2026-11-20',
    };
    assert.equal((await alice.post(task.path, answer)).status, 303);
    await ops().waitForRun(run.id, 10_000);
    const html = await (await alice.request(task.path)).text();
    assert.match(html, /<dt>Users affected<\/dt><dd data-answer="impact">12<\/dd>/);
    assert.match(html, /<dt>Severity<\/dt><dd data-answer="severity">High!<\/dd>/);
    assert.match(html, /<dt>Areas<\/dt><dd data-answer="areas">api, db<\/dd>/);
    assert.match(html, /<dt>Was someone paged\?<\/dt><dd data-answer="paged">yes<\/dd>/);
    assert.match(html, /<dt>Notes<\/dt><dd class="multiline" data-answer="notes">—<\/dd>/);
    assert.doesNotMatch(html, /&quot;impact&quot;|<pre class="json"/, 'no raw JSON');
    assert.doesNotMatch(html, /id="task-form"/, 'no form once closed');

    const late = await bob.post(task.path, { ...answer, _csrf: bobCsrf, summary: 'mine' });
    const lateHtml = await late.text();
    assert.equal(late.status, 409);
    assert.match(lateHtml, /Your answer was not saved: @alice had already submitted this form at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    assert.doesNotMatch(lateHtml, /task tk_[0-9a-f]+ is/);
  });

  test('the runs filter says what it ignored and why, keeps the rest, and turns a reversed range round', async () => {
    const { run } = await ops().startRun({ workflow: 'ui-steps' });
    const bogus = await (await alice.request('/runs?workflow=ui-steps&status=bogus&from=not-a-date')).text();
    assert.match(bogus, /Status “bogus” is not a run status/);
    assert.match(bogus, /“not-a-date” is not a date written YYYY-MM-DD/);
    assert.match(bogus, new RegExp(`data-run="${run.id}"`));
    assert.match(bogus, /<option selected="">ui-steps<\/option>/, 'the workflow filter is kept');
    assert.doesNotMatch(bogus, /data-run="[^"]*"[\s\S]*<td>ui-form<\/td>/, 'only that workflow');
    const reversed = await (await alice.request('/runs?from=2999-01-01&to=2000-01-01')).text();
    assert.match(reversed, /wrong way round \(from 2999-01-01 to 2000-01-01\)/);
    assert.match(reversed, new RegExp(`data-run="${run.id}"`), 'the runs of the range are shown, not an empty table');
    assert.match(reversed, /name="from" value="2000-01-01"/);
    const undeployed = await (await alice.request('/runs?workflow=nope')).text();
    assert.match(undeployed, /No workflow “nope” is deployed: these are the runs it had, if any/);
    assert.match(undeployed, /<option selected="">nope<\/option>/, 'the filter shows the workflow it applied, not "all"');
    assert.doesNotMatch(undeployed, /data-run=/);
  });
});
