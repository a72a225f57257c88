import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CapabilityError, ConflictError, NotFoundError, PermissionDeniedError } from '../core/errors.js';
import { IDEMPOTENCY_KEY_PATTERN } from '../core/idempotency-key.js';
import type { Json } from '../core/model.js';
import type { Capability } from '../core/ports.js';
import { SIGNAL_NAME_PATTERN, SIGNAL_NAME_RULE } from '../core/signal-name.js';
import { parseArgs } from './args.js';

/** A bound on what a call may carry: above the ids the server makes (a child's default id is its parent's + `.<step>`). */
const MAX_RUN_ID_CHARS = 500;

const sendSchema = z.object({
  runId: z.string().min(1).max(MAX_RUN_ID_CHARS),
  name: z.string().regex(SIGNAL_NAME_PATTERN, SIGNAL_NAME_RULE),
  payload: z.unknown().optional(),
});

/**
 * The call's idempotency key as a signal's (`Idempotency-Key` takes at most 255 characters): a child of a child of a
 * run with a long id has a longer one, which stands in as its hash.
 */
function signalKeyOf(callKey: string): string {
  return IDEMPOTENCY_KEY_PATTERN.test(callKey) ? callKey : `sha256:${createHash('sha256').update(callKey).digest('hex')}`;
}

/** What the `signals` capability needs of the server: the API's own signal path (Operations.signalRun). */
export interface SignalSender {
  /** The workflow of run `runId`, undefined when there is no such run. */
  workflowOf(runId: string): Promise<string | undefined>;
  /**
   * Sends signal `name` to run `runId` as Operations.signalRun does, from a run of `fromWorkflow`: under
   * `idempotencyKey`, a second send is not delivered again. Resolves with the run that received it (the latest of a
   * continued chain). Throws NotFoundError for no such run, ConflictError for one that ended.
   */
  send(
    runId: string,
    name: string,
    payload: Json | undefined,
    options: { idempotencyKey: string; fromWorkflow: string },
  ): Promise<{ runId: string }>;
}

/**
 * `sendSignal(runId, name, payload?)`: a run signals another, as `autoflow signal` does, when the target's workflow is
 * in the sender's `permissions.signals` (a signal can approve a gate: not every workflow may send one to every run).
 * The call's idempotency key is the signal's, so a call made again (a retry, a lost lease) delivers it once. The
 * payload is stored as given: secrets stay `{{secret:NAME}}` references, revealed only to a run that may read them.
 */
export function createSignalsCapability(sender: SignalSender): Capability {
  return {
    name: 'signals',
    storesArguments: true,
    async invoke(method, raw, context): Promise<Json> {
      if (method !== 'send') throw new CapabilityError('unknown_method', `signals has no method '${method}'`, { retryable: false });
      const args = parseArgs(sendSchema, raw, 'sendSignal');
      const call = `sendSignal(${JSON.stringify(args.runId)}, ${JSON.stringify(args.name)})`;
      const workflow = await sender.workflowOf(args.runId);
      if (workflow === undefined) {
        throw new CapabilityError('run_not_found', `${call}: run '${args.runId}' does not exist`, { retryable: false });
      }
      if (!context.permissions.signals?.includes(workflow)) {
        throw new PermissionDeniedError(
          `workflow '${context.workflow}' may not signal runs of workflow '${workflow}': add '${workflow}' to permissions.signals`,
        );
      }
      try {
        const delivered = await sender.send(args.runId, args.name, args.payload as Json | undefined, {
          idempotencyKey: signalKeyOf(context.idempotencyKey),
          fromWorkflow: context.workflow,
        });
        return { runId: delivered.runId };
      } catch (caught) {
        // Sending again would not change either answer: the workflow gets it at once, to handle.
        if (caught instanceof ConflictError || caught instanceof NotFoundError) {
          throw new CapabilityError(caught instanceof ConflictError ? 'run_ended' : 'run_not_found', `${call}: ${caught.message}`, {
            retryable: false,
          });
        }
        throw caught;
      }
    },
  };
}
