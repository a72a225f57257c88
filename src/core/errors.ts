import type { ErrorInfo, Json } from './model.js';
import { cutText } from './text-cut.js';

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
 *
 * It becomes the run's error, stack included, so its stack is not where the host made it (that told a
 * workflow's author the server's file layout, and pointed away from their code): it is `where`, the author's
 * frames (`    at run (hogs.ts:9:5)`) or a line saying why there are none, under `Name: message`.
 */
export class SandboxLimitError extends AutoflowError {
  readonly limit: 'cpu' | 'memory' | 'stack' | 'size' | 'protocol';
  constructor(limit: SandboxLimitError['limit'], message: string, where: readonly string[] = []) {
    super('sandbox_limit', message, { details: { limit } });
    this.limit = limit;
    this.stack = [`${this.name}: ${message}`, ...where].join('\n');
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
  constructor(code: string, message: string, options: { retryable: boolean; retryAfterMs?: number; cause?: unknown; details?: Json }) {
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

/**
 * How many causes an error keeps when it crosses the sandbox boundary or enters history: room for a
 * wrapper or two around the root cause. Deeper causes are left out, and so is a cycle's repetition.
 */
export const MAX_CAUSE_DEPTH = 4;
/** A cause's message is cut, and its details left out, beyond this many characters: a cause explains, it does not carry data. */
export const MAX_CAUSE_CHARS = 2000;

/** A copy of `details` when they are JSON of at most `maxChars`; undefined otherwise. */
export function jsonDetailsOf(details: unknown, maxChars = Number.POSITIVE_INFINITY): Json | undefined {
  if (details === undefined) return undefined;
  try {
    const json = JSON.stringify(details);
    return json === undefined || json.length > maxChars ? undefined : (JSON.parse(json) as Json);
  } catch {
    // Details that are not JSON (a cycle, a BigInt) cannot travel; name and message still do.
    return undefined;
  }
}

/** An error's own `details`, when they are JSON of at most `maxChars`. */
export const ownDetailsOf = (error: Error, maxChars?: number): Json | undefined =>
  jsonDetailsOf((error as { details?: unknown }).details, maxChars);

/**
 * The details an error carries across the boundary. An AutoflowError's get its `code` beside them, so that
 * a workflow reads `e.details.status` and `e.details.code`, unless they have a `code` of their own (an
 * activity's error keeps the details its author gave it); other errors' are kept when they are JSON.
 */
function boundaryDetailsOf(error: Error, maxChars?: number): Json | undefined {
  const details = ownDetailsOf(error, maxChars);
  if (!(error instanceof AutoflowError)) return details;
  if (details === undefined) return { code: error.code };
  if (details === null || typeof details !== 'object' || Array.isArray(details)) return { code: error.code, data: details };
  return 'code' in details ? details : { ...details, code: error.code };
}

/**
 * An error's `cause` and the causes below it in boundary form, bounded: at most MAX_CAUSE_DEPTH of
 * them, no stacks (the top error's says where it happened), messages and details within MAX_CAUSE_CHARS.
 * The sandbox (sdk/errors.ts) uses it too, with `ownDetailsOf`: passing how details are read keeps
 * AutoflowError, which no sandbox error is, out of the bundle that QuickJS compiles for every run.
 */
export function causeInfoOf(
  cause: unknown,
  detailsOf: (error: Error, maxChars: number) => Json | undefined,
  keepWhole: readonly string[] = [],
  depth = 1,
): ErrorInfo | undefined {
  if (cause === undefined || cause === null || depth > MAX_CAUSE_DEPTH) return undefined;
  const error = toError(cause);
  const info: ErrorInfo = { name: String(error.name), message: cutText(String(error.message), MAX_CAUSE_CHARS, keepWhole) };
  const details = detailsOf(error, MAX_CAUSE_CHARS);
  if (details !== undefined) info.details = details;
  const next = causeInfoOf(error.cause, detailsOf, keepWhole, depth + 1);
  if (next !== undefined) info.cause = next;
  return info;
}

/** An error and what caused it, outermost first: the error, its cause, the cause's cause… */
export function causeChainOf(error: ErrorInfo): ErrorInfo[] {
  const chain: ErrorInfo[] = [];
  for (let link: ErrorInfo | undefined = error; link !== undefined && chain.length <= MAX_CAUSE_DEPTH; link = link.cause) chain.push(link);
  return chain;
}

/**
 * The form in which errors cross the sandbox boundary and enter history. The causes' messages are
 * not cut inside any of `secretValues`, which the caller then redacts (secrets.ts).
 */
/**
 * A recorded error as an Error for the server's log (`err`, which pino writes with `type`, `message`, `stack`, and
 * here `name`): a run's or a call's failure is found by the same log query as the server's own errors. Its stack is
 * the workflow's, not where this was made.
 */
export function loggedError(info: ErrorInfo): Error {
  const error = new Error(info.message);
  error.stack = info.stack ?? `${info.name}: ${info.message}`;
  // Own and enumerable, so that the log keeps the error's own name beside pino's `type` (the constructor's).
  Object.defineProperty(error, 'name', { value: info.name, enumerable: true });
  return error;
}

/** `error` without its stack, for an error whose frames are the server's own (a replay's), not the workflow's. */
export function withoutStack(error: ErrorInfo): ErrorInfo {
  const { stack: _stack, ...rest } = error;
  return rest;
}

export function toErrorInfo(value: unknown, secretValues: readonly string[] = []): ErrorInfo {
  const error = toError(value);
  const info: ErrorInfo = { name: error.name, message: error.message };
  if (error.stack) info.stack = error.stack;
  const details = boundaryDetailsOf(error);
  if (details !== undefined) info.details = details;
  const cause = causeInfoOf(error.cause, boundaryDetailsOf, secretValues);
  if (cause !== undefined) info.cause = cause;
  return info;
}
