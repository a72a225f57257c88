/**
 * Errors that workflow code sees. Across the sandbox boundary errors travel as ErrorInfo
 * `{name, message, stack, details, cause}` and are matched by `name`, never by class identity.
 */
import { causeInfoOf, ownDetailsOf } from '../core/errors.js';
import type { ErrorInfo, Json } from '../core/model.js';

/** Rejects every durable operation that was pending when the run was cancelled. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  readonly reason?: string;
  constructor(reason?: string) {
    super(reason ? `The run was cancelled: ${reason}` : 'The run was cancelled');
    if (reason !== undefined) this.reason = reason;
  }
}

/** Thrown by APIs that cannot be made deterministic (`setTimeout`, `setInterval`…). */
export class NondeterministicApiError extends Error {
  override readonly name = 'NondeterministicApiError';
}

/**
 * An error that happened outside the sandbox: a failed call or child run. `name`, `message`,
 * `details` and `cause` (a RemoteError too) are the original's, so `catch (e) { if (e.name === 'HttpError') … }` works.
 * A failed child's is a `ChildRunFailedError` naming the child, whose `cause` is the child's error (core/child-failure.ts).
 */
export class RemoteError extends Error {
  readonly details?: Json;
  /** The stack where it happened, outside the sandbox, when known. */
  readonly remoteStack?: string;
  constructor(info: ErrorInfo) {
    super(info.message, info.cause === undefined ? undefined : { cause: new RemoteError(info.cause) });
    this.name = info.name;
    if (info.details !== undefined) this.details = info.details;
    if (info.stack !== undefined) this.remoteStack = info.stack;
  }
}

/** The author's input failed the definition's validator when the run started. */
export class InputValidationError extends Error {
  override readonly name = 'ValidationError';
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`The run's input is invalid: ${issues.join('; ')}`);
    this.issues = issues;
  }
}

/**
 * Thrown by `continueAsNew()`; the runtime turns it into a `continueAsNew` command. Not exported
 * from 'autoflow': authors never construct or catch it on purpose.
 */
export class ContinueAsNewSignal extends Error {
  override readonly name = 'ContinueAsNew';
  readonly input: Json;
  constructor(input: Json) {
    super('continueAsNew() was called: the run continues as a new run');
    this.input = input;
  }
}

/** The boundary form of anything thrown inside the sandbox. */
export function errorInfoOf(value: unknown): ErrorInfo {
  if (!(value instanceof Error)) {
    let text: string;
    try {
      text = typeof value === 'string' ? value : `non-error thrown: ${JSON.stringify(value)}`;
    } catch {
      text = `non-error thrown: ${String(value)}`;
    }
    return { name: 'Error', message: text };
  }
  const info: ErrorInfo = { name: value.name, message: value.message };
  if (value.stack) info.stack = value.stack;
  const details = ownDetailsOf(value);
  if (details !== undefined) info.details = details;
  const cause = causeInfoOf(value.cause, ownDetailsOf);
  if (cause !== undefined) info.cause = cause;
  return info;
}
