import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RELEASE_WORKFLOW } from '../helpers/ui-server.js';
import { describeInBrowser, screenshot } from './browser.js';

describeInBrowser(
  'starting a run from the form of its input schema, in headless Chromium',
  { users: ['alice'], workflows: { 'ui-release.ts': RELEASE_WORKFLOW } },
  ({ server, users: { alice } }) => {
    test('the fields come filled with the defaults; a refused start keeps what was typed; a valid one starts the run with typed values', async () => {
      const { page } = alice;
      await page.goto(`${server.url}/workflows`);
      const section = page.locator('#start-ui-release');
      await section.getByText('Start a run', { exact: true }).click();
      assert.equal(await section.getByLabel('environment').inputValue(), 'staging', 'the default is chosen');
      assert.equal(await section.getByLabel('replicas').inputValue(), '2');
      assert.equal(await section.getByLabel('dryRun').isChecked(), true);

      await section.getByLabel('environment').selectOption('production');
      await section.getByLabel('Release tag').fill('latest');
      await section.getByLabel('dryRun').uncheck();
      await section.getByLabel('us').check();
      await screenshot(page, '14-start-run-form');
      await section.getByRole('button', { name: 'Start' }).first().click();
      await page.getByText('/tag: must match pattern').waitFor();
      const refused = page.locator('#start-ui-release');
      assert.equal(await refused.getByLabel('Release tag').inputValue(), 'latest', 'what was typed stays');
      assert.equal(await refused.getByLabel('environment').inputValue(), 'production');
      assert.equal(await refused.getByLabel('dryRun').isChecked(), false);

      await refused.getByLabel('Release tag').fill('v2.0');
      await refused.getByRole('button', { name: 'Start' }).first().click();
      await page.getByRole('status').getByText('The run is started.').waitFor();
      const runId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1) ?? '');
      assert.deepEqual((await server.runtime.operations.waitForRun(runId, 10_000)).result, {
        environment: 'production',
        tag: 'v2.0',
        replicas: 2,
        dryRun: false,
        regions: ['us'],
      });
    });
  },
);
