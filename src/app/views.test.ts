import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeployedDefinition } from '../core/model.js';
import { toWorkflowView } from './views.js';

test('a workflow view (API, CLI, web UI) names its file by its name in the workflows folder, not its path on the server', () => {
  const definition: DeployedDefinition = {
    version: 'v1',
    name: 'hello',
    manifest: { name: 'hello', triggers: [], permissions: {}, validatesInput: false },
    bundle: '',
    origin: '/srv/autoflow/workflows/hello.ts',
    deployedAt: 0,
  };
  assert.equal(toWorkflowView(definition, []).origin, 'hello.ts');
  assert.equal(toWorkflowView({ ...definition, origin: 'C:\\flows\\hello.ts' }, []).origin, 'hello.ts');
});

test("a workflow view gives each schedule's next fire time, summer time included; none without a schedule", () => {
  const definition: DeployedDefinition = {
    version: 'v1',
    name: 'weekly',
    manifest: {
      name: 'weekly',
      triggers: [{ event: 'com.gitlab.events.push' }, { cron: '0 9 * * 1', timezone: 'Europe/Berlin' }, { cron: '0 6 * * *' }],
      permissions: {},
      validatesInput: false,
    },
    bundle: '',
    deployedAt: 0,
  };
  // Friday 27 March 2026, the weekend Berlin moves to summer time: Monday 09:00 there is 07:00 UTC.
  const now = Date.UTC(2026, 2, 27, 12, 0, 0);
  assert.deepEqual(toWorkflowView(definition, [], [], now).schedules, [
    { cron: '0 9 * * 1', timezone: 'Europe/Berlin', next: '2026-03-30T07:00:00.000Z' },
    { cron: '0 6 * * *', timezone: 'UTC', next: '2026-03-28T06:00:00.000Z' },
  ]);
  assert.equal(toWorkflowView({ ...definition, manifest: { ...definition.manifest, triggers: [] } }, [], [], now).schedules, undefined);
});
