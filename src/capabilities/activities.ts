import { CapabilityError, PermissionDeniedError, jsonDetailsOf, toError } from '../core/errors.js';
import type { Json } from '../core/model.js';
import type { Capability, CapabilityContext } from '../core/ports.js';

/** What an operator-registered activity receives besides its arguments. */
export interface ActivityContext {
  /** `<runId>:<step>`, the same for every attempt: pass it on to make the effect idempotent. */
  idempotencyKey: string;
  runId: string;
  workflow: string;
  attempt: number;
  /**
   * Aborts when the attempt is given up: its run ended, the call's `timeoutMs` passed, or the server
   * is stopping. Pass it to `fetch` and the like; whatever the activity returns after is discarded.
   */
  signal: AbortSignal;
}

export type ActivityFunction = (args: unknown, context: ActivityContext) => Promise<unknown>;

/**
 * What an activity threw, as the workflow receives it: the original's name, message, details and
 * cause, so that `e.name === 'TicketError'` and `e.details.ticket` work there. Its code,
 * `activity_failed`, is added to the details unless they have a `code` of their own.
 */
export class ActivityError extends CapabilityError {
  constructor(original: Error, retryable: boolean) {
    const details = jsonDetailsOf((original as { details?: unknown }).details);
    super('activity_failed', original.message, {
      retryable,
      ...(original.cause !== undefined && { cause: original.cause }),
      ...(details !== undefined && { details }),
    });
    this.name = original.name;
    // Where in the activity it was thrown, for the server's logs (history keeps no host stacks).
    if (original.stack !== undefined) this.stack = original.stack;
  }
}

/**
 * What `activities` checks before calling one: `permissions.activities`. A mocked `activities` runs it too
 * (autoflow/testing), so that a test fails where production would.
 */
export function checkActivityAllowed(name: string, context: CapabilityContext): void {
  if (!context.permissions.activities?.includes(name)) {
    throw new PermissionDeniedError(`workflow '${context.workflow}' may not call activity '${name}': add it to permissions.activities`, {
      activity: name,
    });
  }
}

export interface ActivitiesCapabilityOptions {
  /**
   * What the error of an activity that is not registered says to do, where activities come from elsewhere than a
   * server's configuration (autoflow/testing: `createTestEnv({ activities })`).
   * @default name => 'add it to activities in autoflow.config.ts'
   */
  howToRegister?: (name: string) => string;
}

const registerOnServer = (): string => 'add it to activities in autoflow.config.ts';

/**
 * Trusted TypeScript functions from `autoflow.config.ts`, callable from workflows that list them
 * in `permissions.activities`. A thrown error is retried unless it carries `nonRetryable: true`.
 */
export function createActivitiesCapability(
  activities: Readonly<Record<string, ActivityFunction>>,
  options: ActivitiesCapabilityOptions = {},
): Capability {
  const howToRegister = options.howToRegister ?? registerOnServer;
  return {
    name: 'activities',
    async invoke(name, args, context): Promise<Json> {
      checkActivityAllowed(name, context);
      const activity = Object.hasOwn(activities, name) ? activities[name] : undefined;
      if (!activity) {
        throw new CapabilityError('unknown_activity', `no activity '${name}' is registered; ${howToRegister(name)}`, { retryable: false });
      }
      try {
        const value = await activity(args, {
          idempotencyKey: context.idempotencyKey,
          runId: context.runId,
          workflow: context.workflow,
          attempt: context.attempt,
          signal: context.signal,
        });
        return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as Json);
      } catch (caught) {
        const nonRetryable = (caught as { nonRetryable?: unknown } | null)?.nonRetryable === true;
        throw new ActivityError(toError(caught), !nonRetryable);
      }
    },
  };
}
