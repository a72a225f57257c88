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
