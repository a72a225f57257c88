/**
 * What a parent receives when its child run ends without a result, and how a retry of the parent tells that the
 * failure it would hand back again is one the parent failed with.
 */
import { causeChainOf, MAX_CAUSE_CHARS } from './errors.js';
import type { ErrorInfo, RunRecord } from './model.js';
import { cutText } from './text-cut.js';

/** The name of the error a parent receives for a child that failed (Temporal's ChildWorkflowFailure). */
export const CHILD_RUN_FAILED_ERROR = 'ChildRunFailedError';

type ChildRun = Pick<RunRecord, 'id' | 'workflow'>;

/**
 * The error a parent receives for a child run that ended `failed` or `cancelled`. A failure is wrapped, so that the
 * parent's own error (when it does not catch it) names the child rather than passing for one the parent threw; the
 * child's error, whole, is its `cause`. A cancellation keeps its own error, which names the run already.
 * `error` is the child's, redacted: the message quoted here is cut, and a cut must not split a secret in two.
 */
export function childEndError(child: ChildRun, status: 'failed' | 'cancelled', error: ErrorInfo | undefined): ErrorInfo {
  if (status === 'cancelled') return error ?? { name: 'CancelledError', message: `child run ${child.id} was cancelled` };
  const cause = error ?? { name: 'Error', message: 'no error was recorded' };
  return {
    name: CHILD_RUN_FAILED_ERROR,
    message: `child run ${child.id} (workflow ${child.workflow}) failed: ${cause.name}: ${cutText(cause.message, MAX_CAUSE_CHARS)}`,
    details: { code: 'child_run_failed', childId: child.id, workflow: child.workflow },
    cause,
  };
}

/**
 * Whether `runError`, a parent's, is the failure of `child`: a ChildRunFailedError naming it, itself or as a cause
 * (a workflow that wrapped it), or — for parents that failed before failures were wrapped — the child's error as is.
 */
export function failedWith(runError: ErrorInfo | undefined, child: Pick<RunRecord, 'id' | 'error'>): boolean {
  if (runError === undefined) return false;
  const named = causeChainOf(runError).some(
    (link) => link.name === CHILD_RUN_FAILED_ERROR && (link.details as { childId?: unknown } | undefined)?.childId === child.id,
  );
  const { error } = child;
  return named || (error !== undefined && runError.name === error.name && runError.message === error.message);
}
