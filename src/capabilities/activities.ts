import { CapabilityError, MAX_CAUSE_CHARS, PermissionDeniedError, jsonDetailsOf, toError } from '../core/errors.js';
import { lostDataProblem } from '../core/call-executor.js';
import type { Json } from '../core/model.js';
import type { Capability, CapabilityContext, SecretSource } from '../core/ports.js';
import { secretValuesOf } from '../core/secrets.js';
import { cutText } from '../core/text-cut.js';
import { HTTP_MAX_RESPONSE_BYTES } from './http.js';

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
 * `activity_failed`, is added to the details unless they have a `code` of their own. Bounded as a
 * cause is (errors.ts): the message cut at MAX_CAUSE_CHARS, outside `secretValues`, and details
 * whose JSON is longer left out, since an error explains and does not carry data.
 */
export class ActivityError extends CapabilityError {
  constructor(original: Error, retryable: boolean, secretValues: readonly string[] = []) {
    const details = jsonDetailsOf((original as { details?: unknown }).details, MAX_CAUSE_CHARS);
    super('activity_failed', cutText(original.message, MAX_CAUSE_CHARS, secretValues), {
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
 * As much as an http.request answer may be: an activity is the other way to bring data in, and its result is recorded
 * in the run's history, served back whole.
 */
export const MAX_ACTIVITY_RESULT_BYTES = HTTP_MAX_RESPONSE_BYTES;

/** Where in a value the first BigInt is (`result.items[2].size`), which JSON.stringify's error does not say. */
function bigIntPath(value: unknown, path = 'result', seen = new Set<object>()): string | undefined {
  if (typeof value === 'bigint') return path;
  if (typeof value !== 'object' || value === null || seen.has(value)) return undefined;
  seen.add(value);
  for (const [key, inner] of Object.entries(value)) {
    const found = bigIntPath(inner, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * An activity's result as JSON, refused for good when it is not JSON or is too large: the activity did its work, and
 * trying again would only do it again.
 */
function resultOf(name: string, value: unknown): Json {
  if (value === undefined) return null;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (caught) {
    const where = bigIntPath(value);
    const why =
      where === undefined ? toError(caught).message.replace(/\s+/g, ' ') : `${where} is a BigInt (turn it into a string or a number)`;
    throw new CapabilityError('result_not_json', `activity '${name}' returned a result that is not JSON: ${why}; return plain data`, {
      retryable: false,
    });
  }
  if (json === undefined) {
    throw new CapabilityError('result_not_json', `activity '${name}' returned a ${typeof value}, which is not JSON; return plain data`, {
      retryable: false,
    });
  }
  const lost = lostDataProblem(value, json);
  if (lost !== undefined) {
    throw new CapabilityError('result_not_json', `activity '${name}' returned a result that is not JSON: ${lost}; return plain data`, {
      retryable: false,
    });
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_ACTIVITY_RESULT_BYTES) {
    throw new CapabilityError(
      'result_too_large',
      `activity '${name}' returned ${bytes} bytes of JSON, more than the ${MAX_ACTIVITY_RESULT_BYTES} bytes an activity's result may have: return less (a page, a summary) or a reference to where the data is kept`,
      { retryable: false, details: { bytes, maxBytes: MAX_ACTIVITY_RESULT_BYTES } },
    );
  }
  return JSON.parse(json) as Json;
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
  /** The configured secrets: an error's message is cut before a value rather than through it (cutText's `keepWhole`). */
  secrets?: SecretSource;
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
      let value: unknown;
      try {
        value = await activity(args, {
          idempotencyKey: context.idempotencyKey,
          runId: context.runId,
          workflow: context.workflow,
          attempt: context.attempt,
          signal: context.signal,
        });
      } catch (caught) {
        const nonRetryable = (caught as { nonRetryable?: unknown } | null)?.nonRetryable === true;
        throw new ActivityError(toError(caught), !nonRetryable, options.secrets ? secretValuesOf(options.secrets) : []);
      }
      return resultOf(name, value);
    },
  };
}
