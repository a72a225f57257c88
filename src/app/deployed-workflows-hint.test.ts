import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deployedWorkflowsHint } from './operations-impl.js';

test('the hint of an unknown workflow lists the deployed ones sorted, at most 20, and says how to see the rest', () => {
  assert.equal(deployedWorkflowsHint(['triage', 'deploy']), 'deployed: deploy, triage');
  const many = Array.from({ length: 23 }, (_, i) => `wf-${String(i).padStart(2, '0')}`).reverse();
  const hint = deployedWorkflowsHint(many);
  assert.match(hint, /^deployed: wf-00, wf-01, .*, wf-19 and 3 more \(autoflow workflows lists them\)$/);
  assert.doesNotMatch(hint, /wf-20/);
  assert.match(deployedWorkflowsHint([]), /^no workflow is deployed/);
});
