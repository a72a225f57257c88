import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { describeInBrowser, screenshot } from '../browser/browser.js';
import { UI_WORKFLOWS } from '../helpers/ui-server.js';

const WORKFLOWS: Record<string, string> = {
  ...UI_WORKFLOWS,
  'ui-checklist.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({
  name: 'ui-checklist',
  async run(input: { assignees: string[] }) {
    return tasks.form({
      title: 'Release checklist',
      assignees: input.assignees,
      fields: [
        { name: 'who', label: 'Who checked', type: 'text', minLength: 4 },
        { name: 'notes', label: 'Notes', type: 'textarea', maxLength: 100 },
        { name: 'agree', label: 'I have read the runbook', type: 'boolean', required: true },
      ],
    });
  },
});`,
  'ui-self-approval.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({
  name: 'ui-self-approval',
  async run() {
    return tasks.approval({ title: 'My own change', approvers: ['bob', 'carol'], initiator: '@Bob' });
  },
});`,
  'ui-brief.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({
  name: 'ui-brief',
  async run() {
    return tasks.form({ title: 'Gone in a second', assignees: ['bob'], timeout: 500, fields: [{ name: 'x', label: 'X', type: 'text' }] });
  },
});`,
};

/** 100 characters as the browser counts them, nine of them line breaks (which it posts as \r\n). */
const NOTES = Array.from({ length: 10 }, (_, index) => `line ${index}...`).join('\n') + 'x';

/** What people type, and what reaches the workflow, in a real browser; pages that read on a phone and in one's own time zone. */
describeInBrowser(
  'web UI answers and pages in headless Chromium',
  { users: ['bob', 'carol'], workflows: WORKFLOWS },
  ({ server, users: { bob, carol } }) => {
    const ops = () => server.runtime.operations;
    async function openChecklist(assignees: string[]) {
      const { run } = await ops().startRun({ workflow: 'ui-checklist', input: { assignees } });
      return { run, task: await server.firstTaskOf(run.id) };
    }
    /** A page that hears of no change: its form stays as it was loaded, as on a slow or sleeping connection. */
    async function withoutLiveUpdates(page: Page) {
      await page.route('**/live**', (route) => route.abort());
    }

    test('a required checkbox is marked and must be ticked; line breaks count once; a one-line answer is trimmed', async () => {
      const { page } = bob;
      const { run, task } = await openChecklist(['bob']);
      assert.equal(NOTES.length, 100);
      await page.goto(`${server.url}${task.path}`);
      assert.equal(await page.locator('label:has(#f-agree) .req').count(), 1, 'the box carries the required marker');
      await page.locator('#f-who').fill('   a');
      await page.locator('#f-notes').fill(NOTES);
      await page.getByRole('button', { name: 'Submit' }).click();
      await page.locator('#e-agree').waitFor();
      assert.equal(await page.locator('#e-agree').textContent(), 'must be ticked');
      assert.equal(await page.locator('#e-who').textContent(), 'must be at least 4 characters', 'blanks are no characters');
      assert.equal(await page.locator('#e-notes').count(), 0, 'the 100 characters typed are 100, not 109');
      await screenshot(page, 'answers-01-required-checkbox');

      await page.locator('#f-who').fill('  bobby  ');
      await page.locator('#f-agree').check();
      await page.getByRole('button', { name: 'Submit' }).click();
      await page.getByRole('heading', { name: /Submitted by @bob/ }).waitFor();
      const { result } = await ops().waitForRun(run.id, 10_000);
      assert.deepEqual((result as { values: unknown }).values, { who: 'bobby', notes: NOTES, agree: true });

      await page.goto(`${server.url}/runs/${run.id}`);
      await page.locator('#run-history li', { hasText: 'submitted by @bob' }).waitFor();
    });

    test('an answer refused because another assignee was first stays on the page to copy', async () => {
      const { page } = carol;
      const { task } = await openChecklist(['bob', 'carol']);
      await withoutLiveUpdates(page);
      try {
        await page.goto(`${server.url}${task.path}`);
        await page.locator('#f-who').fill('carol, who checked twice');
        await page.locator('#f-notes').fill('a long\ncareful note');
        await page.locator('#f-agree').check();
        await ops().submitTask(task.id, { by: 'bob', values: { who: 'bobby', notes: 'first', agree: true } });
        const [response] = await Promise.all([
          page.waitForResponse((answer) => answer.request().method() === 'POST'),
          page.getByRole('button', { name: 'Submit' }).click(),
        ]);
        assert.equal(response.status(), 409);
        await page.locator('#unsaved-answer').waitFor();
        assert.equal(await page.locator('#unsaved-answer dd[data-unsaved="who"]').textContent(), 'carol, who checked twice');
        assert.equal(await page.locator('#unsaved-answer dd[data-unsaved="notes"]').innerText(), 'a long\ncareful note');
        assert.equal(await page.locator('dd[data-answer="who"]').textContent(), 'bobby', 'beside the answer that counts');
        await screenshot(page, 'answers-02-refused-kept');
      } finally {
        await page.unroute('**/live**');
      }
    });

    test('the initiator written @Bob may reject but not approve', async () => {
      const { page } = bob;
      const { run } = await ops().startRun({ workflow: 'ui-self-approval' });
      const task = await server.firstTaskOf(run.id);
      await page.goto(`${server.url}${task.path}`);
      assert.equal(await page.getByRole('button', { name: 'Approve' }).isDisabled(), true);
      assert.equal(await page.getByRole('button', { name: 'Reject' }).isEnabled(), true);
      await ops().cancelRun(run.id);
    });

    test('on a 390 px phone the task and run lists stack their cells instead of breaking words letter by letter', async () => {
      const { page } = bob;
      await openChecklist(['bob']);
      await page.setViewportSize({ width: 390, height: 800 });
      try {
        for (const path of ['/tasks', '/runs']) {
          await page.goto(`${server.url}${path}`);
          const boxes = await Promise.all((await page.locator('table.stack tbody td').all()).map((cell) => cell.boundingBox()));
          const widths = boxes.map((box) => box?.width ?? 0);
          assert.ok(widths.length > 0, path);
          assert.ok(Math.min(...widths) > 300, `${path}: the narrowest cell is ${Math.min(...widths)} px`);
          assert.ok(Number(await page.evaluate('document.documentElement.scrollWidth')) <= 390, path);
          await screenshot(page, `answers-03-phone${path.replace('/', '-')}`);
        }
      } finally {
        await page.setViewportSize({ width: 1280, height: 900 });
      }
    });

    test("times show in the browser's own zone, named; a status reads as words", async () => {
      const { page } = bob;
      const { run } = await ops().startRun({ workflow: 'ui-brief' });
      const { status } = await server.until(
        () => server.firstTaskOf(run.id),
        (task) => task.status === 'timed_out',
      );
      assert.equal(status, 'timed_out');
      const task = await server.firstTaskOf(run.id);
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Emulation.setTimezoneOverride', { timezoneId: 'Asia/Kolkata' });
      try {
        await page.goto(`${server.url}${task.path}`);
        const opened = page.locator('time').first();
        await page.locator('time[data-local]').first().waitFor({ state: 'attached' });
        const utc = new Date((await opened.getAttribute('datetime')) ?? '');
        const kolkata = new Date(utc.getTime() + 330 * 60_000).toISOString().replace('T', ' ').slice(0, 19);
        assert.match((await opened.textContent()) ?? '', new RegExp(`^${kolkata} (IST|GMT\\+5:30)$`));
        assert.match((await opened.getAttribute('title')) ?? '', / UTC$/, 'the UTC time stays in the tooltip');
        assert.equal(await page.locator('#task-status .badge').textContent(), 'timed out');
      } finally {
        await cdp.send('Emulation.setTimezoneOverride', { timezoneId: '' });
        await cdp.detach();
      }
    });

    test('a post from another site is refused as such; from another origin of this site, on the normal page', async () => {
      const { page } = bob;
      const { task } = await openChecklist(['bob']);
      const evil = (origin: string) =>
        page.route(`${origin}/**`, (route) =>
          route.fulfill({
            contentType: 'text/html',
            body: `<form method="post" action="${server.url}${task.path}"><input name="who" value="forged"></form><script>document.forms[0].submit()</script>`,
          }),
        );
      // Another site: the browser sends no cookie (SameSite=Lax), so nobody seems signed in.
      await evil('http://evil.test');
      await page.goto('http://evil.test/');
      await page.waitForURL(`${server.url}${task.path}`);
      assert.match(await page.locator('main').innerText(), /posted from another site \(http:\/\/evil\.test\)/);
      assert.doesNotMatch(await page.locator('main').innerText(), /session has ended/);
      // The same site on another port: the cookie comes along, the Origin does not match.
      const sibling = new URL(server.url);
      sibling.port = '65000';
      await evil(sibling.origin);
      await page.goto(`${sibling.origin}/`);
      await page.waitForURL(`${server.url}${task.path}`);
      assert.match(
        await page.locator('main').innerText(),
        new RegExp(`posted from another site \\(${sibling.origin.replace(/[.]/g, '\\.')}\\)`),
      );
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 1, 'the normal page, with the signed-in header');
      assert.equal((await ops().getTask(task.id)).status, 'open');
      await page.unrouteAll();
    });

    // Last: it signs carol out.
    test('a post after signing out in another tab shows what was typed, to copy', async () => {
      const { page, context } = carol;
      const { task } = await openChecklist(['carol']);
      await page.goto(`${server.url}${task.path}`);
      await page.locator('#f-notes').fill('typed before\nthe sign-out');
      const other = await context.newPage();
      await other.goto(`${server.url}/tasks`);
      await other.getByRole('button', { name: 'Sign out' }).click();
      await other.waitForURL(/\/auth\/login/);
      await other.close();
      await page.getByRole('button', { name: 'Submit' }).click();
      await page.getByRole('heading', { name: 'Your session has ended' }).waitFor();
      assert.equal(await page.locator('#unsaved-answer dt:text-is("notes") + dd').innerText(), 'typed before\nthe sign-out');
      assert.equal(await page.getByText('_csrf').count(), 0, 'the form token is not shown');
    });
  },
);
