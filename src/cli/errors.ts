import { CommanderError } from 'commander';
import { AutoflowError, ConfigError, toError, ValidationError } from '../core/errors.js';

/** The command line itself is wrong: a bad flag value, a missing argument, flags that exclude each other. */
export class UsageError extends AutoflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('usage', message, options);
  }
}

/** `run --wait --timeout` passed and the run goes on: not a failure of the run, and a script may wait again. */
export class StillRunningError extends AutoflowError {
  constructor(message: string) {
    super('still_running', message);
  }
}

/**
 * Exit codes: 0 success, 2 the invocation or a value in it is wrong (fix the command line or the
 * configuration), 124 `run --wait --timeout` passed while the run goes on (as `timeout(1)`), 1
 * anything else failed (the server, the run, the network).
 */
export function exitCodeOf(error: Error): number {
  if (error instanceof StillRunningError) return 124;
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof UsageError || error instanceof ValidationError || error instanceof ConfigError) return 2;
  return 1;
}

/**
 * What the user sees of an error: `error: <message>`, plus the stack and causes with `--debug`.
 * Commander prints its own parse errors, so they are not repeated.
 */
export function describeError(error: Error, debug: boolean): string | undefined {
  if (error instanceof CommanderError) return undefined;
  if (!debug) return `error: ${error.message}`;
  const lines = [`error: ${error.stack ?? error.message}`];
  for (let cause = error.cause; cause !== undefined; cause = cause instanceof Error ? cause.cause : undefined) {
    const causeError = toError(cause);
    lines.push(`caused by: ${causeError.stack ?? causeError.message}`);
  }
  return lines.join('\n');
}
