import type { z } from 'zod';
import { CapabilityError } from '../core/errors.js';

/** Checks a call's arguments on the host; a workflow that passes bad ones gets a non-retryable error. */
export function parseArgs<T>(schema: z.ZodType<T>, args: unknown, call: string): T {
  const parsed = schema.safeParse(args);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(arguments)'}: ${issue.message}`);
  throw new CapabilityError('invalid_arguments', `${call} was called with invalid arguments: ${issues.join('; ')}`, {
    retryable: false,
    details: { issues },
  });
}
