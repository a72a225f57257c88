import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { memoryLogger, type LogEntry } from '../helpers/memory-logger.js';
import { RELEASE_WORKFLOW, startUiServer, UI_WORKFLOWS, type HttpSession, type UiServer } from '../helpers/ui-server.js';

/** The run page's actions and the runs list's filters, at the HTTP level. */
describe('web UI actions and filters', () => {
  let server: UiServer;
  let alice: HttpSession;
  let upstream: Server;
  let hits = 0;
  let healthy = false;
  const logged: LogEntry[] = [];

  before(async () => {
    upstream = createServer((_request, response) => {
      hits++;
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: healthy }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`;
    server = await startUiServer(
      {
        ...UI_WORKFLOWS,
        'ui-on-issue.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'ui-on-issue',
  triggers: [{ event: 'com.gitlab.events.issue_created' }],
  async run(event: { subject?: string }) {
    return event.subject ?? null;
  },
});`,
        'ui-flaky.ts': `import { http, workflow } from 'autoflow';
export default workflow({
  name: 'ui-flaky',
  permissions: { http: ['${target}'] },
  async run() {
    // An hour between attempts: only "Retry now" makes the next one happen during the test.
    const response = await http.request({ url: '${target}hook', method: 'POST', body: {} }, { retry: { maxAttempts: 5, initialInterval: 3600000 } });
    return response.status;
  },
});`,
        'ui-greet.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'ui-greet',
  input: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } }, additionalProperties: false },
  async run(input: { name: string }) {
    return 'Hello, ' + input.name;
  },
});`,
        'ui-release.ts': RELEASE_WORKFLOW,
        'ui-fragile.ts': `import { http, workflow } from 'autoflow';
