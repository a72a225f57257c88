import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { describeInBrowser, screenshot } from './browser.js';

const WORKFLOWS: Record<string, string> = {
  'ui-quick.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'ui-quick', async run(input: { n: number }) { return input.n; } });`,
  'ui-other.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'ui-other', async run() { return 'other'; } });`,
};

/** The ids of the runs a runs page lists, in order. */
const listed = (page: Page) =>
  page
    .locator('table.runs tbody tr')
    .evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { run: string } }).dataset.run));

const SUITE = { users: ['alice'] as const, workflows: WORKFLOWS };

/** The runs list: paging forwards and back through the keyset pages, with the filter kept. */
describeInBrowser('web UI runs list in headless Chromium', SUITE, ({ server, users: { alice } }) => {
  const ops = () => server.runtime.operations;

  test('the runs list pages forwards and back, to the previous and the first page, keeping its filter', async () => {
    const { page } = alice;
    // 101 runs that match the filter (three pages of 50), among runs of another workflow that do not.
    const started = [];
    for (let n = 0; n < 101; n++) {
      started.push((await ops().startRun({ workflow: 'ui-quick', input: { n } })).run.id);
      if (n % 25 === 0) started.push((await ops().startRun({ workflow: 'ui-other' })).run.id);
    }
    await Promise.all(started.map((id) => ops().waitForRun(id, 20_000)));
    const filter = { workflow: 'ui-quick', status: 'completed' };
    const keepsFilter = () => {
      const params = new URL(page.url()).searchParams;
      assert.deepEqual([params.get('workflow'), params.get('status')], [filter.workflow, filter.status], `${page.url()} keeps the filter`);
    };
    const link = (name: string) => page.locator('.pager').getByRole('link', { name, exact: true });
    /** Follows a pager link; the runs of the page it leads to. */
    const follow = async (name: string) => {
      const from = page.url();
      await link(name).click();
      await page.waitForURL((url) => url.href !== from);
      keepsFilter();
      return listed(page);
    };

    await page.goto(`${server.url}/runs?${new URLSearchParams(filter).toString()}`);
    const first = await listed(page);
    assert.equal(first.length, 50);
    assert.equal(await link('‹ previous page').count(), 0, 'the first page has nothing before it');
    const second = await follow('next page »');
    const third = await follow('next page »');
    assert.deepEqual([second.length, third.length], [50, 1]);
    assert.equal(new Set([...first, ...second, ...third]).size, 101, 'no run is listed twice');
    assert.equal(await link('next page »').count(), 0, 'the last page');
    assert.equal(await link('‹ previous page').count(), 1, 'the last page leads back a page');
    assert.equal(await page.getByRole('navigation', { name: 'Pages of runs' }).count(), 1, 'the links are a named landmark');
    await screenshot(page, '14-runs-last-page');

    assert.deepEqual(await follow('‹ previous page'), second, 'previous page: the second page again');
    assert.deepEqual(await follow('‹ previous page'), first, 'and then the first');
    assert.equal(await link('‹ previous page').count(), 0);

    await page.goBack();
    assert.deepEqual(await listed(page), second, 'the browser’s Back goes back a page too');
    assert.deepEqual(await follow('« first page'), first);
  });
});
