import type { ErrorInfo, Json } from './model.js';

/**
 * The root of AutoFlow's typed errors. `code` is stable and machine-readable; the message says
 * what went wrong and what to do next; `details` carries the data a caller needs to act on it.
 */
export class AutoflowError extends Error {
  readonly code: string;
  readonly details?: Json;

  constructor(code: string, message: string, options?: { cause?: unknown; details?: Json }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options?.details !== undefined) this.details = options.details;
  }
}

export class NotFoundError extends AutoflowError {
  /** `hint` says what does exist or where to look, when the caller knows. */
  constructor(what: string, id: string, hint?: string) {
    super('not_found', `${what} '${id}' does not exist${hint ? `; ${hint}` : ''}`, { details: hint ? { what, id, hint } : { what, id } });
  }
}

export class ValidationError extends AutoflowError {
  readonly issues: string[];
  /** Messages by form field name, when the invalid input was a form. */
  readonly fields?: Record<string, string>;
  constructor(message: string, issues: string[] = [], fields?: Record<string, string>) {
    super('invalid', issues.length ? `${message}: ${issues.join('; ')}` : message, { details: fields ? { issues, fields } : { issues } });
    this.issues = issues;
    if (fields) this.fields = fields;
  }
}

export class ConflictError extends AutoflowError {
  constructor(message: string, details?: Json) {
    super('conflict', message, details === undefined ? undefined : { details });
  }
}

export class UnauthorizedError extends AutoflowError {
  constructor(message: string) {
    super('unauthorized', message);
  }
}

export class ForbiddenError extends AutoflowError {
  constructor(message: string, details?: Json) {
    super('forbidden', message, details === undefined ? undefined : { details });
  }
}

/** A workflow asked a capability for something its `permissions` do not grant. Never retried. */
export class PermissionDeniedError extends AutoflowError {
  constructor(message: string, details?: Json) {
    super('permission_denied', message, details === undefined ? undefined : { details });
  }
}

/** A workflow file that cannot be bundled or whose `workflow({...})` declaration is invalid. */
export class DefinitionError extends AutoflowError {
  constructor(message: string, options?: { cause?: unknown; details?: Json }) {
    super('invalid_definition', message, options);
  }
}

/**
 * The sandbox stopped a workflow task: CPU deadline, memory limit, stack overflow, a record too
 * large to keep (`size`), or a reply the host cannot accept (`protocol`: the commands are malformed).
 */
export class SandboxLimitError extends AutoflowError {
  readonly limit: 'cpu' | 'memory' | 'stack' | 'size' | 'protocol';
  constructor(limit: SandboxLimitError['limit'], message: string) {
    super('sandbox_limit', message, { details: { limit } });
    this.limit = limit;
  }
}

/** Replaying a run's history produced a different command than the one recorded. */
export class NondeterminismError extends AutoflowError {
  constructor(message: string, details: Json) {
    super('nondeterminism', message, { details });
  }
}

/**
 * A capability call failed. `retryable` decides whether the engine tries again; `retryAfterMs`
 * (from a 429's Retry-After, say) overrides the backoff for the next attempt.
 */
export class CapabilityError extends AutoflowError {
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  constructor(
    code: string,
    message: string,
    options: { retryable: boolean; retryAfterMs?: number; cause?: unknown; details?: Json },
  ) {
    super(code, message, options);
    this.retryable = options.retryable;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** The store could not do what was asked (unreachable, schema too new, disk full…). */
export class StoreError extends AutoflowError {
  constructor(message: string, options?: { cause?: unknown; details?: Json }) {
    super('store_error', message, options);
  }
}

export class ConfigError extends AutoflowError {
  constructor(message: string, options?: { cause?: unknown; details?: Json }) {
    super('invalid_config', message, options);
  }
}

/** Turns anything caught into an Error, once, at the catch site. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  try {
    return new Error(`non-error thrown: ${JSON.stringify(value)}`);
  } catch {
    return new Error(`non-error thrown: ${String(value)}`);
  }
}

/** The form in which errors cross the sandbox boundary and enter history. */
export function toErrorInfo(value: unknown): ErrorInfo {
  const error = toError(value);
  const info: ErrorInfo = { name: error.name, message: error.message };
  if (error.stack) info.stack = error.stack;
  if (error instanceof AutoflowError) {
    // Object details are spread beside the code, so that a workflow reads `e.details.status`.
    const { details } = error;
    info.details =
      details === undefined
        ? { code: error.code }
        : details !== null && typeof details === 'object' && !Array.isArray(details)
          ? { ...details, code: error.code }
          : { code: error.code, data: details };
  }
  return info;
}