export default workflow({
  name: 'ui-fragile',
  permissions: { http: ['${target}'] },
  async run() {
    const response = await http.request({ url: '${target}fragile', method: 'POST', body: {} }, { retry: { maxAttempts: 1 } });
    return response.status;
  },
});`,
      },
      { logger: memoryLogger(logged) },
    );
    alice = await server.signedIn('alice');
  });
  after(async () => {
    await server?.close();
    upstream?.close();
  });

  const ops = () => server.runtime.operations;

  test('a failing call shows its error and attempts; "Retry now" attempts it again at once', async () => {
    const { run } = await ops().startRun({ workflow: 'ui-flaky' });
    const [call] = await server.until(
      () => ops().listCalls(run.id),
      (calls) => calls[0]?.lastError !== undefined,
    );
    const retry = `/runs/${run.id}/calls/${call!.step}/retry`;
    const page = await (await alice.request(`/runs/${run.id}`)).text();
    assert.match(page, /Calls in progress/);
    assert.match(page, /http\.request/);
    assert.match(page, /503/);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    assert.equal(hits, 1);

    const retried = await alice.post(retry, { _csrf: csrf });
    assert.equal(retried.status, 303);
    await server.until(
      () => ops().listCalls(run.id),
      (calls) => calls[0]?.attempts === 2,
    );
    assert.equal(hits, 2);
    assert.ok(
      logged.some(
        (line) => line.data.by === 'alice' && line.message === `call #${call!.step} of run ${run.id} retried now in the web UI by @alice`,
      ),
      'the log says who made the call happen again',
    );

    healthy = true;
    assert.equal((await alice.post(retry, { _csrf: csrf })).status, 303);
    const finished = await ops().waitForRun(run.id, 10_000);
    assert.equal(finished.status, 'completed');
    assert.equal(finished.result, 200);
    assert.equal((await alice.post(retry, { _csrf: csrf })).status, 409, 'nothing left to retry');
  });

  test('a failed run offers "Retry run", which makes its failed call again and lets it finish', async () => {
    healthy = false;
    const { run } = await ops().startRun({ workflow: 'ui-fragile' });
    assert.equal((await ops().waitForRun(run.id, 10_000)).status, 'failed');
    const page = await (await alice.request(`/runs/${run.id}`)).text();
    assert.match(page, /Retry run/);
    assert.match(page, /Retry on the latest version/);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';

    healthy = true;
    const retried = await alice.post(`/runs/${run.id}/retry`, { _csrf: csrf, version: 'same' });
    assert.equal(retried.status, 303);
    assert.equal(retried.headers.get('location'), `/runs/${run.id}?done=run-retried`);
    const finished = await ops().waitForRun(run.id, 10_000);
    assert.equal(finished.status, 'completed');
    assert.equal(finished.result, 200);
    const after = await (await alice.request(`/runs/${run.id}`)).text();
    assert.doesNotMatch(after, /Retry run/);
    const retries = /<table class="retries">[\s\S]*?<\/table>/.exec(after)?.[0] ?? '';
    assert.match(retries, /<td>alice<\/td>/, 'who retried it');
    assert.match(retries, /<td class="err">\w*Error: [^<]+<\/td>/, 'the failure the retry answered, no longer in the history');
    assert.equal((await alice.post(`/runs/${run.id}/retry`, { _csrf: csrf })).status, 409, 'a completed run is not retried');
    assert.match(await server.runtime.metrics.render(), /autoflow_runs_retried_total\{version="same"[^}]*\} 1\n/);
  });

  test('a signal sent from the run page reaches the run', async () => {
    const { run } = await ops().startRun({ workflow: 'ui-steps' });
    const csrf = await alice.csrfOf(`/runs/${run.id}`);
    const bad = await alice.post(`/runs/${run.id}/signal`, { _csrf: csrf, name: 'go', payload: '{nope' });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /not valid JSON/);
    assert.equal((await alice.post(`/runs/${run.id}/signal`, { _csrf: csrf, name: 'go', payload: '{"by":"ui"}' })).status, 303);
    assert.deepEqual((await ops().waitForRun(run.id, 10_000)).result, { went: { by: 'ui' } });
    const satisfied = (await ops().getHistory(run.id)).find((event) => event.type === 'wait_satisfied');
    assert.equal(satisfied?.type === 'wait_satisfied' && satisfied.event.source, 'autoflow:user/alice', 'the signal says who sent it');
  });

  test('the workflows page starts a run by hand; bad JSON or input the schema refuses shows the form again, saying why', async () => {
    const page = await (await alice.request('/workflows')).text();
    assert.match(page, /<form method="post" action="\/workflows\/ui-greet\/runs">/);
    assert.match(page, /<summary>input schema<\/summary>/, "the workflow's input schema is shown beside the form");
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const start = (fields: Record<string, string>) => alice.post('/workflows/ui-greet/runs', { _csrf: csrf, ...fields });

    const badJson = await start({ input: '{name: ada}', id: '' });
    assert.equal(badJson.status, 400);
    const badJsonPage = await badJson.text();
    assert.match(badJsonPage, /the input is not valid JSON/);
    assert.match(badJsonPage, /<details class="start-run" id="start-ui-greet" open="">/, 'the form opens again');
    assert.match(badJsonPage, /<textarea name="input"[^>]*>\{name: ada\}<\/textarea>/, 'with what was typed');

    const refused = await start({ input: '{"nom": "Ada"}', id: '' });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /name/, "the schema's complaint names the field");

    const started = await start({ input: '{"name": "Ada"}', id: 'greet-by-hand' });
    assert.equal(started.status, 303);
    assert.equal(started.headers.get('location'), '/runs/greet-by-hand?done=started');
    assert.equal((await ops().waitForRun('greet-by-hand', 10_000)).result, 'Hello, Ada');
    const again = await start({ input: '{"name": "Ada"}', id: 'greet-by-hand' });
    assert.equal(again.headers.get('location'), '/runs/greet-by-hand?done=exists', 'the same id opens the run it started');
    const otherInput = await start({ input: '{"name": "Bob"}', id: 'greet-by-hand' });
    assert.equal(otherInput.status, 400, 'the same id with another input is another request');
    assert.match(await otherInput.text(), /run &#39;greet-by-hand&#39; exists already \(completed\), started with another input/);
    assert.equal((await ops().getRun('greet-by-hand')).result, 'Hello, Ada');
    assert.match(await (await alice.request('/runs/greet-by-hand?done=exists')).text(), /A run with this id exists already/);
  });

  test("a workflow whose input schema is a flat object is started from a form of its fields, filled with the schema's defaults", async () => {
    const page = await (await alice.request('/workflows')).text();
    assert.match(page, /<form method="post" action="\/workflows\/ui-release\/runs" class="task" data-start-fields="ui-release">/);
    assert.match(page, /<select id="f-ui-release-environment" name="environment"[^>]*required=""[^>]*>/);
    assert.match(page, /<option value="staging" selected="">staging<\/option>/, 'the default is chosen');
    assert.match(page, /<label class="title" for="f-ui-release-tag">Release tag<span class="req" title="required"> \*<\/span><\/label>/);
    assert.match(page, /<input type="number" id="f-ui-release-replicas" name="replicas"[^>]*value="2"[^>]*min="1" max="9" step="1"/);
    assert.match(page, /<input type="checkbox" id="f-ui-release-dryRun" name="dryRun"[^>]*value="true" checked=""/);
    assert.match(page, /<summary>or give the input as JSON<\/summary>/, 'JSON remains for what the fields cannot say');
    assert.doesNotMatch(page, /data-start-fields="ui-flaky"/, 'a workflow without an input schema keeps the JSON form');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const start = (fields: Record<string, string | string[]>) =>
      alice.post('/workflows/ui-release/runs', { _csrf: csrf, _form: 'fields', id: '', ...fields });

    const missing = await start({ environment: 'production', tag: '', replicas: '0x5' });
    assert.equal(missing.status, 400);
    const missingPage = await missing.text();
    assert.match(missingPage, /the form has invalid fields: tag: is required; replicas: must be a number written in decimal digits/);
    assert.match(missingPage, /<details class="start-run" id="start-ui-release" open="">/, 'the form opens again');
    assert.match(missingPage, /<input type="text" id="f-ui-release-tag" name="tag"[^>]*aria-invalid="true"[^>]*autofocus=""/);
    assert.match(missingPage, /<option value="production" selected="">/, 'with what was chosen');

    const badTag = await start({ environment: 'production', tag: 'latest', replicas: '3' });
    assert.equal(badTag.status, 400, 'what the fields cannot check, the input schema still does');
    const badTagPage = await badTag.text();
    assert.match(badTagPage, /\/tag: must match pattern/);
    assert.match(badTagPage, /<input type="text" id="f-ui-release-tag" name="tag"[^>]*value="latest"/, 'the form keeps what was typed');

    // A form of fields posted for a workflow whose input is not (or no longer) one: nothing posted is used.
    const stale = await alice.post('/workflows/ui-flaky/runs', { _csrf: csrf, _form: 'fields', id: '', tag: 'v1' });
    assert.equal(stale.status, 400);
    assert.match(await stale.text(), /workflow &#39;ui-flaky&#39; was deployed again with another input: give it again/);

    const started = await start({ environment: 'production', tag: 'v1.4', replicas: '3', regions: ['eu', 'us'], id: 'release-by-form' });
    assert.equal(started.status, 303);
    assert.equal(started.headers.get('location'), '/runs/release-by-form?done=started');
    assert.deepEqual((await ops().waitForRun('release-by-form', 10_000)).result, {
      environment: 'production',
      tag: 'v1.4',
      replicas: 3,
      dryRun: false,
      regions: ['eu', 'us'],
    });
  });

  test('a cancel from the run page is recorded with who asked, and why', async () => {
    const { run } = await ops().startRun({ workflow: 'ui-steps' });
    const csrf = await alice.csrfOf(`/runs/${run.id}`);
    assert.equal((await alice.post(`/runs/${run.id}`, { _csrf: csrf, action: 'cancel', reason: 'duplicate of another run' })).status, 303);
    assert.equal((await ops().waitForRun(run.id, 10_000)).status, 'cancelled');
    const requested = (await ops().getHistory(run.id)).find((event) => event.type === 'cancel_requested');
    assert.deepEqual(requested?.type === 'cancel_requested' && [requested.by, requested.reason], ['alice', 'duplicate of another run']);
  });

  test('the runs list filters by workflow, status and day, and finds a run by id', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await ops().startRun({ workflow: 'ui-steps', id: `steps-${i}` })).run.id);
    const today = new Date().toISOString().slice(0, 10);
    const list = async (query: string) =>
      [...(await (await alice.request(`/runs?${query}`)).text()).matchAll(/data-run="([^"]+)"/g)].map((match) => match[1]);
    assert.deepEqual(
      (await list('workflow=ui-steps&status=running')).filter((id) => id?.startsWith('steps-')),
      ['steps-2', 'steps-1', 'steps-0'],
    );
    assert.ok((await list(`workflow=ui-steps&from=${today}&to=${today}`)).includes('steps-1'));
    assert.deepEqual(await list('workflow=ui-steps&from=2001-01-01&to=2001-01-02'), []);
    assert.deepEqual(await list('workflow=ui-flaky&status=running'), []);

    const found = await alice.request('/runs?q=steps-1');
    assert.equal(found.status, 302);
    assert.equal(found.headers.get('location'), '/runs/steps-1');
    assert.match(await (await alice.request('/runs?q=no-such-run')).text(), /No run has the id “no-such-run”/);
    for (const id of ids) await ops().cancelRun(id);
  });

  test('a GitLab reference lists the runs that events about it started', async () => {
    const first = server.gitlab.simulator.actions.createIssue('alice', 'demo/app', { title: 'First' });
    const second = server.gitlab.simulator.actions.createIssue('alice', 'demo/app', { title: 'Second' });
    const runs = await server.until(
      () => ops().listRuns({ workflow: 'ui-on-issue' }),
      (page) => page.runs.length === 2,
    );
    const reference = `demo/app#${second.iid}`;
    const expected = runs.runs.filter((run) => JSON.stringify(run.input).includes(`"subject":"${reference}"`)).map((run) => run.id);
    assert.equal(expected.length, 1);
    const html = await (await alice.request(`/runs?q=${encodeURIComponent(reference)}`)).text();
    assert.match(html, /Runs started by events about demo\/app#\d+/);
    assert.deepEqual(
      [...html.matchAll(/data-run="([^"]+)"/g)].map((match) => match[1]),
      expected,
    );
    assert.notEqual(first.iid, second.iid);
    const none = await (await alice.request('/runs?q=demo%2Fapp%23999')).text();
    assert.doesNotMatch(none, /data-run=/);

    // The events page says what routing did: this event started that run.
    const [event] = await ops().listEvents({ type: 'com.gitlab.events.issue_created' });
    const events = await (await alice.request('/events?type=com.gitlab.events.issue_created')).text();
    const cell = new RegExp(`data-seq="${event!.seq}">\\s*<div>started <a href="/runs/([^"]+)"`).exec(events);
    assert.equal(cell?.[1], expected[0]);
  });
});
