import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UI_WORKFLOWS } from '../helpers/ui-server.js';
import { describeInBrowser, screenshot } from './browser.js';

const LONG = 'x'.repeat(400);
const WORKFLOWS: Record<string, string> = {
  ...UI_WORKFLOWS,
  'ui-two-signals.ts': `import { signal, workflow } from 'autoflow';
export default workflow({
  name: 'ui-two-signals',
  async run() {
    await signal('one', { timeout: '1h' });
    await signal('two', { timeout: '1h' });
    return 'both';
  },
});`,
  'ui-long.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({
  name: 'ui-long',
  async run(input: { fail?: boolean }) {
    if (input?.fail) throw new Error('${LONG}');
    return tasks.approval({ title: 'T${LONG.slice(0, 269)}', approvers: ['alice'] });
  },
});`,
};

const SUITE = { users: ['alice'] as const, workflows: WORKFLOWS };

/** Live updates that keep up and keep what is typed; pages that fit the window. */
describeInBrowser('web UI live updates and layout in headless Chromium', SUITE, ({ server, users: { alice } }) => {
  const ops = () => server.runtime.operations;
  const waiting = (runId: string, count: number) =>
    server.until(
      () => ops().getHistory(runId),
      (history) => history.filter((event) => event.type === 'wait_started').length >= count,
    );

  test('a change that arrives while a refresh is under way is shown too: the page ends on the final state', async () => {
    const { page } = alice;
    const { run } = await ops().startRun({ workflow: 'ui-two-signals' });
    await waiting(run.id, 1);
    await page.goto(`${server.url}/runs/${run.id}`);
    await page.locator('body[data-live-ready]').waitFor({ state: 'attached' });
    // The first refresh gets the page as it is after `one`, but only after `two` has ended the run:
    // the change `two` causes arrives while that refresh is still under way.
    let held = false;
    await page.route(
      (url) => url.pathname === `/runs/${run.id}`,
      async (route) => {
        if (held) return route.continue();
        held = true;
        const stale = await route.fetch();
        const body = await stale.text();
        await ops().signalRun(run.id, 'two', null);
        await ops().waitForRun(run.id, 10_000);
        // The page has heard of that change while this refresh is still under way.
        await page.locator('body[data-live-queued]').waitFor({ state: 'attached', timeout: 5_000 });
        await route.fulfill({ response: stale, body });
      },
    );
    await ops().signalRun(run.id, 'one', null);
    await page.locator('#run-summary .badge', { hasText: 'completed' }).waitFor({ timeout: 5_000 });
    assert.ok(held, 'the first refresh was held back');
    await page.unroute((url) => url.pathname === `/runs/${run.id}`);
  });

  test('a live update keeps the half-typed cancel reason and the focus', async () => {
    const { page } = alice;
    const { run } = await ops().startRun({ workflow: 'ui-two-signals' });
    await waiting(run.id, 1);
    await page.goto(`${server.url}/runs/${run.id}`);
    await page.locator('body[data-live-ready]').waitFor({ state: 'attached' });
    await page.getByLabel('reason').fill('half a rea');
    await ops().signalRun(run.id, 'one', null);
    await waiting(run.id, 2);
    await page.locator('#run-history li[data-type="wait_started"]').nth(1).waitFor();
    assert.equal(await page.getByLabel('reason').inputValue(), 'half a rea');
    assert.equal(await page.evaluate('document.activeElement && document.activeElement.getAttribute("name")'), 'reason');
    // When the run ends, the cancel form goes (it no longer applies).
    await ops().signalRun(run.id, 'two', null);
    await page.locator('#run-summary .badge', { hasText: 'completed' }).waitFor();
    await page.getByLabel('reason').waitFor({ state: 'detached' });
  });

  test('a task closed by someone else while one types keeps what was typed, read-only, where the form was', async () => {
    const { page } = alice;
    const typed = 'half <b>typed</b>\nsecond line';
    // A form: bob submits first while alice is typing.
    const form = (await ops().startRun({ workflow: 'ui-form', input: { assignees: ['alice', 'bob'] } })).run;
    const formTask = await server.firstTaskOf(form.id);
    await page.goto(`${server.url}${formTask.path}`);
    await page.locator('body[data-live-ready]').waitFor({ state: 'attached' });
    await page.locator('#f-summary').fill('my summary');
    await page.locator('#f-notes').fill(typed);
    await page.locator('#f-severity').selectOption('high');
    await ops().submitTask(formTask.id, { by: 'bob', values: { summary: 'Done', impact: 3, severity: 'low', paged: false } });
    await page.getByRole('heading', { name: /Submitted by @bob at / }).waitFor();
    await page.locator('#task-form').waitFor({ state: 'detached' });
    assert.equal(
      await page.evaluate<string>('document.activeElement?.id'),
      'task-status',
      'the focus goes to what says why, not to the page',
    );
    const unsaved = page.locator('#unsaved-answer');
    await unsaved.getByText('closed before you submitted').waitFor();
    assert.equal(await unsaved.locator('dd[data-unsaved="summary"]').textContent(), 'my summary');
    assert.equal(await unsaved.locator('dd[data-unsaved="notes"]').textContent(), typed, 'the markup stays text');
    assert.equal(await unsaved.locator('dd[data-unsaved="severity"]').textContent(), 'High!');
    assert.equal(await unsaved.locator('b').count(), 0);
    assert.equal(await page.locator('dd[data-answer="summary"]').textContent(), 'Done', 'the answer that counts is shown too');
    await screenshot(page, '22-closed-while-typing');
    // An approval: the run is cancelled while alice writes her comment.
    const approval = (await ops().startRun({ workflow: 'ui-approval' })).run;
    const approvalTask = await server.firstTaskOf(approval.id);
    await page.goto(`${server.url}${approvalTask.path}`);
    await page.locator('body[data-live-ready]').waitFor({ state: 'attached' });
    await page.getByLabel('Comment').fill('a long thought');
    await ops().cancelRun(approval.id, 'not needed');
    await page.locator('#decision-form').waitFor({ state: 'detached' });
    assert.equal(await page.locator('#unsaved-answer dd[data-unsaved="comment"]').textContent(), 'a long thought');
    assert.equal(await page.evaluate<string>('document.activeElement?.id'), 'task-status');
    assert.match((await page.locator('#task-status').textContent()) ?? '', /run \S+ was cancelled: not needed/, 'and why the run ended');
  });

  test('long ids, error messages and titles wrap: no page is wider than a 1280 px window', async () => {
    const { page } = alice;
    const failed = (await ops().startRun({ workflow: 'ui-long', id: `very-long-run-id-${'y'.repeat(150)}`, input: { fail: true } })).run;
    await ops().waitForRun(failed.id, 10_000);
    const approval = (await ops().startRun({ workflow: 'ui-long', input: {} })).run;
    const { tasks } = await server.until(
      () => ops().listTasks({ runId: approval.id }),
      (list) => list.tasks.length > 0,
    );
    for (const path of ['/', '/runs', `/runs/${failed.id}`, tasks[0]!.path, '/tasks']) {
      await page.goto(`${server.url}${path}`);
      const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
      assert.ok(width <= 1280, `${path} is ${width} px wide`);
    }
    await screenshot(page, '20-long-values');
  });

  test('on a 390 px phone the header wraps: every link and Sign out are on screen', async () => {
    const { page } = alice;
    await page.setViewportSize({ width: 390, height: 800 });
    try {
      await page.goto(`${server.url}/tasks`);
      for (const control of [page.getByRole('link', { name: 'Events' }), page.getByRole('button', { name: 'Sign out' })]) {
        const box = await control.boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${await control.textContent()} at ${JSON.stringify(box)}`);
      }
      assert.ok(Number(await page.evaluate('document.documentElement.scrollWidth')) <= 390);
      await screenshot(page, '21-phone-tasks');
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });
});
