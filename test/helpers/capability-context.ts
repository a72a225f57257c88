import type { CapabilityContext } from '../../src/core/ports.js';

/** What a capability is given for step 1, attempt 1 of run r1 of workflow wf, with `overrides`. */
export function capabilityContext(overrides: Partial<CapabilityContext> = {}): CapabilityContext {
  return {
    runId: 'r1',
    step: 1,
    attempt: 1,
    idempotencyKey: 'r1:1',
    workflow: 'wf',
    permissions: {},
    now: 0,
    signal: new AbortController().signal,
    ...overrides,
  };
}
