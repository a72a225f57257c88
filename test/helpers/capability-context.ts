import type { CapabilityContext } from '../../src/core/ports.js';

/** What a capability is given for step 1, attempt 1 (or `overrides.attempt`) of run r1 of workflow wf, with `overrides`. */
export function capabilityContext(overrides: Partial<CapabilityContext> = {}): CapabilityContext {
  const attempt = overrides.attempt ?? 1;
  return {
    runId: 'r1',
    step: 1,
    attempt,
    // As the call executor has it for a call its run's retry did not make again.
    attemptedBefore: attempt > 1,
    idempotencyKey: 'r1:1',
    workflow: 'wf',
    permissions: {},
    now: 0,
    signal: new AbortController().signal,
    ...overrides,
  };
}
