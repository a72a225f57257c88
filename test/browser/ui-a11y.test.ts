import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeInBrowser, screenshot, type UserBrowser } from './browser.js';

/** The browser's getComputedStyle, for code that runs in the page (this project's types have no DOM). */
interface BrowserWindow {
  getComputedStyle(element: unknown): { opacity: string; cursor: string };
}

/** Keyboard and screen-reader use: the skip link, form errors, the disabled look, timeline bars, a form closing live. */
describeInBrowser('web UI accessibility in headless Chromium', { users: ['alice', 'bob'] }, ({ server, users: { alice, bob } }) => {
  const ops = () => server.runtime.operations;
  const openTask = async (runId: string) =>
    (
      await server.until(
        () => ops().listTasks({ runId }),
        (page) => page.tasks.length > 0,
      )
    ).tasks[0]!;
  const focused = (browser: UserBrowser) => browser.page.evaluate<string>('document.activeElement?.id || document.activeElement?.tagName');

  test('the first Tab stop skips to the main content', async () => {
    const { page } = alice;
    await page.goto(`${server.url}/runs`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate<string>('document.activeElement?.textContent'), 'Skip to main content');
    assert.ok(await page.locator('a.skip').isVisible(), 'it shows when focused');
    await page.keyboard.press('Enter');
    assert.equal(await focused(alice), 'main');
    await page.keyboard.press('Tab');
    assert.equal(
      await page.evaluate<boolean>("document.activeElement?.closest('main') !== null"),
      true,
      'the next Tab stop is inside main',
    );
  });

  test('a refused submit moves the focus to the first invalid field, marked invalid and described by its error; the summary links to each', async () => {
    const { page } = alice;
    const { run } = await ops().startRun({ workflow: 'ui-form', input: { assignees: ['alice'] } });
    const task = await openTask(run.id);
    await page.goto(`${server.url}${task.path}`);
    const areas = page.getByRole('group', { name: 'Areas' });
    assert.equal(await areas.getByRole('checkbox').count(), 3, 'the boxes of a multichoice are a group named by its label');
    await page.locator('#f-impact').fill('');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.locator('#e-summary').waitFor();
    await screenshot(page, 'a11y-01-form-errors');
    assert.equal(await focused(alice), 'f-summary', 'focus is on the first invalid field');
    const summary = page.getByRole('textbox', { name: 'Summary' });
    assert.equal(await summary.getAttribute('aria-invalid'), 'true');
    assert.match((await summary.getAttribute('aria-describedby')) ?? '', /\be-summary\b/);
    assert.equal(await page.locator('#f-since').getAttribute('aria-invalid'), null, 'a valid field is not marked');
    assert.equal(await page.getByRole('alert').count(), 1, 'one alert, not one per field');
    await page
      .getByRole('alert')
      .getByRole('link', { name: /^Severity: / })
      .click();
    assert.equal(await focused(alice), 'f-severity', 'the summary’s link leads to its field');
  });

  test('the reason of a run’s Cancel form has a visible label, tied to its input', async () => {
    const { page } = alice;
    const { run } = await ops().startRun({ workflow: 'ui-steps' });
    await page.goto(`${server.url}/runs/${run.id}`);
    const label = page.locator('#run-cancel label', { hasText: 'Reason' });
    assert.ok(await label.isVisible(), 'the label shows, not only an aria-label');
    const reason = page.getByRole('textbox', { name: 'Reason (optional)', exact: true });
    assert.equal(await reason.getAttribute('name'), 'reason', 'the input is named by its label');
    await label.click();
    assert.equal(await focused(alice), 'cancel-reason', 'a click on the label focuses the input');
    await ops().cancelRun(run.id, 'test over');
  });

  test('a Submit button the user may not use looks disabled', async () => {
    const { run } = await ops().startRun({ workflow: 'ui-form', input: { assignees: ['alice'] } });
    const task = await openTask(run.id);
    await bob.page.goto(`${server.url}${task.path}`);
    const submit = bob.page.getByRole('button', { name: 'Submit' });
    assert.equal(await submit.isDisabled(), true);
    const look = await submit.evaluate((button) => ({
      opacity: Number((globalThis as unknown as BrowserWindow).getComputedStyle(button).opacity),
      cursor: (globalThis as unknown as BrowserWindow).getComputedStyle(button).cursor,
    }));
    assert.ok(look.opacity < 0.8, `opacity ${look.opacity}`);
    assert.equal(look.cursor, 'not-allowed');
    await alice.page.goto(`${server.url}${task.path}`);
    const enabled = await alice.page
      .getByRole('button', { name: 'Submit' })
      .evaluate((button) => Number((globalThis as unknown as BrowserWindow).getComputedStyle(button).opacity));
    assert.equal(enabled, 1);
  });

  test('a form that closes while open gives way to the answer, without a reload', async () => {
    const { page } = bob;
    const { run } = await ops().startRun({ workflow: 'ui-form', input: { assignees: ['alice', 'bob'] } });
    const task = await openTask(run.id);
    await page.goto(`${server.url}${task.path}`);
    await page.locator('body[data-live-ready]').waitFor({ state: 'attached' });
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 3));
    await page.locator('#f-summary').fill('half typed');
    await ops().submitTask(task.id, { by: 'alice', values: { summary: 'Done', impact: 3, severity: 'low', paged: false } });
    await page.getByRole('heading', { name: /Submitted by @alice at / }).waitFor();
    assert.equal(await page.locator('#task-form button:enabled').count(), 0, 'no enabled form is left');
    assert.equal(await page.locator('dd[data-answer="severity"]').textContent(), 'low');
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 3, 'the page was not reloaded');
    await screenshot(page, 'a11y-02-form-closed-live');
  });

  test('timeline bars are buttons with a name that the keyboard reaches and Enter or Space operates', async () => {
    const { page } = alice;
    const { run } = await ops().startRun({ workflow: 'ui-steps' });
    await server.until(
      () => ops().getHistory(run.id),
      (history) => history.some((event) => event.type === 'wait_started'),
    );
    await page.goto(`${server.url}/runs/${run.id}`);
    const bar = page.getByRole('button', { name: /^wait .*, running — .* so far: show in history$/ });
    await bar.waitFor();
    assert.equal(await bar.evaluate((element) => (element as unknown as { tabIndex: number }).tabIndex), 0, 'in the Tab order');
    const seq = await bar.getAttribute('data-seq');
    await bar.focus();
    await page.keyboard.press('Enter');
    await page.locator(`#h${seq}.flash`).waitFor();
    const runBar = page.getByRole('button', { name: /^run ui-steps/ });
    await runBar.focus();
    await page.keyboard.press(' ');
    await page.locator(`#h${await runBar.getAttribute('data-seq')}.flash`).waitFor();
  });
});
