import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeInBrowser, screenshot, signIn } from './browser.js';

// Not signed in before the tests: the first one signs in.
describeInBrowser('web UI in headless Chromium', { users: ['alice', 'bob'], signIn: false }, ({ server, users: { alice, bob } }) => {
  const ops = () => server.runtime.operations;
  const openTask = async (runId: string) =>
    (
      await server.until(
        () => ops().listTasks({ runId }),
        (page) => page.tasks.length > 0,
      )
    ).tasks[0]!;

  test('signing in goes through the simulator’s OAuth user picker and back', async () => {
    const { page } = alice;
    await page.goto(`${server.url}/tasks`);
    assert.match(new URL(page.url()).pathname, /^\/auth\/login/);
    await screenshot(page, '01-sign-in');
    await page.getByRole('link', { name: 'Sign in with GitLab' }).click();
    assert.match(page.url(), /\/simulator\/gitlab\/oauth\/authorize\?/);
    assert.match(page.url(), /code_challenge_method=S256/);
    await screenshot(page, '02-gitlab-user-picker');
    await page.getByRole('button', { name: '@alice' }).click();
    await page.waitForURL(`${server.url}/tasks`);
    await assert.doesNotReject(page.getByRole('heading', { name: 'My tasks' }).waitFor());
    assert.match((await page.locator('form.user span').textContent()) ?? '', /^Alice/);
    const session = (await alice.context.cookies()).find((cookie) => cookie.name === 'af_session');
    assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
    assert.equal(session?.sameSite, 'Lax');
    await signIn(bob.page, server.url, 'bob');
  });

  test('a new task appears in the inbox without a reload; an invalid form shows its errors and the run waits; a valid one lets it finish', async () => {
    const { page } = alice;
    await page.goto(`${server.url}/tasks`);
    await page.locator('body[data-live-ready]').waitFor({ state: 'attached' });
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
    const { run } = await ops().startRun({ workflow: 'ui-form', input: { assignees: ['alice'] } });
    const link = page.getByRole('link', { name: 'Incident review' });
    await link.waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 1, 'the inbox updated in place');
    await screenshot(page, '03-inbox');
    await link.click();
    await page.getByRole('heading', { name: 'Incident review' }).waitFor();
    // The description's Markdown is rendered; its script is text.
    assert.equal(await page.locator('.markdown strong').textContent(), 'happened');
    assert.match((await page.locator('.markdown').textContent()) ?? '', /<script>window.__pwned/);
    assert.equal(await page.locator('label[for="f-summary"] .req').count(), 1, 'required fields are marked');
    assert.equal(await page.locator('#f-impact').inputValue(), '1', 'defaults are filled in');

    await page.locator('#f-summary').fill('Partial answer');
    await page.locator('#f-impact').fill('5000');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.locator('#e-impact').waitFor();
    assert.match((await page.locator('#e-impact').textContent()) ?? '', /1000/);
    assert.ok(await page.locator('#e-severity').isVisible(), 'a missing choice is reported');
    assert.equal(await page.locator('#e-summary').count(), 0, 'a valid field has no error');
    assert.equal(await page.locator('#f-summary').inputValue(), 'Partial answer', 'entered values are kept');
    assert.equal(await page.locator('#f-impact').inputValue(), '5000');
    await screenshot(page, '04-form-errors');
    assert.equal((await ops().getRun(run.id)).status, 'running');
    assert.equal((await openTask(run.id)).status, 'open', 'nothing was recorded');

    const injection = '<img src=x onerror="window.__pwned = 1">';
    await page.locator('#f-summary').fill('Database failover');
    await page.locator('#f-impact').fill('12');
    await page.locator('#f-severity').selectOption('high');
    await page.getByLabel('api').check();
    await page.getByLabel('db').check();
    await page.getByLabel('Was someone paged?').check();
    await page.locator('#f-since').fill('2026-11-20');
    await page.locator('#f-notes').fill(injection);
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByText('Thank you').waitFor();
    const finished = await ops().waitForRun(run.id, 10_000);
    assert.equal(finished.status, 'completed');
    assert.deepEqual((finished.result as { values: unknown }).values, {
      summary: 'Database failover',
      impact: 12,
      severity: 'high',
      areas: ['api', 'db'],
      paged: true,
      since: '2026-11-20',
      notes: injection,
    });
    await page.reload();
    assert.equal(await page.locator('dd[data-answer="notes"]').textContent(), injection);
    assert.equal(await page.locator('main img').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned), undefined);
    await screenshot(page, '05-form-submitted');
  });

  test('an approver approves one request, another rejects the next; decisions are shown with who decided', async () => {
    const first = (await ops().startRun({ workflow: 'ui-approval' })).run;
    const second = (await ops().startRun({ workflow: 'ui-approval' })).run;
    const [approve, reject] = [await openTask(first.id), await openTask(second.id)];

    await alice.page.goto(`${server.url}${approve.path}`);
    await screenshot(alice.page, '06-approval');
    await alice.page.getByLabel('Comment').fill('fine by me');
    await alice.page.getByRole('button', { name: 'Approve' }).click();
    await alice.page.getByText('Your decision is recorded').waitFor();
    assert.match((await alice.page.locator('#decisions').textContent()) ?? '', /@alice[\s\S]*fine by me/);

    await bob.page.goto(`${server.url}${reject.path}`);
    await bob.page.getByLabel('Comment').fill('not during the freeze');
    await bob.page.getByRole('button', { name: 'Reject' }).click();
    await bob.page.getByText('Your decision is recorded').waitFor();
    assert.match((await bob.page.locator('#decisions').textContent()) ?? '', /reject[\s\S]*@bob/);

    assert.deepEqual((await ops().waitForRun(first.id, 10_000)).result, { status: 'approved', decisions: ['alice:approve'] });
    assert.deepEqual((await ops().waitForRun(second.id, 10_000)).result, { status: 'rejected', decisions: ['bob:reject'] });
  });

  test('two tasks with one title are told apart in the inbox by their run, while open and once closed', async () => {
    const { page } = alice;
    const runs = [(await ops().startRun({ workflow: 'ui-approval' })).run, (await ops().startRun({ workflow: 'ui-approval' })).run];
    const tasks = [await openTask(runs[0]!.id), await openTask(runs[1]!.id)];
    const runLink = (index: number) => `a[href="/runs/${encodeURIComponent(runs[index]!.id)}"]`;
    await page.goto(`${server.url}/tasks`);
    const rows = tasks.map((task) => page.locator(`table.tasks tr[data-task="${task.id}"]`));
    for (const [index, row] of rows.entries()) {
      assert.equal(await row.getByRole('link', { name: 'Deploy during the freeze' }).count(), 1);
      assert.equal(await row.locator(runLink(index)).count(), 1, `open task ${index} shows its run`);
    }
    assert.notEqual(await rows[0]!.innerText(), await rows[1]!.innerText(), 'the rows read differently');
    await screenshot(page, '13-inbox-same-titles');

    for (const task of tasks) await ops().decideTask(task.id, { by: 'alice', decision: 'approve' });
    await Promise.all(runs.map((run) => ops().waitForRun(run.id, 10_000)));
    await page.reload();
    const closed = runs.map((_, index) => page.locator('#inbox li', { has: page.locator(runLink(index)) }));
    for (const [index, item] of closed.entries()) {
      assert.equal(await item.count(), 1, `closed task ${index} shows its run`);
      assert.equal(await item.getByRole('link', { name: 'Deploy during the freeze' }).count(), 1);
    }
    assert.notEqual(await closed[0]!.innerText(), await closed[1]!.innerText(), 'the closed entries read differently');
  });

  test('the run page’s timeline and history update live, without a reload, when the run moves on', async () => {
    const { page } = alice;
    const { run } = await ops().startRun({ workflow: 'ui-steps' });
    await server.until(
      () => ops().getHistory(run.id),
      (history) => history.some((event) => event.type === 'wait_started'),
    );
    await page.goto(`${server.url}/runs/${run.id}`);
    const openWait = page.locator('#run-timeline [data-kind="wait"][data-state="open"]');
    await openWait.waitFor();
    await page.locator('body[data-live-ready]').waitFor({ state: 'attached' });
    await screenshot(page, '07-run-waiting');
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 2));
    await ops().signalRun(run.id, 'go', { ok: true });
    await page.locator('#run-summary .badge', { hasText: 'completed' }).waitFor();
    await page.locator('#run-timeline [data-kind="wait"][data-state="done"]').waitFor();
    assert.equal(await openWait.count(), 0);
    assert.ok((await page.locator('#run-history li[data-type="run_completed"]').count()) === 1);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 2, 'the page was not reloaded');
    await screenshot(page, '08-run-completed');
  });

  test('cancelling a run from its page ends it', async () => {
    const { page } = alice;
    const { run } = await ops().startRun({ workflow: 'ui-steps' });
    await page.goto(`${server.url}/runs/${run.id}`);
    await page.getByLabel('reason').fill('not needed');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.getByRole('status').getByText('Cancellation requested').waitFor();
    assert.equal((await ops().waitForRun(run.id, 10_000)).status, 'cancelled');
    await page.locator('#run-summary .badge', { hasText: 'cancelled' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Cancel run' }).count(), 0);
  });

  test('an issue title with markup shows as text on the events page; the main pages render', async () => {
    const { page } = alice;
    const title = '<script>window.__pwned = "title"</script><b>bold?</b>';
    server.gitlab.simulator.actions.createIssue('alice', 'demo/app', { title });
    await server.until(
      () => ops().listEvents({ type: 'com.gitlab.events.issue_created' }),
      (events) => events.length > 0,
    );
    await page.goto(`${server.url}/events`);
    await page.getByText(title).waitFor();
    assert.equal(await page.locator('#events-list b').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned), undefined);
    await screenshot(page, '09-events');
    for (const [path, heading, name] of [
      ['/', 'Overview', '10-overview'],
      ['/runs', 'Runs', '11-runs'],
      ['/workflows', 'Workflows', '12-workflows'],
    ] as const) {
      await page.goto(`${server.url}${path}`);
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await screenshot(page, name);
    }
    await page.goto(`${server.url}/runs?status=cancelled`);
    assert.equal(await page.locator('table.runs tbody tr').count(), 1);
  });

  test('a run started from the workflows page opens its run page, which says it started', async () => {
    const { page } = alice;
    await page.goto(`${server.url}/workflows`);
    const section = page.locator('#wf-ui-form');
    await section.getByText('Start a run').click();
    await section.getByLabel('input (JSON)').fill('{"assignees": ["bob"]}');
    await screenshot(page, '13-start-run');
    await section.getByRole('button', { name: 'Start' }).click();
    await page.getByRole('status').getByText('The run is started.').waitFor();
    const runId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1) ?? '');
    const [task] = (await ops().listTasks({ runId })).tasks;
    assert.deepEqual(task?.eligible, ['bob'], 'the run got the input typed in the form');
  });
});
